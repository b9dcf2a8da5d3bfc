from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.utils import translation

from kehu.commerce.models import Category, OrderStatus, Product
from kehu.customers.models import AttributeType, CustomAttribute, Customer, Tag
from kehu.segments.rules import (
    MAX_CONDITIONS,
    RULE_FIELDS,
    compile_rule,
    rule_field_catalogue,
    validate_rule,
)
from kehu.segments.tests.rule_helpers import (
    NOW,
    TODAY,
    matching_names,
    metrics_for,
    order_for,
)
from tests.fixtures.records import make_customer

ISSUE_EXAMPLE = {
    "all": [
        {"field": "city", "op": "in", "value": ["上海", "杭州"]},
        {"field": "gender", "op": "eq", "value": "female"},
        {"field": "age", "op": "between", "value": [25, 35]},
        {"field": "tags", "op": "has_any", "value": ["母婴"]},
        {"field": "spent_within_days", "op": "gt", "value": 2000, "days": 180},
        {"not": {"field": "purchased_within_days", "days": 45}},
    ]
}
TEXT_OPERATORS = "eq, ne, in, not_in, contains, not_contains, starts_with, is_empty, is_not_empty"


def years_ago(years: int, days: int = 0):
    return TODAY.replace(year=TODAY.year - years) + timedelta(days=days)


def test_the_issue_example_selects_exactly_the_right_customers(db, channel):
    baby = Tag.objects.create(name="母婴")

    def shopper(name, spent_days_ago=100, amount="2500", **fields):
        fields = {"city": "上海", "gender": "female", "birthday": years_ago(30), **fields}
        customer = make_customer(name=name, **fields)
        customer.tags.add(baby)
        if amount:
            order_for(customer, channel, days_ago=spent_days_ago, amount=amount)
        return customer

    shopper("上海30岁")
    hangzhou = shopper("杭州刚满25岁", amount="1500", city="杭州", birthday=years_ago(25))
    order_for(hangzhou, channel, days_ago=170, amount="600")
    shopper("差一天36岁", birthday=years_ago(36, days=1))
    shopper("刚满36岁", birthday=years_ago(36))
    shopper("差一天25岁", birthday=years_ago(25, days=1))
    shopper("北京", city="北京")
    shopper("男", gender="male")
    shopper("没有生日", birthday=None)
    untagged = shopper("无标签")
    untagged.tags.clear()
    shopper("正好2000", amount="2000")
    refunded = shopper("退了2000", amount="")
    order_for(refunded, channel, days_ago=100, amount="2500", refunded="2000")
    cancelled = shopper("已取消", amount="")
    order_for(cancelled, channel, days_ago=100, amount="2500", status=OrderStatus.CANCELLED)
    shopper("窗口之外", spent_days_ago=181)
    recent = shopper("最近买过")
    order_for(recent, channel, days_ago=10, amount="20")
    pending = shopper("待付款不算购买")
    order_for(pending, channel, days_ago=10, amount="20", status=OrderStatus.PENDING)

    assert matching_names(ISSUE_EXAMPLE) == {
        "上海30岁",
        "杭州刚满25岁",
        "差一天36岁",
        "待付款不算购买",
    }


@pytest.fixture
def attributes(db):
    CustomAttribute.objects.bulk_create(
        [
            CustomAttribute(key="level", label="等级", type=AttributeType.NUMBER),
            CustomAttribute(key="since", label="入会日期", type=AttributeType.DATE),
            CustomAttribute(key="nick", label="昵称", type=AttributeType.TEXT),
            CustomAttribute(key="vip", label="贵宾", type=AttributeType.BOOLEAN),
            CustomAttribute(
                key="colour", label="颜色", type=AttributeType.CHOICE, choices=["红", "蓝"]
            ),
            CustomAttribute(key="contains", label="奇怪的键", type=AttributeType.TEXT),
        ]
    )


