"""The segment rule language: JSON rules checked against a whitelist and compiled to a Django Q.

A rule is a condition or a group, nested at most MAX_DEPTH deep::

    {"all": [{"field": "city", "op": "in", "value": ["上海", "杭州"]},
             {"field": "spent_within_days", "op": "gt", "value": 2000, "days": 180},
             {"not": {"field": "purchased_within_days", "days": 45}}]}

Groups are `all` (and), `any` (or) and `not`. A condition names a field of RULE_FIELDS (or
`custom.<key>` of an existing custom attribute), an operator that field allows and a value of
its type. Validation collects every problem under a path such as `all.2.value`, in the active
language. Compiling never builds SQL text from the rule: values become bound parameters through
the ORM, and field names are looked up in the catalogue, never passed through.
"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from kehu.customers.models import CustomAttribute
from kehu.segments.rules_fields import (
    CUSTOM_PREFIX,
    LIST_VALUE_OPERATORS,
    NO_VALUE_OPERATORS,
    RULE_FIELDS,
    RuleField,
    custom_field,
    rule_field_catalogue,
)

__all__ = [
    "MAX_CONDITIONS",
    "MAX_DEPTH",
    "RULE_FIELDS",
    "compile_rule",
    "rule_field_catalogue",
    "validate_rule",
]

MAX_CONDITIONS = 50
MAX_NODES = 2 * MAX_CONDITIONS
MAX_DEPTH = 5
MAX_TEXT = 200
MAX_VALUES = 100
MAX_DAYS = 3650
MAX_MIN_COUNT = 1000
MAX_NUMBER = Decimal("1000000000000")
GROUP_KEYS = ("all", "any", "not")
CONDITION_KEYS = ("field", "op", "value", "days", "min_count")
# A custom attribute key usable in an ORM path: no "__" (Django's lookup separator), no digits
# first (a JSON array index), nothing but letters, digits, "-" and single "_".
SAFE_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9-]*(?:_[A-Za-z0-9-]+)*$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadValue(Exception):
    """A value that does not fit; the message is for people."""


def child_path(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


@dataclass
class RuleChecker:
    """Walks a rule once: normalises it, remembers the fields it uses, collects every error."""

    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    condition_count: int = 0
    node_count: int = 0
    fields: dict[str, RuleField] = field(default_factory=dict)
    attributes: dict[str, CustomAttribute] | None = None

    def fail(self, path: str, message: str) -> None:
        self.errors[path or NON_FIELD_ERRORS].append(message)

    def check(self, rule: Any) -> dict[str, Any] | None:
        if not isinstance(rule, dict):
            self.fail("", _("The rule must be a JSON object."))
            return None
        return self.node(rule, "", 1)

    def node(self, node: Any, path: str, depth: int) -> dict[str, Any] | None:
        self.node_count += 1
        if self.node_count > MAX_NODES:
            if self.node_count == MAX_NODES + 1:
                self.fail("", _("The rule is too large (at most %(limit)d conditions and groups).")
                          % {"limit": MAX_NODES})  # fmt: skip
            return None
        if not isinstance(node, dict):
            self.fail(path, _("Expected a group or a condition (a JSON object)."))
            return None
        groups = [key for key in GROUP_KEYS if key in node]
        if not groups and "field" not in node:
            self.fail(path, _("A group needs “all”, “any” or “not”; a condition needs “field”."))
            return None
        if groups:
            return self.group(node, groups, path, depth)
        return self.condition(node, path)

    def group(
        self, node: dict[str, Any], groups: list[str], path: str, depth: int
    ) -> dict[str, Any] | None:
        if len(node) != 1:
            self.fail(path, _("A group has exactly one key: “all”, “any” or “not”."))
            return None
        if depth > MAX_DEPTH:
            self.fail(path, _("Groups are nested too deeply (at most %(limit)d levels).")
                      % {"limit": MAX_DEPTH})  # fmt: skip
            return None
        kind = groups[0]
        if kind == "not":
            inner = self.node(node["not"], child_path(path, "not"), depth + 1)
            return None if inner is None else {"not": inner}
        children = node[kind]
        if not isinstance(children, list):
            self.fail(child_path(path, kind), _("Expected a list of conditions."))
            return None
        checked = [
            self.node(child, child_path(child_path(path, kind), index), depth + 1)
            for index, child in enumerate(children[: MAX_CONDITIONS + 1])
        ]
        if any(child is None for child in checked):
            return None
        return {kind: checked}

    def condition(self, node: dict[str, Any], path: str) -> dict[str, Any] | None:
        self.condition_count += 1
        if self.condition_count == MAX_CONDITIONS + 1:
            self.fail("", _("Too many conditions (at most %(limit)d).") % {"limit": MAX_CONDITIONS})
        for key in node:
            if key not in CONDITION_KEYS:
                self.fail(child_path(path, str(key)[:50]), _("Unknown key in a condition."))
        rule_field = self.rule_field(node.get("field"), child_path(path, "field"))
        if rule_field is None:
            return None
        operator = self.operator(rule_field, node.get("op"), child_path(path, "op"))
        if operator is None:
            return None
        checked: dict[str, Any] = {"field": rule_field.key, "op": operator}
        problems = len(self.errors)
        if operator not in NO_VALUE_OPERATORS:
            checked["value"] = self.value(rule_field, operator, node.get("value"), path)
        if rule_field.needs_days and operator not in ("is_empty", "is_not_empty"):
            checked["days"] = self.whole(node.get("days"), child_path(path, "days"), 1, MAX_DAYS)
        if rule_field.counts_purchases:
            checked["min_count"] = self.whole(
                node.get("min_count", 1), child_path(path, "min_count"), 1, MAX_MIN_COUNT
            )
        return checked if len(self.errors) == problems else None

    def rule_field(self, key: Any, path: str) -> RuleField | None:
        if not isinstance(key, str) or not key:
            self.fail(path, _("Choose a field."))
            return None
        if key.startswith(CUSTOM_PREFIX):
            return self.custom_rule_field(key, path)
        if key not in RULE_FIELDS:
            self.fail(path, _("Unknown field “%(field)s”.") % {"field": key[:100]})
            return None
        return RULE_FIELDS[key]

    def custom_rule_field(self, key: str, path: str) -> RuleField | None:
        attribute_key = key[len(CUSTOM_PREFIX) :]
        if self.attributes is None:
            self.attributes = {
                attribute.key: attribute for attribute in CustomAttribute.objects.all()
            }
        attribute = self.attributes.get(attribute_key)
        if attribute is None or not SAFE_ATTRIBUTE_KEY.match(attribute_key):
            self.fail(path, _("Unknown custom attribute “%(key)s”.") % {"key": attribute_key[:100]})
            return None
        rule_field = custom_field(attribute)
        self.fields[rule_field.key] = rule_field
        return rule_field

    def operator(self, rule_field: RuleField, operator: Any, path: str) -> str | None:
        if operator is None and len(rule_field.operators) == 1:
            return rule_field.operators[0]
        if operator not in rule_field.operators:
            self.fail(
                path,
                _("“%(op)s” cannot be used with this field; use one of: %(ops)s.")
                % {"op": str(operator)[:50], "ops": ", ".join(rule_field.operators)},
            )
            return None
        return str(operator)

    def value(self, rule_field: RuleField, operator: str, raw: Any, path: str) -> Any:
        value_path = child_path(path, "value")
        if operator == "between":
            return self.between(rule_field, raw, value_path)
        if operator in LIST_VALUE_OPERATORS:
            return self.value_list(rule_field, raw, value_path)
        try:
            value = scalar(rule_field, raw)
        except BadValue as problem:
            self.fail(value_path, str(problem))
            return None
        self.check_existing(rule_field, [value], value_path)
        return value

    def between(self, rule_field: RuleField, raw: Any, path: str) -> list[Any] | None:
        message = _("“Between” needs two values, the smaller first.")
        if not isinstance(raw, list) or len(raw) != 2:
            self.fail(path, message)
            return None
        try:
            low, high = (scalar(rule_field, item) for item in raw)
        except BadValue as problem:
            self.fail(path, str(problem))
            return None
        if ordering_key(rule_field, low) > ordering_key(rule_field, high):
            self.fail(path, message)
            return None
        return [low, high]

    def value_list(self, rule_field: RuleField, raw: Any, path: str) -> list[Any] | None:
        items = raw if isinstance(raw, list) else [raw]
        if not items or len(items) > MAX_VALUES:
            self.fail(path, _("Enter from 1 to %(limit)d values.") % {"limit": MAX_VALUES})
            return None
        values = []
        for index, item in enumerate(items):
            try:
                values.append(scalar(rule_field, item))
            except BadValue as problem:
                self.fail(child_path(path, index), str(problem))
        if len(values) != len(items):
            return None
        unique = list(dict.fromkeys(values))
        self.check_existing(rule_field, unique, path)
        return unique

    def check_existing(self, rule_field: RuleField, values: list[Any], path: str) -> None:
        missing = missing_references(rule_field.value_type, values)
        if missing:
            names = ", ".join(str(value)[:50] for value in missing[:5])
            self.fail(path, _("Not found: %(values)s.") % {"values": names})

    def whole(self, raw: Any, path: str, low: int, high: int) -> int | None:
        try:
            value = whole_number(raw)
        except BadValue:
            value = None
        if value is None or not low <= value <= high:
            self.fail(path, _("Enter a whole number from %(low)d to %(high)d.")
                      % {"low": low, "high": high})  # fmt: skip
            return None
        return value


def scalar(rule_field: RuleField, raw: Any) -> Any:
    """One value of the field's type, normalised to JSON (money and dates as strings)."""
    value_type = rule_field.value_type
    if value_type == "number":
        return whole_number(raw) if rule_field.whole_number else number(raw)
    if value_type == "money":
        return format(decimal_number(raw), "f")
    if value_type == "date":
        return iso_date(raw)
    if value_type in ("store", "user", "category"):
        return whole_number(raw)
    if value_type == "choice":
        allowed = [value for value, _label in rule_field.choices]
        if raw not in allowed:
            raise BadValue(_("Choose one of: %(choices)s.") % {"choices": ", ".join(allowed)})
        return raw
    limit = {"list": 30, "product": 64, "tags": 50}.get(value_type, MAX_TEXT)
    return text(raw, limit)


