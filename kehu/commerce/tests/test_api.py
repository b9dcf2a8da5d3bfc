from decimal import Decimal

import pytest

from kehu.commerce.models import Order, OrderLine, OrderStatus, Refund
from tests.api_client import ApiClient, error_paths
from tests.fixtures.records import make_customer


def order_payload(customer, external_id="POS-1", **changes):
    payload = {
        "customer_id": customer.pk,
        "channel": "pos",
        "external_id": external_id,
        "ordered_at": "2026-03-01T10:20:00+08:00",
        "store": "SH01",
        "lines": [
            {
                "product_name": "鲜牛奶 1L",
                "quantity": "2",
                "unit_price": "12.50",
                "discount": "1.00",
                "sku": "MILK-1L",
            },
            {"product_name": "全麦面包", "quantity": 1, "unit_price": "15.00"},
        ],
    }
    payload.update(changes)
    return payload


@pytest.fixture
def posted_order(sales, own_customer, channel, store, product):
    response = ApiClient(sales).post("/orders", order_payload(own_customer))
    assert response.status_code == 201
    return Order.objects.get(pk=response.json()["id"])


def test_post_creates_the_order_with_money_as_strings(sales, own_customer, channel, store, product):
    response = ApiClient(sales).post("/orders", order_payload(own_customer))
    assert response.status_code == 201
    body = response.json()
    assert (body["total_amount"], body["discount_amount"], body["refunded_amount"]) == (
        "39.00",
        "1.00",
        "0.00",
    )
    assert (body["channel"], body["store"], body["status"]) == ("pos", "SH01", "completed")
    assert body["ordered_at"] == "2026-03-01T02:20:00Z"
    assert [(line["sku"], line["amount"]) for line in body["lines"]] == [
        ("MILK-1L", "24.00"),
        (None, "15.00"),
    ]
    assert body["lines"][0]["quantity"] == "2.000"
    assert Order.objects.get().total_amount == Decimal("39.00")


def test_the_same_order_posted_twice_is_stored_once(sales, posted_order, own_customer):
    response = ApiClient(sales).post("/orders", order_payload(own_customer))
    assert response.status_code == 200
    assert response.json()["id"] == posted_order.pk
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 2


def test_a_different_payload_with_the_same_external_id_keeps_the_first(
    sales, posted_order, own_customer
):
    changed = order_payload(
        own_customer,
        lines=[{"product_name": "蛋糕", "quantity": "10", "unit_price": "99.00"}],
    )
    response = ApiClient(sales).post("/orders", changed)
    assert response.status_code == 200
    assert response.json()["total_amount"] == "39.00"
    assert [line["product_name"] for line in response.json()["lines"]] == ["鲜牛奶 1L", "全麦面包"]
    assert Order.objects.count() == 1
    assert not OrderLine.objects.filter(product_name="蛋糕").exists()


def test_the_same_external_id_on_another_channel_is_another_order(
    sales, posted_order, own_customer
):
    from kehu.commerce.models import ChannelKind, SalesChannel

    SalesChannel.objects.create(code="shop", name="网店", kind=ChannelKind.ONLINE)
    response = ApiClient(sales).post("/orders", order_payload(own_customer, channel="shop"))
    assert response.status_code == 201
    assert Order.objects.count() == 2


def test_unknown_channel_is_a_conflict_with_the_field(sales, own_customer, channel):
    response = ApiClient(sales).post("/orders", order_payload(own_customer, channel="nowhere"))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "unknown_channel"
    assert error_paths(response) == [["body", "channel"]]
    assert not Order.objects.exists()


def test_a_discount_larger_than_the_line_is_a_conflict(sales, own_customer, channel, store):
    lines = [{"product_name": "茶", "quantity": "1", "unit_price": "5.00", "discount": "6.00"}]
    response = ApiClient(sales).post("/orders", order_payload(own_customer, lines=lines))
    assert response.status_code == 409
    assert error_paths(response) == [["body", "lines", 0]]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"customer_id": "王芳"}, ["body", "customer_id"]),
        ({"ordered_at": "yesterday"}, ["body", "ordered_at"]),
        ({"ordered_at": "2026-02-30T10:00:00"}, ["body", "ordered_at"]),
        ({"lines": []}, ["body", "lines"]),
        ({"lines": {"product_name": "茶"}}, ["body", "lines"]),
        ({"external_id": ""}, ["body", "external_id"]),
        ({"status": "stolen"}, ["body", "status"]),
        (
            {"lines": [{"product_name": "茶", "quantity": "many", "unit_price": "5"}]},
            ["body", "lines", 0, "quantity"],
        ),
        (
            {"lines": [{"product_name": "茶", "quantity": "0", "unit_price": "5"}]},
            ["body", "lines", 0, "quantity"],
        ),
        (
            {"lines": [{"product_name": "茶", "quantity": "1", "unit_price": "-5"}]},
            ["body", "lines", 0, "unit_price"],
        ),
        (
            {"lines": [{"product_name": "茶", "quantity": "1", "unit_price": "5.001"}]},
            ["body", "lines", 0, "unit_price"],
        ),
    ],
)
def test_post_rejects_wrong_types_with_the_field_path(
    sales, own_customer, channel, store, changes, path
):
    response = ApiClient(sales).post("/orders", order_payload(own_customer, **changes))
    assert response.status_code == 422
    assert path in error_paths(response)
    assert not Order.objects.exists()


