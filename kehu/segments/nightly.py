"""The whole segmentation refresh, run nightly and by `kehu segments refresh`: metrics and scores
first, then the predictions (which read the tiers and stages, and which segment rules may test),
then the saved segments and the automatic tags that read them.

The predictions belong to kehu.predictions, which may import segments but not the other way:
the chain runs them by path (PREDICTIONS_REFRESH) and reads their report through
`PredictionSummary`."""

import datetime
from dataclasses import dataclass
from typing import Protocol

from django.utils import timezone
from django.utils.module_loading import import_string

from kehu.segments.autotags import apply_auto_tag_rules, ensure_default_auto_tag_rules
from kehu.segments.refresh import RefreshReport, refresh_all_metrics
from kehu.segments.services import refresh_all_segments

PREDICTIONS_REFRESH = "kehu.predictions.refresh.refresh_predictions"


class PredictionSummary(Protocol):
    """What the chain and `kehu segments refresh` read of a predictions refresh."""

    levels: dict[str, int]
    newly_warned: int
    fit_message: str
    seconds: dict[str, float]

    @property
    def total_seconds(self) -> float: ...

    def summary_lines(self) -> list[str]: ...


@dataclass(frozen=True)
class SegmentationReport:
    metrics: RefreshReport
    predictions: PredictionSummary
    segments_refreshed: int
    tag_changes: int


def refresh_segmentation(now: datetime.datetime | None = None) -> SegmentationReport:
    """Recompute everyone's scores and predictions, then every dynamic segment and every
    automatic tag, all as of the same moment."""
    now = now or timezone.now()
    metrics = refresh_all_metrics(now)
    predictions: PredictionSummary = import_string(PREDICTIONS_REFRESH)(now)
    segments_refreshed = refresh_all_segments(now)
    ensure_default_auto_tag_rules()
    return SegmentationReport(metrics, predictions, segments_refreshed, apply_auto_tag_rules(now))