@pytest.fixture
def people(sales, other_sales, store, attributes):
    """甲 has everything; 乙 little and sits in the pool; 丙 has no metrics at all."""
    first = make_customer(
        owner=sales,
        name="甲",
        city="上海",
        province="上海",
        district="徐汇区",
        occupation="教师",
        gender="female",
        birthday=years_ago(30),
        income_band="middle",
        source_channel="online",
        home_store=store,
        member_number="M001",
        interests=["母婴", "旅游"],
        custom_attributes={
            "level": 7.0,
            "since": "2024-05-01",
            "nick": "50%_off O'Brien",
            "vip": True,
            "colour": "红",
            "contains": "x",
        },
    )
    first.tags.add(Tag.objects.create(name="母婴"), Tag.objects.create(name="VIP"))
    metrics_for(
        first,
        recency_days=10,
        frequency=8,
        monetary=Decimal("3000"),
        average_order_value=Decimal("375"),
        tenure_days=400,
        interactions_90_days=3,
        discount_share=0.6,
        r_score=5,
        f_score=5,
        m_score=5,
        rfm_segment="Champions",
        abc_class="A",
        value_tier="vip",
        lifecycle_stage="active",
        last_purchase=TODAY - timedelta(days=10),
        first_purchase=TODAY - timedelta(days=400),
    )
    second = make_customer(
        name="乙",
        city="杭州",
        gender="male",
        status="inactive",
        source_channel="store",
        interests=["运动"],
        custom_attributes={"level": 3.0},
    )
    metrics_for(
        second,
        recency_days=200,
        frequency=1,
        monetary=Decimal("50"),
        average_order_value=Decimal("50"),
        tenure_days=200,
        discount_share=0.0,
        r_score=1,
        f_score=1,
        m_score=1,
        rfm_segment="Hibernating",
        abc_class="C",
        value_tier="new",
        lifecycle_stage="churned",
        last_purchase=TODAY - timedelta(days=200),
        first_purchase=TODAY - timedelta(days=200),
    )
    make_customer(owner=other_sales, name="丙", city="北京", birthday=years_ago(26, days=1))
    Customer.objects.filter(name="丙").update(created_at=NOW - timedelta(days=100))
    Customer.objects.exclude(name="丙").update(created_at=NOW - timedelta(days=5))
    return {"sales": sales, "other_sales": other_sales, "store": store}


