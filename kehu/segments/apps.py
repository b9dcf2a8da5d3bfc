from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentsConfig(AppConfig):
    name = "kehu.segments"
    verbose_name = _("Segmentation")

    def ready(self) -> None:
        from kehu.segments import event_handlers  # noqa: F401  (registers the handlers)
