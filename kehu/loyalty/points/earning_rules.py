"""Earning rules (积分规则): points multipliers beyond the tier's, for a product category or a
whole order, at one store or all, always or within dates (a bonus event such as double points
over 双11).

How an order's multiplier is found: every line takes the highest multiplier among the rules
that cover it (whole-order rules cover every line; a category rule covers the lines of that
category and its subcategories); a line no rule covers keeps 1. The order's multiplier is the
average of its lines' multipliers weighted by the lines' amounts, so ¥100 of fresh food at ×3 and
¥100 of other goods at ×1 earn as ¥200 at ×2. An order without lines takes the highest
whole-order rule. Rules never stack: the highest counts, which keeps the points a customer sees
predictable. A rule applies by the day the order was placed (local time).
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.commerce.models import Category, OrderLine, Store
from kehu.loyalty.models import EarningRule

MAX_MULTIPLIER = Decimal(10)
ONE = Decimal(1)

LineRow = tuple[Decimal, int | None]
"""(line amount, product category id or None)."""


@dataclass(frozen=True)
class Boost:
    """An order's rule multiplier as an exact fraction (``numerator / denominator``), and the
    names of the rules that gave it, for the points statement."""

    numerator: Decimal = ONE
    denominator: Decimal = ONE
    rule_names: tuple[str, ...] = ()

    @property
    def is_neutral(self) -> bool:
        return self.numerator == self.denominator


NO_BOOST = Boost()


@dataclass(frozen=True)
class LiveRule:
    """A rule in force, with the categories it covers worked out (None: the whole order)."""

    name: str
    multiplier: Decimal
    category_ids: frozenset[int] | None
    store_id: int | None
    starts_on: datetime.date | None
    ends_on: datetime.date | None

    def applies_on(self, day: datetime.date, store_id: int | None) -> bool:
        return (
            (self.store_id is None or self.store_id == store_id)
            and (self.starts_on is None or self.starts_on <= day)
            and (self.ends_on is None or day <= self.ends_on)
        )


@dataclass(frozen=True)
class RuleBook:
    """The active rules, read once for an order or for a whole bulk run."""

    rules: tuple[LiveRule, ...] = ()
    cache: dict[tuple[datetime.date, int | None], tuple[LiveRule, ...]] = field(
        default_factory=dict, compare=False
    )

    @classmethod
    def load(cls, on_or_after: datetime.date | None = None) -> "RuleBook":
        """Active rules (those ended before `on_or_after` left out: no order they could cover
        is waiting)."""
        rules = EarningRule.objects.filter(is_active=True)
        if on_or_after is not None:
            rules = rules.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on_or_after))
        rows = list(rules.order_by("pk"))
        if not rows:
            return cls()
        subcategories = category_descendants() if any(row.category_id for row in rows) else {}
        return cls(tuple(live_rule(row, subcategories) for row in rows))

    @property
    def is_empty(self) -> bool:
        return not self.rules

    @property
    def needs_lines(self) -> bool:
        return any(rule.category_ids is not None for rule in self.rules)

    def rules_for(self, day: datetime.date, store_id: int | None) -> tuple[LiveRule, ...]:
        key = (day, store_id)
        if key not in self.cache:
            self.cache[key] = tuple(rule for rule in self.rules if rule.applies_on(day, store_id))
        return self.cache[key]

    def boost(
        self, day: datetime.date, store_id: int | None, lines: Sequence[LineRow] = ()
    ) -> Boost:
        rules = self.rules_for(day, store_id)
        if not rules:
            return NO_BOOST
        whole_order = max(
            (rule for rule in rules if rule.category_ids is None),
            key=lambda rule: rule.multiplier,
            default=None,
        )
        weights = [(max(amount, Decimal(0)), category) for amount, category in lines]
        total = sum((amount for amount, _category in weights), Decimal(0))
        if total <= 0:
            if whole_order is None:
                return NO_BOOST
            return Boost(whole_order.multiplier, ONE, (whole_order.name,))
        numerator = Decimal(0)
        used: dict[str, None] = {}
        for amount, category in weights:
            best = best_rule(rules, whole_order, category)
            numerator += amount * (best.multiplier if best else ONE)
            if best is not None and amount > 0:
                used[best.name] = None
        return Boost(numerator, total, tuple(used))


def best_rule(
    rules: Iterable[LiveRule], whole_order: LiveRule | None, category: int | None
) -> LiveRule | None:
    """The highest rule covering a line of `category` (a whole-order rule covers every line)."""
    covering = [whole_order] if whole_order is not None else []
    if category is not None:
        covering += [
            rule
            for rule in rules
            if rule.category_ids is not None and category in rule.category_ids
        ]
    return max(covering, key=lambda rule: rule.multiplier, default=None)


def live_rule(rule: EarningRule, subcategories: dict[int, frozenset[int]]) -> LiveRule:
    categories = None if rule.category_id is None else subcategories[rule.category_id]
    return LiveRule(
        rule.name, rule.multiplier, categories, rule.store_id, rule.starts_on, rule.ends_on
    )


def category_descendants() -> dict[int, frozenset[int]]:
    """Every category with itself and all categories below it (categories are few)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for category_id, parent_id in Category.objects.values_list("pk", "parent_id"):
        children[parent_id].append(category_id)
    below: dict[int, frozenset[int]] = {}

    def collect(category_id: int, seen: frozenset[int]) -> frozenset[int]:
        if category_id not in below:
            found = {category_id}
            for child in children[category_id]:
                if child not in seen:  # a cycle in bad data must not loop forever
                    found |= collect(child, seen | {category_id})
            below[category_id] = frozenset(found)
        return below[category_id]

    for category_id in [pk for ids in children.values() for pk in ids]:
        collect(category_id, frozenset())
    return below


