"""Panels other apps add to the customer page (客户360).

The customers app does not know the apps above it; each one registers its panels here from its
``AppConfig.ready()``: a template, a function answering the template's context for the customer
(it has passed the permission layer and its contacts are masked as the user may see them), where
the panel goes (``aside`` under the profile, ``main`` under the order figures) and in what order,
and optionally who sees it. The page's own context is there too (``customer``, ``can_log``,
``has_orders``, …); a panel's keys may not overwrite it or another panel's.
"""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from kehu.accounts.models import User
from kehu.customers.models import Customer

type Slot = Literal["aside", "main"]
type PanelContext = Callable[[HttpRequest, Customer], Mapping[str, Any]]
type PanelShown = Callable[[User, Customer], bool]

SLOTS: tuple[Slot, ...] = ("aside", "main")


@dataclass(frozen=True)
class CustomerPanel:
    key: str
    template_name: str
    context: PanelContext | None = None
    slot: Slot = "aside"
    order: int = 100
    is_shown: PanelShown | None = None
    # One-to-one relations of the customer the panel reads: the page fetches them with the
    # customer, in the same query.
    related: tuple[str, ...] = ()


_panels: dict[str, CustomerPanel] = {}


def register_customer_panel(
    key: str,
    template_name: str,
    context: PanelContext | None = None,
    *,
    slot: Slot = "aside",
    order: int = 100,
    is_shown: PanelShown | None = None,
    related: tuple[str, ...] = (),
) -> CustomerPanel:
    """Add (or replace, under the same key) a panel of the customer page."""
    if slot not in SLOTS:
        raise ImproperlyConfigured(f"Customer panel {key!r}: unknown slot {slot!r}.")
    panel = CustomerPanel(key, template_name, context, slot, order, is_shown, related)
    _panels[key] = panel
    return panel


def panel_relations() -> tuple[str, ...]:
    """The one-to-one relations every panel reads, to fetch with the customer."""
    return tuple(sorted({name for panel in _panels.values() for name in panel.related}))


def unregister_customer_panel(key: str) -> CustomerPanel | None:
    return _panels.pop(key, None)


def customer_panels(
    request: HttpRequest, customer: Customer, page_keys: Collection[str]
) -> tuple[dict[Slot, list[CustomerPanel]], dict[str, Any]]:
    """The panels the user sees, by slot and in order, and the context they need together."""
    user: User = request.user  # type: ignore[assignment]
    shown = sorted(
        (
            panel
            for panel in _panels.values()
            if panel.is_shown is None or panel.is_shown(user, customer)
        ),
        key=lambda panel: (panel.order, panel.key),
    )
    context: dict[str, Any] = {}
    for panel in shown:
        values = panel.context(request, customer) if panel.context else {}
        taken = (set(page_keys) | set(context)) & set(values)
        if taken:
            raise ImproperlyConfigured(
                f"Customer panel {panel.key!r} sets context already set: {sorted(taken)}."
            )
        context.update(values)
    by_slot = {slot: [panel for panel in shown if panel.slot == slot] for slot in SLOTS}
    return by_slot, context
