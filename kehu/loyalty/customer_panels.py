"""The loyalty panel of the customer page: the membership card (its template tag reads it)."""

from kehu.customers.panels import register_customer_panel


def register() -> None:
    register_customer_panel(
        "loyalty.membership", "loyalty/partials/customer_membership.html", order=40
    )
