"""kehu.analytics: customer analytics on any transactions table, with no Django.

The per-customer summary is one Ibis expression run where it is fastest (DuckDB over files,
Arrow or SQLite rows; PostgreSQL pushdown or Arrow), then scored with vectorised numpy: RFM
quintiles and segments, ABC classes, value tiers and lifecycle stages. Heavy libraries (ibis,
duckdb, pyarrow) are imported only when a function that needs them runs.

Examples
--------
>>> import datetime, pyarrow as pa
>>> from kehu.analytics import summary_from_arrow, score_rfm
>>> orders = pa.table({"customer_id": ["a", "a", "b"], "order_id": [1, 2, 3],
...     "date": ["2024-01-01", "2024-02-01", "2024-01-15"], "amount": [10.0, 30.0, 5.0]})
>>> summary = summary_from_arrow(orders, as_of=datetime.date(2024, 3, 1))
>>> score_rfm(summary)["segment"].to_pylist()
['Loyal Customers', 'Hibernating']
"""

from kehu.analytics._abc import DEFAULT_ABC_LABELS, DEFAULT_ABC_SHARES, abc_classes
from kehu.analytics._bgnbd import BetaGeoModel
from kehu.analytics._churn import (
    CHURN_LEVELS,
    CHURN_SIGNALS,
    ChurnInputs,
    ChurnRisk,
    ChurnWeights,
    churn_inputs,
    churn_levels,
    churn_risk,
    churn_signal_strengths,
    purchase_probability,
)
from kehu.analytics._churn_evaluation import (
    ChurnEvaluation,
    ChurnRuleScore,
    evaluate_churn_warning,
)
from kehu.analytics._clv import (
    CALIBRATION_COLUMNS,
    calibration_summary,
    calibration_summary_expression,
    calibration_summary_from_file,
    customer_lifetime_value,
    holdout_comparison,
)
from kehu.analytics._evaluation import evaluate_recommendations
from kehu.analytics._files import (
    RFM_OUTPUT_COLUMNS,
    FileRfm,
    TransactionFile,
    UnreadableValueError,
    rfm_from_file,
)
from kehu.analytics._fitting import NotFittedError
from kehu.analytics._gammagamma import GammaGammaModel
from kehu.analytics._lifecycle import LifecycleStage, LifecycleThresholds, lifecycle_stages
from kehu.analytics._paretonbd import ParetoNBDModel
from kehu.analytics._recommend import ItemCooccurrenceRecommender, PopularityRecommender
from kehu.analytics._scoring import SCORE_COLUMNS, quintile_scores, rfm_scores, score_rfm
from kehu.analytics._segments import (
    DEFAULT_SEGMENT_MAP,
    DEFAULT_SEGMENT_RULES,
    SegmentMap,
    SegmentRule,
    assign_segments,
    build_segment_map,
    validate_segment_map,
)
from kehu.analytics._sources import (
    MissingColumnError,
    SummaryOptions,
    TransactionDataError,
    summary_from_arrow,
    summary_from_file,
    summary_from_ibis,
    summary_from_postgres,
    summary_from_sqlite,
)
from kehu.analytics._summary import SUMMARY_COLUMNS, rfm_summary_expression
from kehu.analytics._tiers import VALUE_TIERS, TierRules, value_tiers

__all__ = [
    "CALIBRATION_COLUMNS",
    "CHURN_LEVELS",
    "CHURN_SIGNALS",
    "DEFAULT_ABC_LABELS",
    "DEFAULT_ABC_SHARES",
    "DEFAULT_SEGMENT_MAP",
    "DEFAULT_SEGMENT_RULES",
    "RFM_OUTPUT_COLUMNS",
    "SCORE_COLUMNS",
    "SUMMARY_COLUMNS",
    "VALUE_TIERS",
    "BetaGeoModel",
    "ChurnEvaluation",
    "ChurnInputs",
    "ChurnRisk",
    "ChurnRuleScore",
    "ChurnWeights",
    "FileRfm",
    "GammaGammaModel",
    "ItemCooccurrenceRecommender",
    "LifecycleStage",
    "LifecycleThresholds",
    "MissingColumnError",
    "NotFittedError",
    "ParetoNBDModel",
    "PopularityRecommender",
    "SegmentMap",
    "SegmentRule",
    "SummaryOptions",
    "TierRules",
    "TransactionDataError",
    "TransactionFile",
    "UnreadableValueError",
    "abc_classes",
    "assign_segments",
    "build_segment_map",
    "calibration_summary",
    "calibration_summary_expression",
    "calibration_summary_from_file",
    "churn_inputs",
    "churn_levels",
    "churn_risk",
    "churn_signal_strengths",
    "customer_lifetime_value",
    "evaluate_churn_warning",
    "evaluate_recommendations",
    "holdout_comparison",
    "lifecycle_stages",
    "purchase_probability",
    "quintile_scores",
    "rfm_from_file",
    "rfm_scores",
    "rfm_summary_expression",
    "score_rfm",
    "summary_from_arrow",
    "summary_from_file",
    "summary_from_ibis",
    "summary_from_postgres",
    "summary_from_sqlite",
    "validate_segment_map",
    "value_tiers",
]