def test_post_rejects_malformed_json(sales, channel):
    response = ApiClient(sales).post("/orders", raw="customer_id=1&channel=pos")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "malformed_json"
    assert not Order.objects.exists()


def test_hostile_product_names_are_stored_verbatim(sales, own_customer, channel):
    hostile = "<img src=x onerror=alert(1)>'; DELETE FROM commerce_order;--"
    lines = [{"product_name": hostile, "quantity": "1", "unit_price": "5.00"}]
    response = ApiClient(sales).post(
        "/orders", order_payload(own_customer, external_id=hostile[:64], store="", lines=lines)
    )
    assert response.status_code == 201
    assert response.json()["lines"][0]["product_name"] == hostile
    assert OrderLine.objects.get().product_name == hostile


def test_list_shows_orders_of_visible_customers_only(
    sales, own_customer, colleague_customer, channel, store
):
    other = ApiClient(colleague_customer.owner)
    assert other.post("/orders", order_payload(colleague_customer, "POS-9")).status_code == 201
    client = ApiClient(sales)
    assert client.post("/orders", order_payload(own_customer, "POS-1")).status_code == 201
    body = client.get("/orders").json()
    assert body["count"] == 1
    assert [item["external_id"] for item in body["items"]] == ["POS-1"]


def test_list_filters_by_customer(sales, own_customer, pool_customer, channel, store):
    second = make_customer(owner=sales, name="第二位")
    client = ApiClient(sales)
    client.post("/orders", order_payload(own_customer, "A"))
    client.post("/orders", order_payload(second, "B"))
    body = client.get("/orders", {"customer": second.pk}).json()
    assert [item["external_id"] for item in body["items"]] == ["B"]
    assert client.get("/orders", {"customer": pool_customer.pk}).json()["count"] == 0


def test_list_by_an_invisible_customer_is_not_found(sales, colleague_customer):
    response = ApiClient(sales).get("/orders", {"customer": colleague_customer.pk})
    assert response.status_code == 404


def test_list_rejects_a_bad_customer_parameter(sales):
    response = ApiClient(sales).get("/orders", {"customer": "王芳"})
    assert response.status_code == 422
    assert error_paths(response) == [["query", "customer"]]


def test_list_runs_a_fixed_number_of_queries(
    sales, own_customer, channel, store, django_assert_num_queries
):
    client = ApiClient(sales)
    client.post("/orders", order_payload(own_customer, "A"))
    with django_assert_num_queries(3):  # token, count, page with channel and store
        assert client.get("/orders").json()["count"] == 1
    for number in range(10):
        client.post("/orders", order_payload(own_customer, f"N{number}"))
    with django_assert_num_queries(3):
        assert client.get("/orders").json()["count"] == 11


def test_get_returns_lines_and_refunds(sales, posted_order):
    client = ApiClient(sales)
    client.post(f"/orders/{posted_order.pk}/refunds", {"amount": "5.00", "reason": "破损"})
    with_lines = client.get(f"/orders/{posted_order.pk}").json()
    assert len(with_lines["lines"]) == 2
    assert [(r["amount"], r["reason"]) for r in with_lines["refunds"]] == [("5.00", "破损")]


def test_get_runs_a_fixed_number_of_queries(sales, posted_order, django_assert_num_queries):
    client = ApiClient(sales)
    client.get("/me")
    # token, order with channel and store, lines with products, refunds
    with django_assert_num_queries(4):
        assert client.get(f"/orders/{posted_order.pk}").status_code == 200


def test_get_an_invisible_order_is_not_found(other_sales, posted_order):
    assert ApiClient(other_sales).get(f"/orders/{posted_order.pk}").status_code == 404


def test_refund_updates_the_order(sales, posted_order):
    response = ApiClient(sales).post(
        f"/orders/{posted_order.pk}/refunds",
        {"amount": "39.00", "reason": "退货", "is_return": True},
    )
    assert response.status_code == 201
    assert response.json()["amount"] == "39.00"
    posted_order.refresh_from_db()
    assert posted_order.status == OrderStatus.REFUNDED


def test_refund_beyond_the_total_is_a_conflict(sales, posted_order):
    response = ApiClient(sales).post(f"/orders/{posted_order.pk}/refunds", {"amount": "40.00"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_refund_amount"
    assert error_paths(response) == [["body", "amount"]]
    assert not Refund.objects.exists()


@pytest.mark.parametrize("amount", ["ten", "-1", "0", "1.234", None])
def test_refund_rejects_bad_amounts(sales, posted_order, amount):
    response = ApiClient(sales).post(f"/orders/{posted_order.pk}/refunds", {"amount": amount})
    assert response.status_code == 422
    assert error_paths(response) == [["body", "amount"]]
    assert not Refund.objects.exists()


def test_refund_of_a_missing_order_is_not_found(sales, db):
    response = ApiClient(sales).post("/orders/999999/refunds", {"amount": "1.00"})
    assert response.status_code == 404
