"""Reads of the earning rules for their page, export and the API: search, state, sort."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from kehu.core import lists
from kehu.core.lists import ListFilters
from kehu.loyalty.models import EarningRule
from kehu.loyalty.points.earning_rules import rule_state

RULE_SORTS = {
    "name": "name",
    "multiplier": "multiplier",
    "starts": "starts_on",
    "ends": "ends_on",
    "created": "created_at",
}
DEFAULT_RULE_SORT = "-created"
STATES = {
    "running": pgettext_lazy("earning rule", "Running"),
    "upcoming": pgettext_lazy("earning rule", "Upcoming"),
    "ended": pgettext_lazy("earning rule", "Ended"),
    "inactive": pgettext_lazy("earning rule", "Not active"),
}
SCOPE_WHOLE_ORDER = gettext_lazy("Whole order")


@dataclass(frozen=True)
class RuleFilters(ListFilters):
    search: str = lists.search(placeholder=gettext_lazy("Rule, category or store"))
    state: str = lists.choice("state", STATES, label=gettext_lazy("State"))
    sort: str = lists.sort(RULE_SORTS, default=DEFAULT_RULE_SORT, both_directions=True)


def state_filter(state: str, today: datetime.date) -> Q:
    """The rules in `state` today, as rule_state() tells them apart."""
    started = Q(starts_on__isnull=True) | Q(starts_on__lte=today)
    not_ended = Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    return {
        "inactive": Q(is_active=False),
        "upcoming": Q(is_active=True, starts_on__gt=today),
        "ended": Q(is_active=True, ends_on__lt=today) & started,
        "running": Q(is_active=True) & started & not_ended,
    }[state]


def search_rules(filters: RuleFilters, today: datetime.date) -> QuerySet[EarningRule]:
    rules = EarningRule.objects.select_related("category", "store", "created_by")
    if filters.search:
        rules = rules.filter(
            Q(name__icontains=filters.search)
            | Q(category__name__icontains=filters.search)
            | Q(store__name__icontains=filters.search)
        )
    if filters.state:
        rules = rules.filter(state_filter(filters.state, today))
    column = F(RULE_SORTS[filters.sort.lstrip("-")])
    ordered = column.desc(nulls_last=True) if filters.sort.startswith("-") else column.asc()
    return rules.order_by(ordered, "-pk")


def state_label(rule: EarningRule, today: datetime.date) -> str:
    return str(STATES[rule_state(rule, today)])


def scope_label(rule: EarningRule) -> str:
    return rule.category.name if rule.category else str(SCOPE_WHOLE_ORDER)


def rule_export_headers() -> list[str]:
    return [
        _("Rule"),
        _("Points multiplier"),
        _("Applies to"),
        _("Store"),
        _("From"),
        _("Until"),
        _("State"),
    ]


def rule_export_rows(filters: RuleFilters, today: datetime.date) -> Iterator[list[Any]]:
    for rule in search_rules(filters, today).iterator(chunk_size=500):
        yield [
            rule.name,
            rule.multiplier,
            scope_label(rule),
            rule.store.name if rule.store else _("Every store"),
            rule.starts_on or "",
            rule.ends_on or "",
            state_label(rule, today),
        ]
