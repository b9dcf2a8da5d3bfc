from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    name = "kehu.loyalty"
    verbose_name = _("Loyalty")

    def ready(self) -> None:
        from kehu.loyalty import event_handlers  # noqa: F401  (registers the handlers)
