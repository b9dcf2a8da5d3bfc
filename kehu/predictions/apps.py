from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PredictionsConfig(AppConfig):
    name = "kehu.predictions"
    verbose_name = _("Predictions")

    def ready(self) -> None:
        from kehu.customers.merging import register_merge_handler
        from kehu.predictions import customer_panels, merging
        from kehu.predictions.rule_fields import add_prediction_fields

        add_prediction_fields()
        register_merge_handler(
            "predictions",
            merging.merge_churn_history,
            moves=merging.PREDICTION_MOVES,
            drops=merging.PREDICTION_DROPS,
        )
        customer_panels.register()