CONDITIONS = [
    ({"field": "city", "op": "eq", "value": "上海"}, {"甲"}),
    ({"field": "city", "op": "ne", "value": "上海"}, {"乙", "丙"}),
    ({"field": "city", "op": "in", "value": ["上海", "北京"]}, {"甲", "丙"}),
    ({"field": "city", "op": "not_in", "value": ["上海", "北京"]}, {"乙"}),
    ({"field": "district", "op": "contains", "value": "徐汇"}, {"甲"}),
    ({"field": "district", "op": "not_contains", "value": "徐汇"}, {"乙", "丙"}),
    ({"field": "occupation", "op": "starts_with", "value": "教"}, {"甲"}),
    ({"field": "province", "op": "is_empty"}, {"乙", "丙"}),
    ({"field": "province", "op": "is_not_empty"}, {"甲"}),
    ({"field": "gender", "op": "eq", "value": "male"}, {"乙"}),
    ({"field": "gender", "op": "in", "value": ["male", "female"]}, {"甲", "乙"}),
    ({"field": "age", "op": "eq", "value": 30}, {"甲"}),
    ({"field": "age", "op": "ne", "value": 30}, {"丙"}),
    ({"field": "age", "op": "gt", "value": 25}, {"甲"}),
    ({"field": "age", "op": "gte", "value": 25}, {"甲", "丙"}),
    ({"field": "age", "op": "lt", "value": 30}, {"丙"}),
    ({"field": "age", "op": "lte", "value": 30}, {"甲", "丙"}),
    ({"field": "age", "op": "between", "value": [20, 25]}, {"丙"}),
    ({"field": "age", "op": "is_empty"}, {"乙"}),
    ({"field": "birthday", "op": "lt", "value": "2000-01-01"}, {"甲"}),
    ({"field": "income_band", "op": "eq", "value": "middle"}, {"甲"}),
    ({"field": "income_band", "op": "is_empty"}, {"乙", "丙"}),
    ({"field": "source_channel", "op": "eq", "value": "online"}, {"甲"}),
    ({"field": "status", "op": "ne", "value": "active"}, {"乙"}),
    ({"field": "in_pool", "op": "is_true"}, {"乙"}),
    ({"field": "in_pool", "op": "is_false"}, {"甲", "丙"}),
    ({"field": "has_member_number", "op": "is_true"}, {"甲"}),
    ({"field": "has_member_number", "op": "is_false"}, {"乙", "丙"}),
    ({"field": "created", "op": "within", "days": 30}, {"甲", "乙"}),
    ({"field": "created", "op": "not_within", "days": 30}, {"丙"}),
    ({"field": "interests", "op": "has_any", "value": ["运动", "旅游"]}, {"甲", "乙"}),
    ({"field": "interests", "op": "has_all", "value": ["母婴", "旅游"]}, {"甲"}),
    ({"field": "interests", "op": "has_none", "value": ["母婴"]}, {"乙", "丙"}),
    ({"field": "tags", "op": "has_any", "value": ["VIP"]}, {"甲"}),
    ({"field": "tags", "op": "has_all", "value": ["VIP", "母婴"]}, {"甲"}),
    ({"field": "tags", "op": "has_none", "value": ["VIP"]}, {"乙", "丙"}),
    ({"field": "custom.level", "op": "gt", "value": 5}, {"甲"}),
    ({"field": "custom.level", "op": "between", "value": [2, 4]}, {"乙"}),
    ({"field": "custom.level", "op": "is_empty"}, {"丙"}),
    ({"field": "custom.since", "op": "gte", "value": "2024-01-01"}, {"甲"}),
    ({"field": "custom.nick", "op": "contains", "value": "%_off o'b"}, {"甲"}),
    ({"field": "custom.nick", "op": "ne", "value": "x"}, {"甲", "乙", "丙"}),
    ({"field": "custom.vip", "op": "is_true"}, {"甲"}),
    ({"field": "custom.vip", "op": "is_false"}, {"乙", "丙"}),
    ({"field": "custom.colour", "op": "in", "value": ["红"]}, {"甲"}),
    ({"field": "custom.colour", "op": "not_in", "value": ["红"]}, {"乙", "丙"}),
    ({"field": "custom.contains", "op": "eq", "value": "x"}, {"甲"}),
    ({"field": "recency_days", "op": "lte", "value": 30}, {"甲"}),
    ({"field": "recency_days", "op": "is_empty"}, {"丙"}),
    ({"field": "frequency", "op": "gte", "value": 2}, {"甲"}),
    ({"field": "monetary", "op": "gt", "value": "100.5"}, {"甲"}),
    ({"field": "average_order_value", "op": "between", "value": [10, 100]}, {"乙"}),
    ({"field": "tenure_days", "op": "gt", "value": 300}, {"甲"}),
    ({"field": "interactions_90_days", "op": "eq", "value": 3}, {"甲"}),
    ({"field": "discount_share", "op": "gt", "value": 0.5}, {"甲"}),
    ({"field": "last_purchase", "op": "within", "days": 30}, {"甲"}),
    ({"field": "last_purchase", "op": "not_within", "days": 30}, {"乙"}),
    ({"field": "last_purchase", "op": "is_empty"}, {"丙"}),
    ({"field": "first_purchase", "op": "within", "days": 365}, {"乙"}),
    ({"field": "r_score", "op": "eq", "value": 5}, {"甲"}),
    ({"field": "f_score", "op": "lt", "value": 3}, {"乙"}),
    ({"field": "m_score", "op": "is_empty"}, {"丙"}),
    ({"field": "rfm_segment", "op": "eq", "value": "Champions"}, {"甲"}),
    ({"field": "rfm_segment", "op": "ne", "value": "Champions"}, {"乙", "丙"}),
    ({"field": "abc_class", "op": "in", "value": ["A", "B"]}, {"甲"}),
    ({"field": "abc_class", "op": "is_empty"}, {"丙"}),
    ({"field": "value_tier", "op": "eq", "value": "vip"}, {"甲"}),
    ({"field": "lifecycle_stage", "op": "eq", "value": "churned"}, {"乙"}),
    (
        {
            "any": [
                {"field": "city", "op": "eq", "value": "北京"},
                {"field": "r_score", "op": "eq", "value": 1},
            ]
        },
        {"乙", "丙"},
    ),
    ({"not": {"any": [{"field": "city", "op": "eq", "value": "北京"}]}}, {"甲", "乙"}),
    ({"all": []}, {"甲", "乙", "丙"}),
    ({"any": []}, set()),
]


