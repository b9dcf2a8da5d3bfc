"""Deliveries against a real HTTP server on loopback: the signature checked by an independent
implementation, retries after a failure, a timeout, a slow answer in time, a refused
connection, giving up after the last attempt, resend, and queuing the same event twice."""

import base64
import hashlib
import hmac
import json
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.webhooks import services
from kehu.webhooks.models import Delivery, Subscription, WebhookDeliveryStatus
from kehu.webhooks.tests.data import FakeEvent, subscribe

pytestmark = pytest.mark.django_db


def expected_signature(secret: str, message_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks, written from the specification rather than from kehu's code."""
    key = base64.b64decode(secret.split("_", 1)[1])
    content = message_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def make_due(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def queued(admin_user, receiver, **event) -> Delivery:
    subscribe(admin_user, receiver.url)
    services.queue_deliveries(FakeEvent(**event))
    return Delivery.objects.get()


def test_a_delivery_is_posted_as_signed_json(admin_user, receiver):
    # given a subscription to orders posted and one such event
    _subscription, secret = subscribe(admin_user, receiver.url)
    event = FakeEvent(payload={"order_id": 42, "total": "99.50", "note": "加急"})
    services.queue_deliveries(event)

    # when the due deliveries are sent
    assert services.send_due_deliveries() == 1

    # then the receiver got the event once, as JSON, with a signature it can check
    [request] = receiver.received
    headers = request.headers
    assert request.path == "/hooks"
    assert headers["content-type"] == "application/json"
    assert headers["webhook-id"] == str(event.event_id)
    assert abs(int(headers["webhook-timestamp"]) - timezone.now().timestamp()) < 10
    assert headers["webhook-signature"] == expected_signature(
        secret, headers["webhook-id"], headers["webhook-timestamp"], request.body
    )
    assert json.loads(request.body) == {
        "id": str(event.event_id),
        "type": "order.posted",
        "timestamp": event.occurred_at.isoformat(),
        "data": {"order_id": 42, "total": "99.50", "note": "加急"},
    }
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        WebhookDeliveryStatus.SUCCEEDED, 1, 200,
    )  # fmt: skip
    assert delivery.next_attempt_at is None
    assert delivery.last_error == ""
    assert delivery.last_duration is not None


def test_a_tampered_body_does_not_verify(admin_user, receiver):
    _subscription, secret = subscribe(admin_user, receiver.url)
    services.queue_deliveries(FakeEvent())
    services.send_due_deliveries()
    [request] = receiver.received
    tampered = request.body.replace(b"88.00", b"8.00")
    assert request.headers["webhook-signature"] != expected_signature(
        secret, request.headers["webhook-id"], request.headers["webhook-timestamp"], tampered
    )


def test_a_500_is_retried_and_then_succeeds(admin_user, receiver):
    # given a receiver that fails once, then answers 200
    receiver.answers(500, 200)
    delivery = queued(admin_user, receiver)

    # when it is sent: it fails and waits for its retry
    services.send_due_deliveries()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        WebhookDeliveryStatus.FAILED, 1, 500,
    )  # fmt: skip
    assert delivery.last_error == "The receiver answered HTTP 500."
    wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(seconds=5) <= wait <= timedelta(seconds=6)
    assert services.send_due_deliveries() == 0  # not due yet

    # when the retry is due and sent
    make_due(delivery)
    assert services.send_due_deliveries() == 1

    # then it succeeded on the second attempt with the same event id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        WebhookDeliveryStatus.SUCCEEDED, 2, 200,
    )  # fmt: skip
    assert [r.headers["webhook-id"] for r in receiver.received] == [str(delivery.event_id)] * 2


def test_a_receiver_slower_than_the_timeout_fails_and_is_rescheduled(admin_user, receiver):
    # given a receiver that waits 2.5 s before answering, with a timeout of 1 s
    receiver.answers((200, 2.5))
    delivery = queued(admin_user, receiver)

    services.send_due_deliveries()

    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    assert delivery.last_response_code is None
    assert delivery.last_error == "No answer within 1 seconds."
    assert delivery.next_attempt_at - delivery.last_attempt_at >= timedelta(seconds=5)


def test_a_slow_answer_within_the_timeout_succeeds(admin_user, receiver, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 3.0
    receiver.answers((204, 1.2))
    delivery = queued(admin_user, receiver)

    services.send_due_deliveries()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_response_code) == (WebhookDeliveryStatus.SUCCEEDED, 204)
    assert delivery.last_duration >= timedelta(seconds=1.2)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_connection_fails_and_is_rescheduled(admin_user, receiver):
    subscribe(admin_user, f"http://127.0.0.1:{closed_port()}/hooks")
    services.queue_deliveries(FakeEvent())

    services.send_due_deliveries()

    delivery = Delivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    assert delivery.last_error == "The connection was refused."
    assert delivery.next_attempt_at > timezone.now()