def order_lines(**where: object) -> dict[int, list[LineRow]]:
    """The lines of the orders `where` selects, as (amount, category) by order."""
    lines: dict[int, list[LineRow]] = defaultdict(list)
    rows = OrderLine.objects.filter(**where).values_list(
        "order_id", "amount", "product__category_id"
    )
    for order_id, amount, category_id in rows:
        lines[order_id].append((amount, category_id))
    return lines


def boost_for_order(order_id: int, ordered_at: datetime.datetime, store_id: int | None) -> Boost:
    """The rule multiplier of one order (two small queries when rules exist, none otherwise)."""
    book = RuleBook.load(timezone.localdate(ordered_at))
    if book.is_empty:
        return NO_BOOST
    lines = order_lines(order_id=order_id).get(order_id, []) if book.needs_lines else []
    return book.boost(timezone.localdate(ordered_at), store_id, lines)


def boosted_reason(reason: str, boost: Boost) -> str:
    if boost.is_neutral or not boost.rule_names:
        return reason
    return _("%(reason)s; earning rules: %(rules)s") % {
        "reason": reason,
        "rules": ", ".join(boost.rule_names),
    }


# --- keeping the rules ------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleInput:
    name: str
    multiplier: Decimal
    category_id: int | None = None
    store_id: int | None = None
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None
    is_active: bool = True


def save_earning_rule(actor: User, rule_id: int | None, data: RuleInput) -> EarningRule:
    """Add a rule, or change one. A change applies to orders that earn from now on; points
    already earned stay as they were."""
    require(actor, "loyalty.manage")
    check_rule(data)
    rule = EarningRule(created_by=actor) if rule_id is None else rule_by_id(rule_id)
    rule.name = data.name.strip()
    rule.multiplier = data.multiplier
    rule.category_id, rule.store_id = data.category_id, data.store_id
    rule.starts_on, rule.ends_on, rule.is_active = data.starts_on, data.ends_on, data.is_active
    rule.save()
    return rule


def rule_by_id(rule_id: int) -> EarningRule:
    rule = EarningRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise Http404(_("There is no earning rule %(id)s.") % {"id": rule_id})
    return rule


def check_rule(data: RuleInput) -> None:
    problems: dict[str, str] = {}
    if not data.name.strip():
        problems["name"] = _("Give the rule a name.")
    elif len(data.name.strip()) > 100:
        problems["name"] = _("A name has at most 100 characters.")
    if not Decimal(0) < data.multiplier <= MAX_MULTIPLIER:
        problems["multiplier"] = _("The multiplier must be above 0 and at most 10.")
    elif data.multiplier != data.multiplier.quantize(Decimal("0.01")):
        problems["multiplier"] = _("The multiplier has at most two decimals.")
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        problems["ends_on"] = _("The rule must end on or after the day it starts.")
    if data.category_id is not None and not Category.objects.filter(pk=data.category_id).exists():
        problems["category"] = _("There is no such product category.")
    if data.store_id is not None and not Store.objects.filter(pk=data.store_id).exists():
        problems["store"] = _("There is no such store.")
    if problems:
        raise ValidationError(problems)


def rule_state(rule: EarningRule, today: datetime.date) -> str:
    """Where a rule stands today: "inactive", "upcoming", "running" or "ended"."""
    if not rule.is_active:
        return "inactive"
    if rule.starts_on and today < rule.starts_on:
        return "upcoming"
    if rule.ends_on and rule.ends_on < today:
        return "ended"
    return "running"