@pytest.mark.parametrize(
    ("rule", "expected"), CONDITIONS, ids=[str(rule) for rule, _ in CONDITIONS]
)
def test_each_field_and_operator_selects_the_right_customers(people, rule, expected):
    assert matching_names(rule) == expected


def test_home_store_and_owner_take_ids(people):
    store_id, owner_id = people["store"].pk, people["other_sales"].pk
    assert matching_names({"field": "home_store", "op": "eq", "value": store_id}) == {"甲"}
    assert matching_names({"field": "home_store", "op": "is_empty"}) == {"乙", "丙"}
    assert matching_names({"field": "owner", "op": "in", "value": [owner_id]}) == {"丙"}
    assert matching_names({"field": "owner", "op": "is_empty"}) == {"乙"}


@pytest.fixture
def shop(db, channel):
    dairy = Category.objects.create(name="乳制品")
    yoghurt = Category.objects.create(name="酸奶", parent=dairy)
    toys = Category.objects.create(name="玩具")
    milk = Product.objects.create(sku="MILK", name="牛奶", category=dairy, price=Decimal("10"))
    cup = Product.objects.create(sku="YOG", name="酸奶杯", category=yoghurt, price=Decimal("5"))
    car = Product.objects.create(sku="CAR", name="小汽车", category=toys, price=Decimal("50"))
    often, once, long_ago, never = (
        make_customer(name=name) for name in ["常买", "一次", "很久", "从不"]
    )
    for days in (5, 20, 40):
        order_for(often, channel, days_ago=days, amount="10", products=(milk,))
    order_for(once, channel, days_ago=3, amount="55", products=(cup, car))
    order_for(long_ago, channel, days_ago=400, amount="900", products=(milk,))
    order_for(never, channel, days_ago=1, amount="100", status=OrderStatus.REFUNDED)
    return {"dairy": dairy, "yoghurt": yoghurt, "toys": toys}


PURCHASES = [
    ({"field": "purchased_within_days", "op": "exists", "days": 30}, {"常买", "一次"}),
    ({"field": "orders_within_days", "op": "gte", "value": 2, "days": 30}, {"常买"}),
    ({"field": "orders_within_days", "op": "eq", "value": 0, "days": 30}, {"很久", "从不"}),
    ({"field": "orders_within_days", "op": "ne", "value": 0, "days": 30}, {"常买", "一次"}),
    (
        {"field": "spent_within_days", "op": "between", "value": ["30", "55"], "days": 60},
        {"常买", "一次"},
    ),
    ({"field": "spent_within_days", "op": "lt", "value": 30, "days": 60}, {"很久", "从不"}),
    ({"field": "spent_within_days", "op": "gte", "value": 900, "days": 500}, {"很久"}),
    ({"field": "bought_product", "value": ["MILK"], "days": 30}, {"常买"}),
    ({"field": "bought_product", "value": "MILK", "days": 500}, {"常买", "很久"}),
    ({"field": "bought_product", "value": ["MILK"], "days": 60, "min_count": 3}, {"常买"}),
    ({"field": "bought_product", "value": ["MILK"], "days": 30, "min_count": 3}, set()),
    ({"field": "bought_product", "value": ["NO-SUCH-SKU"], "days": 30}, set()),
]


@pytest.mark.parametrize(("rule", "expected"), PURCHASES, ids=[str(rule) for rule, _ in PURCHASES])
def test_purchase_conditions_count_paid_orders_in_the_window(shop, rule, expected):
    assert matching_names(rule) == expected


def test_a_category_includes_its_sub_categories(shop):
    def bought_in(category, **extra):
        return {"field": "bought_category", "value": [shop[category].pk], "days": 30, **extra}

    assert matching_names(bought_in("dairy")) == {"常买", "一次"}
    assert matching_names(bought_in("yoghurt")) == {"一次"}
    assert matching_names(bought_in("dairy", min_count=2)) == {"常买"}
    assert matching_names(bought_in("toys")) == {"一次"}


def errors_of(rule) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        validate_rule(rule)
    return raised.value.message_dict


