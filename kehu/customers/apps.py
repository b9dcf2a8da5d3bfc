from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kehu.customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from kehu.accounts.permissions import register_rule
        from kehu.customers.queries import logs_with, within_scope

        register_rule("customer.edit", within_scope)
        register_rule("customer.see_contact", within_scope)
        register_rule("customer.log_interaction", logs_with)
        from kehu.customers.merging import register_merge_handler
        from kehu.customers.services import move_customer_records

        register_merge_handler(
            "customers",
            move_customer_records,
            moves=[
                "customers.OwnershipChange.customer",
                "customers.CustomerMerge.kept",
                # Until the commerce app registers a merge handler of its own.
                "commerce.Order.customer",
            ],
        )
