from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PredictionsConfig(AppConfig):
    name = "kehu.predictions"
    verbose_name = _("Predictions")

    def ready(self) -> None:
        from kehu.predictions.rule_fields import add_prediction_fields

        add_prediction_fields()