def text(raw: Any, limit: int) -> str:
    if not isinstance(raw, str):
        raise BadValue(_("Enter a text."))
    cleaned = CONTROL_CHARACTERS.sub("", raw).strip()
    if not cleaned:
        raise BadValue(_("Enter a value."))
    if len(cleaned) > limit:
        raise BadValue(_("Enter at most %(limit)d characters.") % {"limit": limit})
    return cleaned


def decimal_number(raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise BadValue(_("Enter a number."))
    try:
        value = Decimal(str(raw).strip()) if not isinstance(raw, float) else Decimal(repr(raw))
    except (InvalidOperation, ValueError):
        raise BadValue(_("Enter a number.")) from None
    if not value.is_finite():
        raise BadValue(_("Enter a finite number."))
    if abs(value) > MAX_NUMBER:
        raise BadValue(_("Enter a number no larger than %(limit)s.") % {"limit": MAX_NUMBER})
    return value


def number(raw: Any) -> int | float:
    value = decimal_number(raw)
    return int(value) if value == value.to_integral_value() else float(value)


def whole_number(raw: Any) -> int:
    value = decimal_number(raw)
    if value != value.to_integral_value():
        raise BadValue(_("Enter a whole number."))
    return int(value)


def iso_date(raw: Any) -> str:
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            pass
    raise BadValue(_("Enter a date in the form YYYY-MM-DD."))


def ordering_key(rule_field: RuleField, value: Any) -> Any:
    """Money is kept as text to stay exact; compare it as a number."""
    return Decimal(value) if rule_field.value_type == "money" else value


def missing_references(value_type: str, values: list[Any]) -> list[Any]:
    """Ids or names the rule refers to that do not exist, so a typo is caught on saving."""
    from kehu.accounts.models import User
    from kehu.commerce.models import Category, Store
    from kehu.customers.models import Tag

    models: dict[str, tuple[Any, str]] = {
        "store": (Store, "pk"),
        "user": (User, "pk"),
        "category": (Category, "pk"),
        "tags": (Tag, "name"),
    }
    if value_type not in models:
        return []
    model, key = models[value_type]
    found = set(model.objects.filter(**{f"{key}__in": values}).values_list(key, flat=True))
    return [value for value in values if value not in found]


def check(rule: Any) -> tuple[dict[str, Any], RuleChecker]:
    checker = RuleChecker()
    normalised = checker.check(rule)
    if checker.errors or normalised is None:
        raise ValidationError(dict(checker.errors))
    return normalised, checker


def validate_rule(rule: Any) -> dict[str, Any]:
    """The rule normalised (default operators filled in, values typed), or ValidationError with
    a message per path (`all.2.value`; the rule as a whole under NON_FIELD_ERRORS)."""
    return check(rule)[0]


def compile_rule(rule: Any, now: datetime | None = None) -> Q:
    """A Q over Customer selecting what the rule describes, as of `now` (default: now)."""
    from django.utils import timezone

    from kehu.segments.rules_compile import RuleCompiler

    normalised, checker = check(rule)
    return RuleCompiler(now or timezone.now(), checker.fields).node(normalised)
