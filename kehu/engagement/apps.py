from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EngagementConfig(AppConfig):
    name = "kehu.engagement"
    verbose_name = _("Engagement")

    def ready(self) -> None:
        from kehu.customers.merging import register_merge_handler
        from kehu.engagement import customer_panels
        from kehu.engagement.merging import MOVES, merge_engagement

        register_merge_handler("engagement", merge_engagement, moves=MOVES)
        customer_panels.register()
