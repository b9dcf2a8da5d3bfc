"""Turns a checked, normalised rule (see rules.py) into a Django Q over Customer.

Only called with what `rules.check` returned: field keys from the catalogue, operators the field
allows, typed values. ORM paths come from the catalogue; values go in as bound parameters.
"""

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import NotSupportedError
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Lookup,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
)
from django.utils import timezone

from kehu.commerce.models import PURCHASE_STATUSES, Category, Order
from kehu.customers.models import Customer
from kehu.loyalty.models import GroupDealStatus, GroupParticipant
from kehu.segments.rules_fields import RULE_FIELDS, RuleField

COUNTED_ORDER_STATUSES = PURCHASE_STATUSES
"""Orders that count as a purchase in rules: the same as in the metrics refresh."""

MONEY = DecimalField(max_digits=16, decimal_places=2)
COMPARISONS: dict[str, type[Lookup]] = {
    "eq": Exact,
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
}
PLAIN_LOOKUPS = {
    "eq": "exact",
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
    "in": "in",
    "contains": "icontains",
    "starts_with": "istartswith",
}
NEGATED = {"ne": "eq", "not_in": "in", "not_contains": "contains"}


class JsonListHasElement(Lookup):
    """`interests` (a JSON list of text) contains one element; SQLite has no JSON containment."""

    lookup_name = "kehu_list_has_element"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        raise NotSupportedError("Interests rules need SQLite or PostgreSQL.")

    def as_sqlite(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        column, params = self.process_lhs(compiler, connection)
        # `column` is the compiler's own SQL for the interests column; the value is a parameter.
        sql = f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = %s)"  # noqa: S608  # nosec B608  # the column is the compiler's SQL, the value a parameter
        return sql, [*params, self.rhs]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        column, params = self.process_lhs(compiler, connection)
        return f"({column})::jsonb @> %s::jsonb", [*params, json.dumps([self.rhs])]


def any_of(parts: list[Q]) -> Q:
    combined = Q(pk__in=[])
    for part in parts:
        combined |= part
    return combined


def all_of(parts: list[Q]) -> Q:
    combined = Q()
    for part in parts:
        combined &= part
    return combined


def compare_expression(expression: Any, operator: str, value: Any) -> Q:
    """A comparison of a computed value (a subquery total, a count) with the rule's value."""
    if operator == "between":
        return compare_expression(expression, "gte", value[0]) & compare_expression(
            expression, "lte", value[1]
        )
    if operator == "ne":
        return ~compare_expression(expression, "eq", value)
    output = expression.output_field
    return Q(COMPARISONS[operator](expression, Value(value, output_field=output)))


