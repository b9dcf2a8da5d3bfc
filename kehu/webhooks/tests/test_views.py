"""The webhook pages: administrators only (403 for the other roles, 404 for unknown ids), the
form's messages, the secret shown once, the delivery log's filters, resend and a test event."""

import pytest
from django.test import Client

from kehu.webhooks import services
from kehu.webhooks.models import Delivery, Subscription, WebhookDeliveryStatus
from kehu.webhooks.tests.data import FakeEvent, subscribe

pytestmark = pytest.mark.django_db
FORM = {"name": "Shop", "url": "https://shop.example.com/hooks", "event_names": ["order.posted"]}


@pytest.fixture
def admin_client(client, admin_user) -> Client:
    client.force_login(admin_user)
    return client


def english(client: Client, method: str, path: str, data: dict | None = None):
    return getattr(client, method)(path, data or {}, HTTP_ACCEPT_LANGUAGE="en")


def test_the_empty_list_says_what_to_do(admin_client):
    response = english(admin_client, "get", "/settings/webhooks/")
    assert response.status_code == 200
    assert b'id="no-subscriptions"' in response.content
    assert b"Add the URL of your shop system" in response.content


def test_create_shows_the_secret_once(admin_client):
    response = english(admin_client, "post", "/settings/webhooks/new/", {**FORM, "is_active": "on"})
    subscription = Subscription.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/settings/webhooks/{subscription.pk}/secret/"

    shown = english(admin_client, "get", response["Location"])
    assert subscription.secret in shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    again = english(admin_client, "get", response["Location"])
    assert subscription.secret not in again.content.decode()
    assert b'id="secret-gone"' in again.content


def test_the_form_shows_errors_next_to_the_fields(admin_client):
    response = english(
        admin_client,
        "post",
        "/settings/webhooks/new/",
        {"name": "", "url": "javascript:alert(1)", "event_names": ["nonsense"]},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"name", "url", "event_names"}
    assert Subscription.objects.count() == 0


