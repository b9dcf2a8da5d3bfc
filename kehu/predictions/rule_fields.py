"""What a segment rule may test of the predictions: churn risk and level, the next best action,
CLV, P(alive) and the value at stake. Added to the segments' catalogue (after the scores) when
the app is ready, so segments never imports predictions."""

from django.utils.translation import gettext_lazy as _

from kehu.predictions.models import ChurnLevel, NextAction
from kehu.segments.rules_fields import (
    CHOICE_OPERATORS,
    EMPTY_OPERATORS,
    NUMBER,
    NUMBER_OPERATORS,
    OPTIONAL_NUMBER,
    PREDICTIONS,
    RuleField,
    add_rule_fields,
    choices_of,
    field,
)

PREDICTION_FIELDS: list[RuleField] = [
    field(
        "churn_risk", _("Churn risk (0–100)"), PREDICTIONS, "number", NUMBER,
        path="prediction__churn_risk", whole_number=True,
    ),
    field(
        "churn_level", _("Churn level"), PREDICTIONS, "choice", CHOICE_OPERATORS,
        path="prediction__churn_level", choices=choices_of(ChurnLevel),
    ),
    field(
        "next_action", _("Next best action"), PREDICTIONS, "choice", CHOICE_OPERATORS,
        path="prediction__next_action", choices=choices_of(NextAction),
    ),
    field(
        "clv", _("Predicted lifetime value"), PREDICTIONS, "money",
        NUMBER_OPERATORS + EMPTY_OPERATORS, path="prediction__clv",
    ),
    field(
        "p_alive", _("Probability still active (0–1)"), PREDICTIONS, "number", OPTIONAL_NUMBER,
        path="prediction__p_alive",
    ),
    field(
        "value_at_stake", _("Value at stake (a year)"), PREDICTIONS, "money", NUMBER,
        path="prediction__value_at_stake",
    ),
]  # fmt: skip


def add_prediction_fields() -> None:
    add_rule_fields(PREDICTION_FIELDS, after="lifecycle_stage")
