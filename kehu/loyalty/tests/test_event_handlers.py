"""Orders earn their points at once however they come in (page/API service, API, import), and
a refund reverses them: through the `order.posted` / `order.refunded` events."""

from decimal import Decimal

import pytest

from kehu.commerce.models import Order
from kehu.commerce.services import refund_order
from kehu.events.dispatch import dispatch
from kehu.events.models import Event, HandlerRun, RunStatus
from kehu.imports.tests.helpers import import_file, write_csv
from kehu.loyalty.models import Membership, PointsEntry
from kehu.loyalty.points.services import earn_key
from kehu.loyalty.tests.points_data import make_member
from tests.api_client import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def order_body(customer_id: int, external_id: str = "API-1") -> dict[str, object]:
    return {
        "customer_id": customer_id,
        "channel": "pos",
        "external_id": external_id,
        "ordered_at": "2026-03-01T10:20:00+08:00",
        "store": "SH01",
        "lines": [{"product_name": "鲜牛奶 1L", "quantity": "2", "unit_price": "50.00"}],
    }


def earned(order_id: int) -> int:
    entry = PointsEntry.objects.filter(idempotency_key=earn_key(order_id)).first()
    return entry.points if entry is not None else 0


def test_an_order_posted_to_the_api_earns_at_once(
    admin_user, channel, store, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        member = make_member(admin_user)  # its own events first: a customer's events keep order
    with django_capture_on_commit_callbacks(execute=True):
        response = ApiClient(admin_user).post("/orders", order_body(member.customer_id))

    assert response.status_code == 201
    order_id = response.json()["id"]
    assert earned(order_id) == 100
    assert Membership.objects.get(pk=member.pk).points_balance == 100
    event = Event.objects.get(name="order.posted")
    assert event.payload == {
        "order_id": order_id, "external_id": "API-1", "channel_code": "pos",
        "store_code": "SH01", "customer_id": member.customer_id, "total_amount": "100.00",
        "status": "completed", "ordered_at": "2026-03-01T02:20:00+00:00", "imported": False,
    }  # fmt: skip
    runs = HandlerRun.objects.filter(event__name="order.posted")
    assert set(runs.values_list("handler", "status")) == {
        ("loyalty.earn_points", RunStatus.DONE),
        ("loyalty.reward_referral", RunStatus.DONE),
        ("segments.refresh_metrics", RunStatus.DONE),
        ("webhooks.queue", RunStatus.DONE),
    }


def test_posting_the_same_order_again_records_no_second_event(
    admin_user, channel, store, django_capture_on_commit_callbacks
):
    member = make_member(admin_user)
    client = ApiClient(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/orders", order_body(member.customer_id))
        again = client.post("/orders", order_body(member.customer_id))

    assert again.status_code == 200
    assert Event.objects.filter(name="order.posted").count() == 1
    assert PointsEntry.objects.count() == 1


def test_an_imported_order_earns_at_once(
    admin_user, channel, store, tmp_path, django_capture_on_commit_callbacks
):
    member = make_member(admin_user, member_number="M001")
    path = write_csv(
        tmp_path,
        [
            ["订单号", "渠道", "门店", "会员号", "下单时间", "商品名称", "数量", "单价"],
            ["IMP-1", "pos", "SH01", "M001", "2026-03-01 10:20:00", "面包", "2", "30"],
            ["IMP-2", "pos", "", "M001", "2026-03-02 10:20:00", "牛奶", "1", "12.50"],
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_file(admin_user, "orders", path)

    orders = {order.external_id: order for order in Order.objects.all()}
    assert earned(orders["IMP-1"].pk) == 60
    assert earned(orders["IMP-2"].pk) == 12
    assert Membership.objects.get(pk=member.pk).points_balance == 72
    posted = Event.objects.filter(name="order.posted")
    payloads = {event.payload["external_id"]: event.payload for event in posted}
    assert payloads["IMP-1"]["imported"] is True
    assert payloads["IMP-1"]["store_code"] == "SH01"
    assert payloads["IMP-2"]["store_code"] == ""
    assert payloads["IMP-1"]["total_amount"] == "60.00"


def test_a_refund_reverses_the_points_through_its_event(
    admin_user, channel, store, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        member = make_member(admin_user)  # its own events first: a customer's events keep order
    with django_capture_on_commit_callbacks(execute=True):
        order_id = (
            ApiClient(admin_user).post("/orders", order_body(member.customer_id)).json()["id"]
        )
    with django_capture_on_commit_callbacks(execute=True):
        refund_order(admin_user, order_id, Decimal("40.00"), "broken")

    event = Event.objects.get(name="order.refunded")
    assert event.payload["amount"] == "40.00"
    assert Membership.objects.get(pk=member.pk).points_balance == 60
    order_runs = HandlerRun.objects.filter(event__name__startswith="order.")
    assert not order_runs.exclude(status=RunStatus.DONE).exists()


def test_dispatching_an_order_twice_earns_once(admin_user, channel, store):
    member = make_member(admin_user)
    ApiClient(admin_user).post("/orders", order_body(member.customer_id))  # not committed yet

    dispatch()
    HandlerRun.objects.update(status=RunStatus.PENDING)  # as if the done marks were lost
    dispatch()

    assert PointsEntry.objects.count() == 1
    assert Membership.objects.get(pk=member.pk).points_balance == 100
