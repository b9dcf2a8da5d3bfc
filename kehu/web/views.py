"""The home page: what to do next for the signed-in user."""

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone

from kehu.accounts.models import PoolPolicy, User
from kehu.accounts.permissions import may
from kehu.customers.models import Customer
from kehu.customers.queries import pool_customers, visible_customers
from kehu.engagement.models import Interaction

# Customers this many days short of the automatic return are shown as needing a call.
WARNING_DAYS = 7


def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    visible = visible_customers(user)
    policy = PoolPolicy.current()
    due_for_follow_up = needing_follow_up(visible.filter(owner=user), policy)
    week_ago = timezone.now() - timedelta(days=7)
    context = {
        "has_customers": visible.exists(),
        # Salespeople count what they own; everyone else what they may see.
        "customer_count": visible.filter(owner=user).count()
        if may(user, "customer.claim")
        else visible.count(),
        "pool_count": pool_customers(user).count(),
        "contacts_this_week": Interaction.objects.filter(
            staff=user, occurred_at__gte=week_ago
        ).count(),
        "policy": policy,
        "due_for_follow_up": due_for_follow_up,
        "recent_interactions": recent_contacts(user, visible),
        "section": "home",
    }
    return render(request, "web/home.html", context)


def recent_contacts(user: User, visible: QuerySet[Customer], limit: int = 8) -> list[Interaction]:
    """The user's own latest contacts, leaving out customers they may no longer see.

    Read through the staff index first and then checked against the visible set by id, so the
    page never has to compare every interaction with every visible customer.
    """
    latest = list(
        Interaction.objects.filter(staff=user)
        .select_related("customer")
        .order_by("-occurred_at", "-id")[: limit * 3]
    )
    visible_ids = set(
        visible.filter(pk__in={item.customer_id for item in latest}).values_list("pk", flat=True)
    )
    return [item for item in latest if item.customer_id in visible_ids][:limit]


def needing_follow_up(owned, policy: PoolPolicy) -> list:
    """Owned customers whose last follow-up is close to the pool's automatic-return limit."""
    days = max(policy.auto_return_days - WARNING_DAYS, 0)
    cutoff = timezone.now() - timedelta(days=days)
    stale = owned.filter(
        Q(last_followed_up_at__lt=cutoff)
        | Q(last_followed_up_at__isnull=True, owned_since__lt=cutoff)
    )
    customers = list(stale.order_by("last_followed_up_at", "owned_since")[:10])
    now = timezone.now()
    for customer in customers:
        reference = customer.last_followed_up_at or customer.owned_since or now
        customer.days_left = max(policy.auto_return_days - (now - reference).days, 0)
    return customers


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 400 page, saying what was wrong with the request (Django's own says nothing)."""
    body = render(request, "400.html", {"exception": exception}).content
    return HttpResponseBadRequest(body)
