from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommerceConfig(AppConfig):
    name = "kehu.commerce"
    verbose_name = _("Commerce")

    def ready(self) -> None:
        from kehu.accounts.permissions import register_rule
        from kehu.commerce.queries import works_at

        register_rule("store.serve", works_at)
