"""The membership card on the customer page: card, tier and balance, or the enrol button."""

from typing import Any

from django import template

from kehu.accounts.permissions import may
from kehu.loyalty.members.services import membership_of

register = template.Library()


@register.inclusion_tag("loyalty/partials/customer_membership_card.html", takes_context=True)
def customer_membership(context: template.Context, customer: Any) -> dict[str, Any]:
    """Shown to the roles that serve members or run the programme (one query)."""
    user = context["user"]
    if not may(user, "member.read"):
        return {"show": False}
    return {
        "show": True,
        "customer": customer,
        "membership": membership_of(customer.pk),
        "can_enrol": may(user, "member.serve"),
        "csrf_token": context.get("csrf_token"),
    }
