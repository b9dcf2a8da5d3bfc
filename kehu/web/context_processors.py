"""Values every page's header needs: the navigation for the signed-in user's role."""

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


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
    segments_url = optional_url("segments:overview")
    if segments_url and user.policy.can_manage_segments:
        items.append(NavItem(_("Segments"), segments_url, "segments"))
    import_url = optional_url("imports:start")
    if import_url and user.policy.can_import:
        items.append(NavItem(_("Import"), import_url, "import"))
    if user.policy.can_manage_settings:
        items.append(NavItem(_("Settings"), reverse("accounts:pool_settings"), "settings"))
    return {"nav_items": items, "import_url": import_url if user.policy.can_import else ""}
