from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "kehu.segments"
    verbose_name = _("Segmentation")

    def ready(self) -> None:
        from kehu.accounts.permissions import register_rule
        from kehu.customers.merging import register_merge_handler
        from kehu.segments import customer_panels, merging
        from kehu.segments.queries import created_it

        register_rule("segment.edit", created_it)

        register_merge_handler(
            "segments",
            merging.merge_segments,
            moves=merging.SEGMENT_MOVES,
            drops=merging.SEGMENT_DROPS,
        )
        customer_panels.register()
        from kehu.segments import event_handlers  # noqa: F401  (registers the handlers)