def test_the_form_refuses_a_bad_url_through_the_service(admin_client):
    response = english(
        admin_client, "post", "/settings/webhooks/new/", {**FORM, "url": "ftp://example.com/x"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["url"] == [
        "Enter a full http:// or https:// address, such as https://shop.example.com/hooks."
    ]
    assert Subscription.objects.count() == 0


def test_edit_keeps_the_secret(admin_client, admin_user):
    subscription, secret = subscribe(admin_user, "https://shop.example.com/h")
    response = english(
        admin_client,
        "post",
        f"/settings/webhooks/{subscription.pk}/edit/",
        {**FORM, "name": "新名字", "event_names": ["order.posted", "coupon.issued"]},
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.name, subscription.secret) == ("新名字", secret)
    assert subscription.event_names == ["order.posted", "coupon.issued"]
    assert subscription.is_active is False  # an unticked box


def test_rotate_shows_the_new_secret_once(admin_client, admin_user):
    subscription, old = subscribe(admin_user, "https://shop.example.com/h")
    response = english(admin_client, "post", f"/settings/webhooks/{subscription.pk}/rotate/")
    subscription.refresh_from_db()
    assert subscription.secret != old
    shown = english(admin_client, "get", response["Location"])
    assert subscription.secret in shown.content.decode()
    assert old not in shown.content.decode()


def test_the_delivery_log_filters_and_resends(admin_client, admin_user):
    subscription, _secret = subscribe(
        admin_user, "https://shop.example.com/h", ("order.posted", "coupon.issued")
    )
    services.queue_deliveries(FakeEvent())
    services.queue_deliveries(FakeEvent(name="coupon.issued"))
    dead = Delivery.objects.get(event_name="coupon.issued")
    Delivery.objects.filter(pk=dead.pk).update(
        status=WebhookDeliveryStatus.DEAD, attempts=8, next_attempt_at=None, last_error="HTTP 500"
    )
    log = f"/settings/webhooks/{subscription.pk}/"

    everything = english(admin_client, "get", log)
    assert [d.pk for d, _label in everything.context["deliveries"]] == [dead.pk, dead.pk - 1]
    only_dead = english(admin_client, "get", log, {"status": "dead"})
    assert [d.pk for d, _label in only_dead.context["deliveries"]] == [dead.pk]
    by_event = english(admin_client, "get", log, {"event": "order.posted"})
    assert [d.event_name for d, _label in by_event.context["deliveries"]] == ["order.posted"]
    nonsense = english(admin_client, "get", log, {"status": "<script>", "event": "x" * 5000})
    assert nonsense.status_code == 200 and len(nonsense.context["deliveries"]) == 2

    response = english(admin_client, "post", f"{log}deliveries/{dead.pk}/resend/")
    assert response.status_code == 302
    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == (WebhookDeliveryStatus.PENDING, 8)


def test_resend_needs_post_and_the_right_subscription(admin_client, admin_user):
    first, _secret = subscribe(admin_user, "https://shop.example.com/a")
    second, _secret = subscribe(admin_user, "https://shop.example.com/b")
    services.queue_deliveries(FakeEvent())
    delivery = Delivery.objects.filter(subscription=first).get()
    path = f"/settings/webhooks/{second.pk}/deliveries/{delivery.pk}/resend/"
    assert english(admin_client, "get", path).status_code == 405
    assert english(admin_client, "post", path).status_code == 404


def test_send_test_event_queues_a_delivery(admin_client, admin_user):
    subscription, _secret = subscribe(admin_user, "https://shop.example.com/h")
    response = english(admin_client, "post", f"/settings/webhooks/{subscription.pk}/test/")
    assert response.status_code == 302
    assert Delivery.objects.get().event_name == "webhook.test"


def test_delete(admin_client, admin_user):
    subscription, _secret = subscribe(admin_user, "https://shop.example.com/h")
    english(admin_client, "post", f"/settings/webhooks/{subscription.pk}/delete/")
    assert Subscription.objects.count() == 0


def test_search_and_pagination(admin_client, admin_user):
    for index in range(27):
        subscribe(admin_user, f"https://shop{index}.example.com/h", name=f"Shop {index:02d}")
    subscribe(admin_user, "https://warehouse.example.com/h", name="仓库")
    page_two = english(admin_client, "get", "/settings/webhooks/", {"q": "shop", "page": "2"})
    assert [s.name for s, _events in page_two.context["rows"]] == ["Shop 25", "Shop 26"]
    found = english(admin_client, "get", "/settings/webhooks/", {"q": "仓库"})
    assert [s.name for s, _events in found.context["rows"]] == ["仓库"]
    none = english(admin_client, "get", "/settings/webhooks/", {"q": "nothing"})
    assert b'id="no-matches"' in none.content


@pytest.mark.parametrize("role", ["manager", "sales", "service_agent", "marketer", "analyst"])
def test_other_roles_get_403(client, request, admin_user, role):
    subscription, _secret = subscribe(admin_user, "https://shop.example.com/h")
    services.queue_deliveries(FakeEvent())
    delivery = Delivery.objects.get()
    client.force_login(request.getfixturevalue(role))
    base = f"/settings/webhooks/{subscription.pk}"
    answers = [
        client.get("/settings/webhooks/"),
        client.get("/settings/webhooks/new/"),
        client.post("/settings/webhooks/new/", FORM),
        client.get(f"{base}/"),
        client.get(f"{base}/edit/"),
        client.post(f"{base}/edit/", FORM),
        client.get(f"{base}/secret/"),
        client.post(f"{base}/rotate/"),
        client.post(f"{base}/delete/"),
        client.post(f"{base}/test/"),
        client.post(f"{base}/deliveries/{delivery.pk}/resend/"),
    ]
    assert [answer.status_code for answer in answers] == [403] * len(answers)
    assert Subscription.objects.get().secret == subscription.secret
    assert Delivery.objects.count() == 1


def test_unknown_ids_answer_404(admin_client):
    for path in (
        "/settings/webhooks/999/",
        "/settings/webhooks/999/edit/",
        "/settings/webhooks/999/secret/",
    ):
        assert admin_client.get(path).status_code == 404
    for path in ("rotate", "delete", "test", "deliveries/1/resend"):
        assert admin_client.post(f"/settings/webhooks/999/{path}/").status_code == 404


def test_settings_link_to_webhooks(admin_client):
    response = admin_client.get("/settings/pool/")
    assert b'href="/settings/webhooks/"' in response.content


def test_the_list_and_the_log_read_a_fixed_number_of_queries(
    admin_client, admin_user, django_assert_max_num_queries
):
    for index in range(10):
        subscription, _secret = subscribe(admin_user, f"https://s{index}.example.com/h")
    for _index in range(10):
        services.queue_deliveries(FakeEvent())
    # session, user, count, page (with the delivery counts per subscription)
    with django_assert_max_num_queries(6):
        assert len(admin_client.get("/settings/webhooks/").context["rows"]) == 10
    with django_assert_max_num_queries(7):
        log = admin_client.get(f"/settings/webhooks/{subscription.pk}/")
        assert len(log.context["deliveries"]) == 10