def first_error(rule) -> tuple[str, str]:
    errors = errors_of(rule)
    path = next(iter(errors))
    return path, errors[path][0]


def in_all(*conditions):
    return {"all": [{"field": "city", "op": "eq", "value": "上海"}, *conditions]}


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [
        ([], NON_FIELD_ERRORS, "The rule must be a JSON object."),
        ({}, NON_FIELD_ERRORS, "A group needs “all”, “any” or “not”; a condition needs “field”."),
        ({"all": {}}, "all", "Expected a list of conditions."),
        (
            {"all": [], "any": []},
            NON_FIELD_ERRORS,
            "A group has exactly one key: “all”, “any” or “not”.",
        ),
        ({"all": [1]}, "all.0", "Expected a group or a condition (a JSON object)."),
        (in_all({"field": "password"}), "all.1.field", "Unknown field “password”."),
        (
            in_all({"field": "customer__owner__password", "op": "eq", "value": "x"}),
            "all.1.field",
            "Unknown field “customer__owner__password”.",
        ),
        (
            in_all({"field": "custom.missing", "op": "eq", "value": 1}),
            "all.1.field",
            "Unknown custom attribute “missing”.",
        ),
        (
            in_all({"field": "city", "op": "gt", "value": "a"}),
            "all.1.op",
            f"“gt” cannot be used with this field; use one of: {TEXT_OPERATORS}.",
        ),
        (
            in_all({"field": "city", "value": "a"}),
            "all.1.op",
            f"“None” cannot be used with this field; use one of: {TEXT_OPERATORS}.",
        ),
        (
            in_all({"field": "frequency", "op": "gt", "value": "many"}),
            "all.1.value",
            "Enter a number.",
        ),
        (
            in_all({"field": "frequency", "op": "gt", "value": 2.5}),
            "all.1.value",
            "Enter a whole number.",
        ),
        (
            in_all({"field": "frequency", "op": "gt", "value": True}),
            "all.1.value",
            "Enter a number.",
        ),
        (
            in_all({"field": "monetary", "op": "gt", "value": float("nan")}),
            "all.1.value",
            "Enter a finite number.",
        ),
        (
            in_all({"field": "monetary", "op": "gt", "value": "Infinity"}),
            "all.1.value",
            "Enter a finite number.",
        ),
        (
            in_all({"field": "monetary", "op": "gt", "value": 10**40}),
            "all.1.value",
            "Enter a number no larger than 1000000000000.",
        ),
        (
            in_all({"field": "age", "op": "between", "value": [35, 25]}),
            "all.1.value",
            "“Between” needs two values, the smaller first.",
        ),
        (
            in_all({"field": "age", "op": "between", "value": [25]}),
            "all.1.value",
            "“Between” needs two values, the smaller first.",
        ),
        (
            in_all({"field": "gender", "op": "eq", "value": "cat"}),
            "all.1.value",
            "Choose one of: unknown, female, male.",
        ),
        (
            in_all({"field": "city", "op": "in", "value": ["上海", 3]}),
            "all.1.value.1",
            "Enter a text.",
        ),
        (
            in_all({"field": "city", "op": "in", "value": []}),
            "all.1.value",
            "Enter from 1 to 100 values.",
        ),
        (
            in_all({"field": "city", "op": "eq", "value": "x" * 201}),
            "all.1.value",
            "Enter at most 200 characters.",
        ),
        (in_all({"field": "city", "op": "eq", "value": "  "}), "all.1.value", "Enter a value."),
        (
            in_all({"field": "birthday", "op": "lt", "value": "2024-13-01"}),
            "all.1.value",
            "Enter a date in the form YYYY-MM-DD.",
        ),
        (
            in_all({"field": "tags", "op": "has_any", "value": ["'; DROP TABLE x;--"]}),
            "all.1.value",
            "Not found: '; DROP TABLE x;--.",
        ),
        (
            in_all({"field": "home_store", "op": "eq", "value": 999}),
            "all.1.value",
            "Not found: 999.",
        ),
        (
            in_all({"field": "created", "op": "within"}),
            "all.1.days",
            "Enter a whole number from 1 to 3650.",
        ),
        (
            in_all({"field": "spent_within_days", "op": "gt", "value": 1, "days": 0}),
            "all.1.days",
            "Enter a whole number from 1 to 3650.",
        ),
        (
            in_all({"field": "bought_product", "value": ["A"], "days": 5, "min_count": 0}),
            "all.1.min_count",
            "Enter a whole number from 1 to 1000.",
        ),
        (
            in_all({"field": "city", "op": "eq", "value": "a", "sql": "1=1"}),
            "all.1.sql",
            "Unknown key in a condition.",
        ),
        (
            {
                "not": {
                    "not": {"not": {"not": {"not": {"not": {"field": "city", "op": "is_empty"}}}}}
                }
            },
            "not.not.not.not.not",
            "Groups are nested too deeply (at most 5 levels).",
        ),
    ],
)
def test_validation_names_the_path_and_the_problem(attributes, rule, path, message):
    with translation.override("en"):
        assert first_error(rule) == (path, message)


