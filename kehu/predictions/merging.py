"""The predictions' part of a customer merge (registered in `PredictionsConfig.ready()`).

The churn-level history passes to the kept customer; the prediction itself is recomputed for
the kept customer at the next scoring.
"""

from kehu.accounts.models import User
from kehu.customers.models import Customer
from kehu.predictions.models import ChurnLevelChange

PREDICTION_MOVES = ("predictions.ChurnLevelChange.customer",)
PREDICTION_DROPS = {
    "predictions.CustomerPrediction.customer": (
        "recomputed for the kept customer at the next scoring of predictions"
    ),
}


def merge_churn_history(kept: Customer, merged: Customer, actor: User | None) -> dict[str, int]:
    return {
        "churn_level_changes": ChurnLevelChange.objects.filter(customer=merged).update(
            customer=kept
        )
    }
