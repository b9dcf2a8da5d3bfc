"""The webhooks API: administrators only; the secret in the creation and rotation answers
only; deliveries listed with filters; resend; hostile input answers 4xx JSON."""

import pytest

from kehu.webhooks import services
from kehu.webhooks.models import Delivery, Subscription, WebhookDeliveryStatus
from kehu.webhooks.tests.data import FakeEvent, subscribe
from tests.api_client import ApiClient, error_paths

pytestmark = pytest.mark.django_db
BODY = {
    "name": "数据仓库",
    "url": "https://warehouse.example.com/kehu",
    "event_names": ["order.posted", "customer.created"],
}


def test_create_answers_the_secret_once(admin_user):
    api = ApiClient(admin_user)
    response = api.post("/webhooks/subscriptions", BODY)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["secret"] == Subscription.objects.get().secret
    assert created["event_names"] == ["order.posted", "customer.created"]

    listed = api.get("/webhooks/subscriptions").json()
    shown = api.get(f"/webhooks/subscriptions/{created['id']}").json()
    changed = api.put(f"/webhooks/subscriptions/{created['id']}", {**BODY, "is_active": False})
    assert listed["count"] == 1
    assert created["secret"] not in str(listed) + str(shown) + changed.content.decode()
    assert "secret" not in listed["items"][0] and "secret" not in shown
    assert changed.json()["is_active"] is False


def test_rotation_answers_a_new_secret(admin_user):
    subscription, old = subscribe(admin_user, "https://shop.example.com/h")
    response = ApiClient(admin_user).post(
        f"/webhooks/subscriptions/{subscription.pk}/rotate-secret"
    )
    assert response.status_code == 200
    assert response.json()["secret"] not in ("", old)
    subscription.refresh_from_db()
    assert (subscription.secret, subscription.previous_secret) == (response.json()["secret"], old)


def test_search_and_pagination(admin_user):
    for index in range(3):
        subscribe(admin_user, f"https://shop{index}.example.com/h", name=f"Shop {index}")
    subscribe(admin_user, "https://warehouse.example.com/h", name="仓库")
    api = ApiClient(admin_user)
    assert api.get("/webhooks/subscriptions", {"q": "仓库"}).json()["count"] == 1
    page = api.get("/webhooks/subscriptions", {"q": "shop", "limit": 2, "offset": 2}).json()
    assert (page["count"], [item["name"] for item in page["items"]]) == (3, ["Shop 2"])


def test_delete(admin_user):
    subscription, _secret = subscribe(admin_user, "https://shop.example.com/h")
    response = ApiClient(admin_user).client.delete(f"/api/webhooks/subscriptions/{subscription.pk}")
    assert response.status_code == 204
    assert Subscription.objects.count() == 0


def test_deliveries_with_filters_and_resend(admin_user, django_assert_max_num_queries):
    subscription, _secret = subscribe(
        admin_user, "https://shop.example.com/h", ("order.posted", "order.refunded")
    )
    for _index in range(3):
        services.queue_deliveries(FakeEvent())
    services.queue_deliveries(FakeEvent(name="order.refunded"))
    dead = Delivery.objects.filter(event_name="order.posted").first()
    Delivery.objects.filter(pk=dead.pk).update(
        status=WebhookDeliveryStatus.DEAD, attempts=8, next_attempt_at=None
    )
    api = ApiClient(admin_user)
    path = f"/webhooks/subscriptions/{subscription.pk}/deliveries"

    with django_assert_max_num_queries(8):
        everything = api.get(path).json()
    assert everything["count"] == 4
    assert api.get(path, {"status": "dead"}).json()["items"][0]["id"] == dead.pk
    assert api.get(path, {"event_name": "order.refunded"}).json()["count"] == 1
    assert api.get(path, {"status": "lost"}).status_code == 422

    response = api.post(f"/webhooks/deliveries/{dead.pk}/resend")
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["attempts"]) == ("pending", 8)


def test_test_event_is_queued_and_refused_when_paused(admin_user):
    subscription, _secret = subscribe(admin_user, "https://shop.example.com/h")
    api = ApiClient(admin_user)
    response = api.post(f"/webhooks/subscriptions/{subscription.pk}/test")
    assert response.status_code == 202
    assert response.json()["event_name"] == "webhook.test"
    Subscription.objects.update(is_active=False)
    refused = api.post(f"/webhooks/subscriptions/{subscription.pk}/test")
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "paused")
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"url": "javascript:alert(1)"}, ["body", "url"]),
        ({"url": "ftp://example.com/"}, ["body", "url"]),
        ({"name": "x" * 101}, ["body", "name"]),
        ({"name": "\x00\x01"}, ["body", "name"]),
        ({"event_names": []}, ["body", "event_names"]),
        ({"event_names": ["order.posted", "drop table"]}, ["body", "event_names"]),
        ({"is_active": 1}, ["body", "is_active"]),
        ({"secret": "whsec_mine"}, ["body", "secret"]),
    ],
)
def test_hostile_input_is_refused_with_the_field(admin_user, change, path):
    response = ApiClient(admin_user).post("/webhooks/subscriptions", {**BODY, **change})
    assert response.status_code == 422, response.content
    assert path in error_paths(response)
    assert Subscription.objects.count() == 0


@pytest.mark.parametrize("role", ["manager", "sales", "service_agent", "marketer", "analyst"])
def test_other_roles_get_403_everywhere(request, admin_user, role):
    subscription, _secret = subscribe(admin_user, "https://shop.example.com/h")
    services.queue_deliveries(FakeEvent())
    delivery = Delivery.objects.get()
    api = ApiClient(request.getfixturevalue(role))
    answers = [
        api.get("/webhooks/event-types"),
        api.get("/webhooks/subscriptions"),
        api.post("/webhooks/subscriptions", BODY),
        api.get(f"/webhooks/subscriptions/{subscription.pk}"),
        api.put(f"/webhooks/subscriptions/{subscription.pk}", BODY),
        api.client.delete(f"/api/webhooks/subscriptions/{subscription.pk}"),
        api.post(f"/webhooks/subscriptions/{subscription.pk}/rotate-secret"),
        api.post(f"/webhooks/subscriptions/{subscription.pk}/test"),
        api.get(f"/webhooks/subscriptions/{subscription.pk}/deliveries"),
        api.post(f"/webhooks/deliveries/{delivery.pk}/resend"),
    ]
    assert [answer.status_code for answer in answers] == [403] * len(answers)
    subscription.refresh_from_db()
    assert subscription.name == "Shop system" and Subscription.objects.count() == 1
    assert Delivery.objects.count() == 1 and Delivery.objects.get().status == "pending"


def test_unknown_ids_answer_404(admin_user):
    api = ApiClient(admin_user)
    answers = [
        api.get("/webhooks/subscriptions/999"),
        api.put("/webhooks/subscriptions/999", BODY),
        api.client.delete("/api/webhooks/subscriptions/999"),
        api.post("/webhooks/subscriptions/999/rotate-secret"),
        api.post("/webhooks/subscriptions/999/test"),
        api.get("/webhooks/subscriptions/999/deliveries"),
        api.post("/webhooks/deliveries/999/resend"),
    ]
    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert all(answer.json()["error"]["code"] == "not_found" for answer in answers)


def test_event_types_list_the_catalogue(admin_user):
    names = [item["name"] for item in ApiClient(admin_user).get("/webhooks/event-types").json()]
    assert names[:2] == ["order.posted", "order.refunded"] and len(names) == 13
