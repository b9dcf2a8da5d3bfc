"""The whole segmentation refresh, run nightly and by `kehu segments refresh`: metrics and scores
first, then the predictions (which read the tiers and stages, and which segment rules may test),
then the saved segments and the automatic tags that read them."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from kehu.segments.autotags import apply_auto_tag_rules, ensure_default_auto_tag_rules
from kehu.segments.predictions import PredictionReport, refresh_predictions
from kehu.segments.refresh import RefreshReport, refresh_all_metrics
from kehu.segments.services import refresh_all_segments


@dataclass(frozen=True)
class SegmentationReport:
    metrics: RefreshReport
    predictions: PredictionReport
    segments_refreshed: int
    tag_changes: int


def refresh_segmentation(now: datetime.datetime | None = None) -> SegmentationReport:
    """Recompute everyone's scores and predictions, then every dynamic segment and every
    automatic tag, all as of the same moment."""
    now = now or timezone.now()
    metrics = refresh_all_metrics(now)
    predictions = refresh_predictions(now)
    segments_refreshed = refresh_all_segments(now)
    ensure_default_auto_tag_rules()
    return SegmentationReport(metrics, predictions, segments_refreshed, apply_auto_tag_rules(now))