def test_after_the_last_attempt_the_delivery_is_given_up(admin_user, receiver):
    # given a receiver that always fails
    receiver.answers(503)
    delivery = queued(admin_user, receiver)

    # when every attempt is made
    for _attempt in range(services.MAX_ATTEMPTS):
        make_due(delivery)
        assert services.send_due_deliveries() == 1

    # then it is given up: no next attempt, and nothing more is sent
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (
        WebhookDeliveryStatus.DEAD,
        services.MAX_ATTEMPTS,
    )
    assert delivery.next_attempt_at is None
    make_due(delivery)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert services.send_due_deliveries() == 0
    assert len(receiver.received) == services.MAX_ATTEMPTS


def test_the_retry_schedule_spans_more_than_24_hours():
    # the waits between attempts, at their shortest (no jitter) and with jitter
    shortest = sum(services.RETRY_DELAYS, timedelta())
    drawn = sum((services.retry_delay(n) for n in range(1, services.MAX_ATTEMPTS)), timedelta())
    assert shortest >= timedelta(hours=24)
    assert shortest <= drawn <= shortest * (1 + services.JITTER)
    assert list(services.RETRY_DELAYS) == sorted(services.RETRY_DELAYS)


def test_retries_follow_the_schedule_until_given_up(admin_user, receiver):
    # given a receiver that always fails: the waits kehu chooses add up to more than a day
    receiver.answers(500)
    delivery = queued(admin_user, receiver)
    waits = []
    for _attempt in range(services.MAX_ATTEMPTS):
        make_due(delivery)
        services.send_due_deliveries()
        delivery.refresh_from_db()
        if delivery.next_attempt_at:
            waits.append(delivery.next_attempt_at - delivery.last_attempt_at)
    assert len(waits) == services.MAX_ATTEMPTS - 1
    assert sum(waits, timedelta()) >= timedelta(hours=24)
    for wait, planned in zip(waits, services.RETRY_DELAYS, strict=True):
        assert planned <= wait <= planned * (1 + services.JITTER) + timedelta(seconds=1)


def test_retry_after_is_respected(admin_user, receiver):
    receiver.answers(429)
    receiver.extra_headers = {"Retry-After": "600"}
    delivery = queued(admin_user, receiver)
    services.send_due_deliveries()
    delivery.refresh_from_db()
    assert delivery.next_attempt_at - delivery.last_attempt_at >= timedelta(seconds=600)


def test_410_gone_gives_up_and_pauses_the_subscription(admin_user, receiver):
    receiver.answers(410)
    delivery = queued(admin_user, receiver)
    services.send_due_deliveries()
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DEAD
    assert Subscription.objects.get().is_active is False


def test_a_redirect_is_a_failure_and_is_not_followed(admin_user, receiver):
    receiver.answers(302)
    receiver.extra_headers = {"Location": "http://169.254.169.254/latest/meta-data/"}
    delivery = queued(admin_user, receiver)
    services.send_due_deliveries()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_response_code) == (WebhookDeliveryStatus.FAILED, 302)
    assert len(receiver.received) == 1


def test_resend_sends_a_delivered_event_again_keeping_its_attempts(admin_user, receiver):
    delivery = queued(admin_user, receiver)
    services.send_due_deliveries()

    resent = services.resend(admin_user, Delivery.objects.get())
    assert (resent.status, resent.attempts) == (WebhookDeliveryStatus.PENDING, 1)
    services.send_due_deliveries()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.SUCCEEDED, 2)
    assert [r.headers["webhook-id"] for r in receiver.received] == [str(delivery.event_id)] * 2


def test_resend_of_a_given_up_delivery_tries_once_more(admin_user, receiver):
    receiver.answers(500)
    delivery = queued(admin_user, receiver)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDeliveryStatus.DEAD, attempts=services.MAX_ATTEMPTS, next_attempt_at=None
    )
    receiver.answers(200)
    services.resend(admin_user, delivery)
    assert services.send_due_deliveries() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (
        WebhookDeliveryStatus.SUCCEEDED, services.MAX_ATTEMPTS + 1,
    )  # fmt: skip


def test_queuing_the_same_event_twice_makes_one_delivery(admin_user, receiver):
    subscribe(admin_user, receiver.url)
    event = FakeEvent()
    assert services.queue_deliveries(event) == 1
    assert services.queue_deliveries(event) == 0
    assert Delivery.objects.count() == 1