def test_validation_reports_every_problem_at_once(db):
    with translation.override("en"):
        errors = errors_of(
            {
                "any": [
                    {"field": "frequency", "op": "gt", "value": "x"},
                    {"field": "nope"},
                    {"field": "city", "op": "eq", "value": "上海"},
                ]
            }
        )
    assert errors == {
        "any.0.value": ["Enter a number."],
        "any.1.field": ["Unknown field “nope”."],
    }


def test_messages_are_translated(db):
    with translation.override("zh-hans"):
        path, message = first_error({"field": "frequency", "op": "gt", "value": "x"})
    assert path == "value"
    assert message != "Enter a number."


def test_too_many_conditions_are_refused(db):
    condition = {"field": "city", "op": "eq", "value": "上海"}
    with translation.override("en"):
        assert errors_of({"all": [condition] * (MAX_CONDITIONS + 1)}) == {
            NON_FIELD_ERRORS: ["Too many conditions (at most 50)."]
        }
    assert validate_rule({"all": [condition] * MAX_CONDITIONS}) == {"all": [condition] * 50}


@pytest.mark.parametrize("depth", [6, 50, 500])
def test_depth_bombs_are_refused_quickly(db, depth):
    rule: dict = {"field": "city", "op": "is_empty"}
    for _level in range(depth):
        rule = {"not": rule}
    with translation.override("en"):
        errors = errors_of(rule)
    assert list(errors.values()) == [["Groups are nested too deeply (at most 5 levels)."]]


def test_wide_bombs_stop_at_the_size_limit(db):
    leaf = {"field": "city", "op": "is_empty"}
    level = {"all": [leaf] * 40}
    for _ in range(3):
        level = {"all": [level] * 40}
    with translation.override("en"):
        errors = errors_of(level)
    assert "The rule is too large (at most 100 conditions and groups)." in errors[NON_FIELD_ERRORS]


def test_validation_normalises_the_rule(db):
    assert validate_rule(ISSUE_EXAMPLE_WITH_STRINGS) == {
        "all": [
            {"field": "age", "op": "between", "value": [25, 35]},
            {"field": "monetary", "op": "gte", "value": "2000.50"},
            {"not": {"field": "purchased_within_days", "op": "exists", "days": 45}},
            {"field": "bought_product", "op": "in", "value": ["MILK"], "days": 30, "min_count": 1},
            {"field": "city", "op": "is_empty"},
        ]
    }


ISSUE_EXAMPLE_WITH_STRINGS = {
    "all": [
        {"field": "age", "op": "between", "value": ["25", 35.0]},
        {"field": "monetary", "op": "gte", "value": "2000.50"},
        {"not": {"field": "purchased_within_days", "days": "45"}},
        {"field": "bought_product", "value": "MILK", "days": 30},
        {"field": "city", "op": "is_empty", "value": "ignored"},
    ]
}

