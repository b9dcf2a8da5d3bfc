"""The catalogue of what a segment rule may test: every field, its value type and operators.

Nothing here comes from the rule itself: the ORM paths are constants, and a rule can only pick
one of these keys (or `custom.<key>` of an existing custom attribute). The builder page and the
API show the same catalogue through `rule_field_catalogue()`.
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import TextChoices
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kehu.customers.models import (
    AttributeType,
    CustomAttribute,
    CustomerStatus,
    Gender,
    IncomeBand,
    SourceChannel,
)
from kehu.loyalty.models import GroupRole
from kehu.segments.models import AbcClass, LifecycleStage, RfmSegment, ValueTier

PROFILE = "profile"
BEHAVIOUR = "behaviour"
SCORES = "scores"
PURCHASES = "purchases"
PREDICTIONS = "predictions"
GROUP_LABELS = {
    PROFILE: _("Profile"),
    BEHAVIOUR: _("Behaviour"),
    SCORES: _("Scores and stages"),
    PREDICTIONS: _("Predictions"),
    PURCHASES: _("Purchases"),
}

EMPTY_OPERATORS = ("is_empty", "is_not_empty")
TEXT_OPERATORS = ("eq", "ne", "in", "not_in", "contains", "not_contains", "starts_with")
CHOICE_OPERATORS = ("eq", "ne", "in", "not_in")
NUMBER_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "between")
DATE_OPERATORS = ("eq", "gt", "gte", "lt", "lte", "between")
LIST_OPERATORS = ("has_any", "has_all", "has_none")
BOOLEAN_OPERATORS = ("is_true", "is_false")
WINDOW_OPERATORS = ("within", "not_within")

OPERATOR_LABELS = {
    "eq": _("is"),
    "ne": _("is not"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "contains": _("contains"),
    "not_contains": _("does not contain"),
    "starts_with": _("starts with"),
    "gt": _("more than"),
    "gte": _("at least"),
    "lt": _("less than"),
    "lte": _("at most"),
    "between": _("between"),
    "is_empty": _("is empty"),
    "is_not_empty": _("is not empty"),
    "has_any": _("has any of"),
    "has_all": _("has all of"),
    "has_none": _("has none of"),
    "is_true": _("yes"),
    "is_false": _("no"),
    "within": _("within the last … days"),
    "not_within": _("not within the last … days"),
    "exists": _("within the last … days"),
}
NO_VALUE_OPERATORS = frozenset({*EMPTY_OPERATORS, *BOOLEAN_OPERATORS, *WINDOW_OPERATORS, "exists"})
LIST_VALUE_OPERATORS = frozenset({"in", "not_in", *LIST_OPERATORS})


@dataclass(frozen=True)
class RuleField:
    """One thing a condition may test. `path` is a fixed ORM path, never taken from a rule."""

    key: str
    label: str | Promise
    group: str
    value_type: str
    operators: tuple[str, ...]
    path: str = ""
    choices: tuple[tuple[str, Any], ...] = ()
    whole_number: bool = False
    needs_days: bool = False
    counts_purchases: bool = False

    def as_catalogue_entry(self, choices: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        listed = choices if choices is not None else self.choice_list()
        return {
            "key": self.key,
            "label": str(self.label),
            "group": self.group,
            "group_label": str(GROUP_LABELS[self.group]),
            "value_type": self.value_type,
            "operators": [
                {"key": operator, "label": str(OPERATOR_LABELS[operator])}
                for operator in self.operators
            ],
            "choices": listed,
            "needs_days": self.needs_days,
            "has_min_count": self.counts_purchases,
        }

    def choice_list(self) -> list[dict[str, Any]]:
        return [{"value": value, "label": str(label)} for value, label in self.choices]


def choices_of(choices: type[TextChoices]) -> tuple[tuple[str, Any], ...]:
    return tuple((value, label) for value, label in choices.choices if value)


def field(key: str, label: Any, group: str, value_type: str, operators: tuple, **options: Any):
    return RuleField(key, label, group, value_type, operators, **options)


TEXT = TEXT_OPERATORS + EMPTY_OPERATORS
NUMBER = NUMBER_OPERATORS
OPTIONAL_NUMBER = NUMBER_OPERATORS + EMPTY_OPERATORS
WINDOW = WINDOW_OPERATORS
OPTIONAL_WINDOW = WINDOW_OPERATORS + EMPTY_OPERATORS
IDS = CHOICE_OPERATORS + EMPTY_OPERATORS

_FIELDS = [
    field("city", _("City"), PROFILE, "text", TEXT, path="city"),
    field("province", _("Province"), PROFILE, "text", TEXT, path="province"),
    field("district", _("District"), PROFILE, "text", TEXT, path="district"),
    field("occupation", _("Occupation"), PROFILE, "text", TEXT, path="occupation"),
    field(
        "gender", _("Gender"), PROFILE, "choice", CHOICE_OPERATORS,
        path="gender", choices=choices_of(Gender),
    ),
    field("age", _("Age"), PROFILE, "number", OPTIONAL_NUMBER, whole_number=True),
    field("birthday", _("Birthday"), PROFILE, "date", DATE_OPERATORS + EMPTY_OPERATORS,
          path="birthday"),
    field(
        "income_band", _("Income band"), PROFILE, "choice", CHOICE_OPERATORS + EMPTY_OPERATORS,
        path="income_band", choices=choices_of(IncomeBand),
    ),
    field(
        "source_channel", _("Source channel"), PROFILE, "choice", CHOICE_OPERATORS,
        path="source_channel", choices=choices_of(SourceChannel),
    ),
    field("home_store", _("Home store"), PROFILE, "store", IDS, path="home_store_id"),
    field(
        "status", _("Status"), PROFILE, "choice", CHOICE_OPERATORS,
        path="status", choices=choices_of(CustomerStatus),
    ),
    field("owner", _("Owner"), PROFILE, "user", IDS, path="owner_id"),
    field("in_pool", _("In the customer pool"), PROFILE, "boolean", BOOLEAN_OPERATORS),
    field("has_member_number", _("Has a member number"), PROFILE, "boolean", BOOLEAN_OPERATORS),
    field("created", _("Added"), PROFILE, "days", WINDOW, path="created_at", needs_days=True),
    field("interests", _("Interests"), PROFILE, "list", LIST_OPERATORS),
    field("tags", _("Tags"), PROFILE, "tags", LIST_OPERATORS),
    field(
        "recency_days", _("Days since last purchase"), BEHAVIOUR, "number", OPTIONAL_NUMBER,
        path="metrics__recency_days", whole_number=True,
    ),
    field(
        "frequency", _("Orders"), BEHAVIOUR, "number", NUMBER,
        path="metrics__frequency", whole_number=True,
    ),
    field("monetary", _("Spent"), BEHAVIOUR, "money", NUMBER, path="metrics__monetary"),
    field(
        "average_order_value", _("Average order value"), BEHAVIOUR, "money", NUMBER,
        path="metrics__average_order_value",
    ),
    field(
        "tenure_days", _("Days since first purchase"), BEHAVIOUR, "number", OPTIONAL_NUMBER,
        path="metrics__tenure_days", whole_number=True,
    ),
    field(
        "interactions_90_days", _("Contacts in the last 90 days"), BEHAVIOUR, "number", NUMBER,
        path="metrics__interactions_90_days", whole_number=True,
    ),
    field(
        "discount_share", _("Share of orders with a discount (0–1)"), BEHAVIOUR, "number",
        NUMBER, path="metrics__discount_share",
    ),
    field(
        "last_purchase", _("Last purchase"), BEHAVIOUR, "days", OPTIONAL_WINDOW,
        path="metrics__last_purchase", needs_days=True,
    ),
    field(
        "first_purchase", _("First purchase"), BEHAVIOUR, "days", OPTIONAL_WINDOW,
        path="metrics__first_purchase", needs_days=True,
    ),
    field("r_score", _("R score"), SCORES, "number", OPTIONAL_NUMBER,
          path="metrics__r_score", whole_number=True),
    field("f_score", _("F score"), SCORES, "number", OPTIONAL_NUMBER,
          path="metrics__f_score", whole_number=True),
    field("m_score", _("M score"), SCORES, "number", OPTIONAL_NUMBER,
          path="metrics__m_score", whole_number=True),
    field(
        "rfm_segment", _("RFM segment"), SCORES, "choice", CHOICE_OPERATORS + EMPTY_OPERATORS,
        path="metrics__rfm_segment", choices=choices_of(RfmSegment),
    ),
    field(
        "abc_class", _("ABC class"), SCORES, "choice", CHOICE_OPERATORS + EMPTY_OPERATORS,
        path="metrics__abc_class", choices=choices_of(AbcClass),
    ),
    field(
        "value_tier", _("Value tier"), SCORES, "choice", CHOICE_OPERATORS,
        path="metrics__value_tier", choices=choices_of(ValueTier),
    ),
    field(
        "lifecycle_stage", _("Lifecycle stage"), SCORES, "choice", CHOICE_OPERATORS,
        path="metrics__lifecycle_stage", choices=choices_of(LifecycleStage),
    ),
    field(
        "group_buy_role", _("Group-buy role (in a successful group deal)"), BEHAVIOUR, "choice",
        CHOICE_OPERATORS, choices=choices_of(GroupRole),
    ),
    field(
        "group_deals_joined", _("Successful group deals taken part in"), BEHAVIOUR, "number",
        NUMBER, whole_number=True,
    ),
    field(
        "purchased_within_days", _("Bought anything"), PURCHASES, "days", ("exists",),
        needs_days=True,
    ),
    field(
        "orders_within_days", _("Number of orders"), PURCHASES, "number", NUMBER,
        whole_number=True, needs_days=True,
    ),
    field("spent_within_days", _("Amount spent"), PURCHASES, "money", NUMBER, needs_days=True),
    field(
        "bought_product", _("Bought product (SKU)"), PURCHASES, "product", ("in",),
        needs_days=True, counts_purchases=True,
    ),
    field(
        "bought_category", _("Bought in category"), PURCHASES, "category", ("in",),
        needs_days=True, counts_purchases=True,
    ),
]  # fmt: skip

RULE_FIELDS: dict[str, RuleField] = {rule_field.key: rule_field for rule_field in _FIELDS}
"""Every built-in field a rule may test, by key; custom attributes come from `custom_field`.
Other apps add theirs with `add_rule_fields` when they are ready (kehu.predictions: the
predictions group)."""


def add_rule_fields(fields: list[RuleField], after: str) -> None:
    """Put another app's fields into the catalogue after the field `after`, in place (modules
    that imported RULE_FIELDS see them). Adding the same keys again changes nothing."""
    entries = [
        (key, value) for key, value in RULE_FIELDS.items() if key not in {f.key for f in fields}
    ]
    position = [key for key, _value in entries].index(after) + 1
    entries[position:position] = [(rule_field.key, rule_field) for rule_field in fields]
    RULE_FIELDS.clear()
    RULE_FIELDS.update(entries)


CUSTOM_PREFIX = "custom."
MAX_TAG_CHOICES = 1000
CUSTOM_OPERATORS: dict[str, tuple[str, ...]] = {
    AttributeType.TEXT: TEXT,
    AttributeType.NUMBER: OPTIONAL_NUMBER,
    AttributeType.DATE: DATE_OPERATORS + EMPTY_OPERATORS,
    AttributeType.BOOLEAN: BOOLEAN_OPERATORS,
    AttributeType.CHOICE: CHOICE_OPERATORS + EMPTY_OPERATORS,
}
CUSTOM_VALUE_TYPES: dict[str, str] = {
    AttributeType.TEXT: "text",
    AttributeType.NUMBER: "number",
    AttributeType.DATE: "date",
    AttributeType.BOOLEAN: "boolean",
    AttributeType.CHOICE: "choice",
}


def custom_field(attribute: CustomAttribute) -> RuleField:
    """The rule field of a custom attribute; its key was checked before it reaches a path."""
    return RuleField(
        key=f"{CUSTOM_PREFIX}{attribute.key}",
        label=attribute.label,
        group=PROFILE,
        value_type=CUSTOM_VALUE_TYPES[attribute.type],
        operators=CUSTOM_OPERATORS[attribute.type],
        path=f"custom_attributes__{attribute.key}",
        choices=tuple((str(choice), str(choice)) for choice in attribute.choices or ()),
    )


def rule_field_catalogue() -> list[dict[str, Any]]:
    """Every field for the builder and the API docs, with today's stores, users, categories."""
    from kehu.accounts.models import User
    from kehu.commerce.models import Category, Store
    from kehu.customers.models import Tag

    dynamic_choices: dict[str, list[dict[str, Any]]] = {
        "home_store": [
            {"value": pk, "label": f"{code} {name}"}
            for pk, code, name in Store.objects.values_list("pk", "code", "name")
        ],
        "owner": [
            {"value": pk, "label": display_name or username}
            for pk, username, display_name in User.objects.filter(is_active=True)
            .order_by("username")
            .values_list("pk", "username", "display_name")
        ],
        "bought_category": [
            {"value": pk, "label": name} for pk, name in Category.objects.values_list("pk", "name")
        ],
        "tags": [
            {"value": name, "label": name}
            for name in Tag.objects.values_list("name", flat=True)[:MAX_TAG_CHOICES]
        ],
    }
    entries = [
        rule_field.as_catalogue_entry(dynamic_choices.get(rule_field.key))
        for rule_field in RULE_FIELDS.values()
    ]
    attributes = CustomAttribute.objects.all()
    entries += [custom_field(attribute).as_catalogue_entry() for attribute in attributes]
    return entries
