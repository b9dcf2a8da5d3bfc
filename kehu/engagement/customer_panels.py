"""The engagement panels of the customer page: the planned call-backs (beside the profile) and
the interactions with the quick log form (under the order figures)."""

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from kehu.accounts.models import User
from kehu.accounts.permissions import may
from kehu.customers.models import Customer
from kehu.customers.panels import register_customer_panel
from kehu.engagement.forms import FollowUpPlanForm, InteractionForm
from kehu.engagement.models import Interaction
from kehu.engagement.queries import open_follow_ups_of


def follow_ups_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    can_log = may(user, "customer.log_interaction", customer)
    return {
        "open_follow_ups": open_follow_ups_of(customer, timezone.localdate()),
        "follow_up_form": FollowUpPlanForm() if can_log else None,
    }


def interactions_context(request: HttpRequest, customer: Customer) -> dict[str, Any]:
    return {
        "interactions": Interaction.objects.filter(customer=customer).select_related("staff")[:50],
        "log_form": InteractionForm(),
    }


def register() -> None:
    register_customer_panel(
        "engagement.follow_ups",
        "engagement/partials/customer_follow_ups.html",
        follow_ups_context,
        order=30,
    )
    register_customer_panel(
        "engagement.interactions",
        "engagement/partials/customer_interactions.html",
        interactions_context,
        slot="main",
        order=10,
    )