HOSTILE_TEXTS = [
    "'; DROP TABLE customers_customer;--",
    '" OR 1=1 --',
    "Robert'); DELETE FROM segments_segment; --",
    "%",
    "_",
    "50%_off",
    "\\",
    "<script>alert(1)</script>",
    "上海\u202e\u0000",
    "😀🏙️",
]


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
@pytest.mark.parametrize("operator", ["eq", "ne", "contains", "not_contains", "starts_with", "in"])
def test_hostile_text_values_are_plain_values(people, hostile, operator):
    odd = make_customer(name="奇怪", city="50%_off")
    value = [hostile] if operator == "in" else hostile
    rule = {"field": "city", "op": operator, "value": value}
    matched = matching_names(rule)
    all_names = {"甲", "乙", "丙", "奇怪"}
    positive = (operator == "contains" and hostile in ("%", "_", "50%_off")) or (
        operator in ("eq", "in", "starts_with") and hostile == "50%_off"
    )
    if operator in ("ne", "not_contains"):
        positive_names = matching_names({**rule, "op": {"ne": "eq"}.get(operator, "contains")})
        assert matched == all_names - positive_names
    else:
        assert matched == ({"奇怪"} if positive else set())
    assert Customer.objects.count() == 4
    odd.refresh_from_db()
    assert odd.city == "50%_off"


def test_hostile_values_in_json_keys_and_lists_are_plain_values(people):
    for hostile in ["'; DROP TABLE x;--", '" OR 1=1 --', "%", "_", "\\"]:
        assert matching_names({"field": "custom.nick", "op": "eq", "value": hostile}) == set()
        assert matching_names({"field": "interests", "op": "has_any", "value": [hostile]}) == set()
        assert matching_names({"field": "bought_product", "value": [hostile], "days": 9}) == set()
    assert Customer.objects.count() == 3


@pytest.mark.parametrize(
    "key",
    ["customer__owner__password", "owner__password", "pk", "id", "metrics__monetary", "__class__"],
)
def test_orm_paths_are_not_accepted_as_field_names(people, key):
    with pytest.raises(ValidationError):
        compile_rule({"field": key, "op": "eq", "value": "x"})


def test_custom_attribute_keys_that_would_be_orm_lookups_are_refused(db):
    CustomAttribute.objects.create(key="owner__password", label="坏", type=AttributeType.TEXT)
    CustomAttribute.objects.create(key="0", label="数字", type=AttributeType.TEXT)
    with translation.override("en"):
        assert first_error({"field": "custom.owner__password", "op": "eq", "value": "x"}) == (
            "field",
            "Unknown custom attribute “owner__password”.",
        )
        assert first_error({"field": "custom.0", "op": "eq", "value": "x"})[0] == "field"


def test_tables_are_intact_after_hostile_rules(people):
    tables_before = set(connection.introspection.table_names())
    for hostile in HOSTILE_TEXTS:
        matching_names({"any": [{"field": "district", "op": "contains", "value": hostile}]})
    assert set(connection.introspection.table_names()) == tables_before
    assert Customer.objects.count() == 3


def test_compile_never_builds_sql_from_values(people):
    from kehu.customers.models import Customer as CustomerModel

    query = CustomerModel.objects.filter(
        compile_rule({"field": "city", "op": "eq", "value": "'; DROP TABLE x;--"}, now=NOW)
    ).query
    sql, params = query.sql_with_params()
    assert "DROP TABLE" not in sql
    assert "'; DROP TABLE x;--" in params


def test_the_catalogue_describes_every_field(attributes, store):
    with translation.override("en"):
        catalogue = {entry["key"]: entry for entry in rule_field_catalogue()}
    assert set(RULE_FIELDS) < set(catalogue)
    assert {"custom.level", "custom.colour"} < set(catalogue)
    assert catalogue["gender"]["choices"] == [
        {"value": "unknown", "label": "Unknown"},
        {"value": "female", "label": "Female"},
        {"value": "male", "label": "Male"},
    ]
    assert catalogue["home_store"]["choices"] == [{"value": store.pk, "label": "SH01 上海徐汇店"}]
    assert catalogue["custom.colour"]["choices"] == [
        {"value": "红", "label": "红"},
        {"value": "蓝", "label": "蓝"},
    ]
    assert catalogue["spent_within_days"]["needs_days"] is True
    assert catalogue["spent_within_days"]["group"] == "purchases"
    assert [op["key"] for op in catalogue["tags"]["operators"]] == [
        "has_any",
        "has_all",
        "has_none",
    ]
    groups = {entry["group"] for entry in catalogue.values()}
    assert groups == {"profile", "behaviour", "scores", "predictions", "purchases"}