class RuleCompiler:
    """Builds the Q of a normalised rule as of `now` (the business's "today" for dates)."""

    def __init__(self, now: datetime, custom_fields: dict[str, RuleField]) -> None:
        self.now = now
        self.today = timezone.localdate(now)
        self.fields = {**RULE_FIELDS, **custom_fields}
        self.special: dict[str, Callable[[RuleField, dict[str, Any]], Q]] = {
            "age": self.age,
            "in_pool": lambda _f, c: Q(owner__isnull=c["op"] == "is_true"),
            "has_member_number": self.has_member_number,
            "interests": self.interests,
            "tags": self.tags,
            "purchased_within_days": lambda _f, c: Q(Exists(self.orders(c["days"]))),
            "orders_within_days": self.orders_within_days,
            "spent_within_days": self.spent_within_days,
            "bought_product": self.bought,
            "bought_category": self.bought,
            "group_buy_role": self.group_buy_role,
            "group_deals_joined": self.group_deals_joined,
        }

    def node(self, node: dict[str, Any]) -> Q:
        if "all" in node:
            return all_of([self.node(child) for child in node["all"]])
        if "any" in node:
            return any_of([self.node(child) for child in node["any"]])
        if "not" in node:
            return ~self.node(node["not"])
        rule_field = self.fields[node["field"]]
        if rule_field.key in self.special:
            return self.special[rule_field.key](rule_field, node)
        return self.plain(rule_field, node)

    def plain(self, rule_field: RuleField, condition: dict[str, Any]) -> Q:
        """A comparison of one column (or JSON key) with the value, by the field's fixed path."""
        operator, path = condition["op"], rule_field.path
        value: Any = condition.get("value")
        if rule_field.value_type == "money" and value is not None:
            value = [Decimal(item) for item in value] if isinstance(value, list) else Decimal(value)
        if operator in NEGATED:
            matching = self.plain(rule_field, {**condition, "op": NEGATED[operator]})
            return ~matching | Q(**{f"{path}__isnull": True})
        if operator == "between":
            return Q(**{f"{path}__gte": value[0], f"{path}__lte": value[1]})
        if operator in ("is_empty", "is_not_empty"):
            empty = Q(**{f"{path}__isnull": True})
            if rule_field.value_type in ("text", "choice"):
                empty |= Q(**{f"{path}__exact": ""})
            return empty if operator == "is_empty" else ~empty
        if operator in ("is_true", "is_false"):
            is_true = Q(**{f"{path}__exact": True})
            return is_true if operator == "is_true" else ~is_true | Q(**{f"{path}__isnull": True})
        if operator in ("within", "not_within"):
            return self.window(rule_field, operator, condition["days"])
        return Q(**{f"{path}__{PLAIN_LOOKUPS[operator]}": value})

    def window(self, rule_field: RuleField, operator: str, days: int) -> Q:
        """Within the last `days` days (a date column compares with the business's today)."""
        path = rule_field.path
        since: date | datetime = (
            self.now - timedelta(days=days)
            if path == "created_at"
            else self.today - timedelta(days=days)
        )
        if operator == "within":
            return Q(**{f"{path}__gte": since})
        return Q(**{f"{path}__lt": since})

    def birthday_before(self, years: int) -> date:
        """The latest birthday of someone at least `years` old today (29 Feb → 28 Feb)."""
        year = self.today.year - years
        try:
            return self.today.replace(year=year)
        except ValueError:
            return self.today.replace(year=year, day=28)

    def age_at_least(self, years: int) -> Q:
        return Q(birthday__lte=self.birthday_before(years))

    def age_below(self, years: int) -> Q:
        return Q(birthday__gt=self.birthday_before(years))

    def age(self, rule_field: RuleField, condition: dict[str, Any]) -> Q:
        operator, value = condition["op"], condition.get("value")
        known = Q(birthday__isnull=False)
        if operator in ("is_empty", "is_not_empty"):
            return ~known if operator == "is_empty" else known
        low, high = age_bounds(operator, value)
        matching = known
        if low is not None:
            matching &= self.age_at_least(low)
        if high is not None:
            matching &= self.age_below(high + 1)
        return known & ~matching if operator == "ne" else matching

    def has_member_number(self, rule_field: RuleField, condition: dict[str, Any]) -> Q:
        has_number = Q(member_number__isnull=False) & ~Q(member_number="")
        return has_number if condition["op"] == "is_true" else ~has_number

    def interests(self, rule_field: RuleField, condition: dict[str, Any]) -> Q:
        parts = [Q(JsonListHasElement(F("interests"), value)) for value in condition["value"]]
        if condition["op"] == "has_all":
            return all_of(parts)
        return any_of(parts) if condition["op"] == "has_any" else ~any_of(parts)

    def tags(self, rule_field: RuleField, condition: dict[str, Any]) -> Q:
        through = Customer.tags.through.objects.filter(customer_id=OuterRef("pk"))
        names = condition["value"]
        if condition["op"] == "has_all":
            return all_of([Q(Exists(through.filter(tag__name=name))) for name in names])
        tagged = Q(Exists(through.filter(tag__name__in=names)))
        return tagged if condition["op"] == "has_any" else ~tagged

    def orders(self, days: int) -> QuerySet[Order]:
        """The customer's purchases in the last `days` days."""
        return Order.objects.filter(
            customer_id=OuterRef("pk"),
            status__in=COUNTED_ORDER_STATUSES,
            ordered_at__gte=self.now - timedelta(days=days),
        )

    def orders_within_days(self, rule_field: RuleField, condition: dict[str, Any]) -> Q:
        counted = self.orders(condition["days"]).values("customer_id").annotate(count=Count("pk"))
        total = Coalesce(Subquery(counted.values("count")), 0, output_field=IntegerField())
        return compare_expression(total, condition["op"], condition["value"])

    def spent_within_days(self, rule_field: RuleField, condition: dict[str, Any]) -> Q:
        net = ExpressionWrapper(F("total_amount") - F("refunded_amount"), output_field=MONEY)
        spent = (
            self.orders(condition["days"])
            .values("customer_id")
            .annotate(spent=Sum(net, output_field=MONEY))
            .values("spent")
        )
        total = Coalesce(Subquery(spent), Value(Decimal("0")), output_field=MONEY)
        value = condition["value"]
        typed = [Decimal(item) for item in value] if isinstance(value, list) else Decimal(value)
        return compare_expression(total, condition["op"], typed)

    def bought(self, rule_field: RuleField, condition: dict[str, Any]) -> Q:
        """Bought a product (by SKU) or in a category (or its sub-categories), at least K times."""
        orders = self.orders(condition["days"])
        if rule_field.key == "bought_product":
            orders = orders.filter(lines__product__sku__in=condition["value"])
        else:
            orders = orders.filter(
                lines__product__category_id__in=with_descendants(condition["value"])
            )
        if condition["min_count"] <= 1:
            return Q(Exists(orders))
        counted = orders.values("customer_id").annotate(count=Count("pk", distinct=True))
        total = Coalesce(Subquery(counted.values("count")), 0, output_field=IntegerField())
        return compare_expression(total, "gte", condition["min_count"])

    def group_buy_role(self, rule_field: RuleField, condition: dict[str, Any]) -> Q:
        """Led (or joined) at least one group deal that succeeded; "is not" means never."""
        values = condition["value"]
        roles = values if isinstance(values, list) else [values]
        took_part = Q(Exists(successful_participations().filter(role__in=roles)))
        return ~took_part if condition["op"] in ("ne", "not_in") else took_part

    def group_deals_joined(self, rule_field: RuleField, condition: dict[str, Any]) -> Q:
        counted = successful_participations().values("customer_id").annotate(count=Count("pk"))
        total = Coalesce(Subquery(counted.values("count")), 0, output_field=IntegerField())
        return compare_expression(total, condition["op"], condition["value"])


def successful_participations() -> QuerySet[GroupParticipant]:
    """The outer customer's places in group deals that succeeded, as leader or participant."""
    return GroupParticipant.objects.filter(
        customer_id=OuterRef("pk"), deal__status=GroupDealStatus.SUCCEEDED
    )


def age_bounds(operator: str, value: Any) -> tuple[int | None, int | None]:
    """The youngest and oldest age (whole years, inclusive) an age condition accepts."""
    if operator == "between":
        return value[0], value[1]
    if operator in ("eq", "ne"):
        return value, value
    if operator in ("gt", "gte"):
        return (value + 1 if operator == "gt" else value), None
    return None, (value - 1 if operator == "lt" else value)


def with_descendants(category_ids: list[int]) -> list[int]:
    """The categories and every category below them (the tree is small: read it once)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, waiting = set(category_ids), list(category_ids)
    while waiting:
        for child in children.get(waiting.pop(), []):
            if child not in found:
                found.add(child)
                waiting.append(child)
    return sorted(found)


__all__ = ["COUNTED_ORDER_STATUSES", "RuleCompiler"]
