"""Values every page's header needs: the navigation for the signed-in user's role and the
number of unread notifications."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy as pgettext

from kehu.accounts.notifications import unread_count
from kehu.accounts.permissions import may


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url: str
    section: str


def optional_url(name: str) -> str:
    """The URL of a page built elsewhere, or "" while that page does not exist yet."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    items = [
        NavItem(_("Home"), reverse("web:home"), "home"),
        NavItem(_("Customers"), reverse("customers:list"), "customers"),
        NavItem(_("Customer pool"), reverse("customers:pool"), "pool"),
        NavItem(_("Orders"), reverse("commerce:list"), "orders"),
    ]
    if may(user, "follow_up.use"):
        items.append(NavItem(_("Call-backs"), reverse("engagement:follow_ups"), "follow_ups"))
    segments_url = optional_url("segments:overview")
    if segments_url and may(user, "segment.use"):
        items.append(NavItem(_("Segments"), segments_url, "segments"))
        items.append(NavItem(_("Churn warnings"), reverse("predictions:churn"), "churn"))
        items.append(NavItem(_("Lifetime value"), reverse("predictions:clv"), "clv"))
    members_url = optional_url("loyalty:members")
    if members_url and may(user, "member.read"):
        items.append(NavItem(pgettext("loyalty", "Members"), members_url, "loyalty"))
    approvals_url = optional_url("loyalty:approvals")
    if approvals_url and may(user, "approval.read"):
        items.append(NavItem(_("Approvals"), approvals_url, "approvals"))
    import_url = optional_url("imports:start")
    if import_url and may(user, "data.import"):
        items.append(NavItem(_("Import"), import_url, "import"))
    if may(user, "settings.manage"):
        items.append(NavItem(_("Settings"), reverse("accounts:pool_settings"), "settings"))
    return {
        "nav_items": items,
        "import_url": import_url if may(user, "data.import") else "",
        "unread_notifications": unread_counter(user),
    }


def unread_counter(user: object) -> Callable[[], int]:
    """The unread count, asked of the database only when a template shows it and then only
    once, so htmx partials and pages without the header pay nothing."""
    return cache(lambda: unread_count(user))  # type: ignore[arg-type]