def test_only_active_subscriptions_that_want_the_event_get_it(admin_user, receiver):
    wants, _secret = subscribe(admin_user, receiver.url, ("order.posted", "order.refunded"))
    subscribe(admin_user, receiver.url, ("customer.created",), name="CRM")
    subscribe(admin_user, receiver.url, ("order.posted",), name="Paused", is_active=False)

    assert services.queue_deliveries(FakeEvent(name="order.refunded")) == 1
    assert list(Delivery.objects.values_list("subscription", "event_name")) == [
        (wants.pk, "order.refunded")
    ]


def test_a_paused_subscription_keeps_its_deliveries_until_it_is_on_again(admin_user, receiver):
    delivery = queued(admin_user, receiver)
    Subscription.objects.update(is_active=False)
    assert services.send_due_deliveries() == 0
    Subscription.objects.update(is_active=True)
    assert services.send_due_deliveries() == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.SUCCEEDED


def test_a_claimed_delivery_is_not_sent_by_a_second_worker(admin_user, receiver):
    delivery = queued(admin_user, receiver)
    now = timezone.now()
    assert services.claim(delivery.pk, now) is True
    assert services.claim(delivery.pk, now) is False
    assert services.send_delivery(delivery.pk) is None
    assert receiver.received == []


def test_a_worker_that_died_mid_send_leaves_the_delivery_due_again(admin_user, receiver):
    # given a delivery claimed by a worker that then died
    delivery = queued(admin_user, receiver)
    services.claim(delivery.pk, timezone.now())
    assert services.send_due_deliveries() == 0

    # when its claim has run out
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())

    # then another worker sends it, counting the lost attempt
    assert services.send_due_deliveries() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.SUCCEEDED, 2)


def test_after_rotation_both_secrets_sign_for_a_day(admin_user, receiver):
    subscription, old_secret = subscribe(admin_user, receiver.url)
    _subscription, new_secret = services.rotate_secret(admin_user, subscription.pk)
    services.queue_deliveries(FakeEvent())
    services.send_due_deliveries()

    [request] = receiver.received
    h = request.headers
    signatures = h["webhook-signature"].split(" ")
    assert signatures == [
        expected_signature(new_secret, h["webhook-id"], h["webhook-timestamp"], request.body),
        expected_signature(old_secret, h["webhook-id"], h["webhook-timestamp"], request.body),
    ]

    # a day later the old secret signs no more
    Subscription.objects.update(previous_secret_expires_at=timezone.now() - timedelta(seconds=1))
    services.queue_deliveries(FakeEvent())
    services.send_due_deliveries()
    h = receiver.received[1].headers
    assert h["webhook-signature"] == expected_signature(
        new_secret, h["webhook-id"], h["webhook-timestamp"], receiver.received[1].body
    )


def test_queuing_enqueues_sending_on_commit(
    admin_user, receiver, django_capture_on_commit_callbacks
):
    subscribe(admin_user, receiver.url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.queue_deliveries(FakeEvent())
    assert len(callbacks) == 1
    assert Delivery.objects.get().status == WebhookDeliveryStatus.SUCCEEDED
    assert len(receiver.received) == 1


def test_the_periodic_job_sends_due_retries(admin_user, receiver):
    from kehu.core.schedule import PERIODIC_JOBS

    [job] = [job for job in PERIODIC_JOBS if job.name == "send_due_webhooks"]
    assert job.every == timedelta(minutes=1)
    delivery = queued(admin_user, receiver)
    job.load().call()
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.SUCCEEDED


def test_the_test_event_goes_to_the_subscription(admin_user, receiver):
    subscription, _secret = subscribe(admin_user, receiver.url)
    services.send_test_event(admin_user, subscription.pk)
    services.send_due_deliveries()
    [request] = receiver.received
    body = json.loads(request.body)
    assert body["type"] == "webhook.test"
    assert body["data"]["subscription_id"] == subscription.pk


def test_send_delivery_sends_one_due_delivery(admin_user, receiver):
    delivery = queued(admin_user, receiver)
    sent = services.send_delivery(delivery.pk)
    assert sent is not None and sent.status == WebhookDeliveryStatus.SUCCEEDED
    assert services.send_delivery(delivery.pk) is None  # delivered: not due any more
    assert len(receiver.received) == 1


def test_https_to_a_server_without_tls_fails_with_a_clear_error(admin_user, receiver):
    # the receiver speaks plain HTTP: the TLS handshake (with the host name sent) fails
    subscribe(admin_user, receiver.url.replace("http://", "https://"))
    services.queue_deliveries(FakeEvent())
    services.send_due_deliveries()
    delivery = Delivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    assert delivery.last_error.startswith("TLS failed: "), delivery.last_error
