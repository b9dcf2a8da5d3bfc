"""Webhook writes: subscriptions (made, changed, removed, their secret rotated), deliveries
queued for an event, sent with their signature, retried with backoff, resent by hand.

A delivery is sent after a worker claims it with one conditional UPDATE (due, not yet taken),
which also moves its next attempt past the time the attempt may take; a worker that dies
mid-send leaves it due again then, so every event is delivered at least once.
"""

import ipaddress
import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.core.errors import RuleViolation
from kehu.core.text import without_control_characters
from kehu.webhooks import signing, transport
from kehu.webhooks.catalogue import EVENT_NAMES, TEST_EVENT
from kehu.webhooks.models import Delivery, Subscription, WebhookDeliveryStatus

# Waits after each failed attempt (Standard Webhooks' schedule): 8 attempts over 27.6 hours;
# each wait is stretched by up to 20% at random so retries of many events do not arrive at once.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.2
PREVIOUS_SECRET_VALID_FOR = timedelta(hours=24)
CLAIM_MARGIN = timedelta(seconds=60)
DUE_BATCH = 100
URL_SCHEMES = ("http", "https")
NAME_LENGTH = 100
URL_LENGTH = 2000


class Event(Protocol):
    """What a domain event carries (kehu.events.Event)."""

    event_id: uuid.UUID
    name: str
    payload: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True)
class SubscriptionInput:
    name: str
    url: str
    event_names: list[str]
    is_active: bool = True


# --- subscriptions -----------------------------------------------------------------------------


def clean_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise ValidationError({"url": _("Enter the receiver's URL.")})
    if len(url) > URL_LENGTH:
        raise ValidationError({"url": _("A URL may have at most 2000 characters.")})
    try:
        URLValidator(schemes=list(URL_SCHEMES))(url)
    except ValidationError:
        raise ValidationError(
            {
                "url": _(
                    "Enter a full http:// or https:// address, such as https://shop.example.com/hooks."
                )
            }
        ) from None
    host = url.split("://", 1)[1].split("/", 1)[0]
    if "@" in host:
        raise ValidationError({"url": _("A URL with a user name or password is not accepted.")})
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES and is_private_literal(host):
        raise ValidationError(
            {"url": _("This is a private or loopback address; kehu does not send there.")}
        )
    return url


def is_private_literal(host: str) -> bool:
    """A host written as an IP address (or localhost) that is not public."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    if name.lower() == "localhost" or name.lower().endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return not transport.is_public(name)


def clean_subscription(data: SubscriptionInput) -> SubscriptionInput:
    errors: dict[str, str] = {}
    name = without_control_characters(data.name, multiline=False).strip()
    if not name:
        errors["name"] = _("Give the subscription a name.")
    elif len(name) > NAME_LENGTH:
        errors["name"] = _("A name may have at most 100 characters.")
    try:
        url = clean_url(without_control_characters(data.url, multiline=False))
    except ValidationError as error:
        errors["url"] = error.message_dict["url"][0]
        url = ""
    unknown = [name for name in data.event_names if name not in EVENT_NAMES]
    if unknown:
        errors["event_names"] = _("Unknown event: %(names)s.") % {"names": ", ".join(unknown[:5])}
    elif not data.event_names:
        errors["event_names"] = _("Choose at least one event.")
    if errors:
        raise ValidationError(errors)
    chosen = [event for event in EVENT_NAMES if event in set(data.event_names)]
    return SubscriptionInput(name=name, url=url, event_names=chosen, is_active=data.is_active)


def create_subscription(actor: User, data: SubscriptionInput) -> tuple[Subscription, str]:
    """A new subscription and its secret, which the caller shows once and kehu never again."""
    require(actor, "webhook.manage")
    clean = clean_subscription(data)
    secret = signing.generate_secret()
    subscription = Subscription.objects.create(
        name=clean.name,
        url=clean.url,
        event_names=clean.event_names,
        is_active=clean.is_active,
        secret=secret,
        created_by=actor,
    )
    return subscription, secret


def update_subscription(actor: User, subscription_id: int, data: SubscriptionInput) -> Subscription:
    require(actor, "webhook.manage")
    subscription = Subscription.objects.get(pk=subscription_id)
    clean = clean_subscription(data)
    subscription.name = clean.name
    subscription.url = clean.url
    subscription.event_names = clean.event_names
    subscription.is_active = clean.is_active
    subscription.save()
    return subscription


def delete_subscription(actor: User, subscription_id: int) -> None:
    require(actor, "webhook.manage")
    Subscription.objects.get(pk=subscription_id).delete()


def rotate_secret(actor: User, subscription_id: int) -> tuple[Subscription, str]:
    """A new secret; the old one keeps signing too for a day, so the receiver can switch."""
    require(actor, "webhook.manage")
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription_id)
        secret = signing.generate_secret()
        subscription.previous_secret = subscription.secret
        subscription.previous_secret_expires_at = timezone.now() + PREVIOUS_SECRET_VALID_FOR
        subscription.secret = secret
        subscription.save()
    return subscription, secret


# --- queuing ---------------------------------------------------------------------------------


def queue_deliveries(event: Event) -> int:
    """A pending delivery of `event` for each active subscription that wants it; queuing the
    same event again adds nothing. Returns how many deliveries were added."""
    wanted = [
        subscription.pk
        for subscription in Subscription.objects.filter(is_active=True).only("event_names")
        if event.name in subscription.event_names
    ]
    if not wanted:
        return 0
    event_id = uuid.UUID(str(event.event_id))
    done = set(
        Delivery.objects.filter(event_id=event_id, subscription_id__in=wanted).values_list(
            "subscription_id", flat=True
        )
    )
    now = timezone.now()
    new = [
        Delivery(
            subscription_id=subscription_id,
            event_id=event_id,
            event_name=event.name,
            payload=event.payload,
            occurred_at=event.occurred_at,
            next_attempt_at=now,
        )
        for subscription_id in wanted
        if subscription_id not in done
    ]
    Delivery.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        transaction.on_commit(enqueue_sending)
    return len(new)


def send_test_event(actor: User, subscription_id: int) -> Delivery:
    require(actor, "webhook.manage")
    subscription = Subscription.objects.get(pk=subscription_id)
    if not subscription.is_active:
        raise RuleViolation(
            _("This subscription is paused: turn it on to send it anything."), code="paused"
        )
    now = timezone.now()
    delivery = Delivery.objects.create(
        subscription=subscription,
        event_id=uuid.uuid4(),
        event_name=TEST_EVENT,
        payload={"message": "A test event from kehu.", "subscription_id": subscription.pk},
        occurred_at=now,
        next_attempt_at=now,
    )
    transaction.on_commit(enqueue_sending)
    return delivery


def resend(actor: User, delivery: Delivery) -> Delivery:
    """Send a delivery once more, now, whatever became of it; its attempts are kept."""
    require(actor, "webhook.manage")
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDeliveryStatus.PENDING, next_attempt_at=now, updated_at=now
    )
    transaction.on_commit(enqueue_sending)
    delivery.refresh_from_db()
    return delivery


def enqueue_sending() -> None:
    from kehu.webhooks.tasks import send_due_deliveries_task  # the task calls back here

    send_due_deliveries_task.enqueue()


# --- sending ---------------------------------------------------------------------------------


def due_deliveries(now: datetime) -> Any:
    return Delivery.objects.filter(
        status__in=(WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.FAILED),
        next_attempt_at__lte=now,
        subscription__is_active=True,
    )


def claim(delivery_id: int, now: datetime) -> bool:
    """Take a due delivery for one attempt; of any number of workers exactly one gets it."""
    lease = timedelta(seconds=settings.WEBHOOKS_TIMEOUT_SECONDS) + CLAIM_MARGIN
    # Only the row's own columns in the WHERE: a condition through a join becomes a subquery,
    # which PostgreSQL does not check again on a row another worker just updated.
    taken = Delivery.objects.filter(
        pk=delivery_id,
        status__in=(WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.FAILED),
        next_attempt_at__lte=now,
    ).update(next_attempt_at=now + lease, attempts=F("attempts") + 1, updated_at=now)
    return taken == 1


def send_due_deliveries(limit: int = 1000) -> int:
    """Send every delivery that is due (up to `limit`); returns how many were attempted."""
    sent = 0
    while sent < limit:
        now = timezone.now()
        batch = list(
            due_deliveries(now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[: min(DUE_BATCH, limit - sent)]
        )
        if not batch:
            break
        claimed = [delivery_id for delivery_id in batch if claim(delivery_id, now)]
        for delivery_id in claimed:
            attempt(delivery_id)
        sent += len(claimed)
        if not claimed:
            break
    return sent


def send_delivery(delivery_id: int) -> Delivery | None:
    """One attempt at a due delivery, if no other worker has it; None when it was not taken."""
    now = timezone.now()
    if not due_deliveries(now).filter(pk=delivery_id).exists() or not claim(delivery_id, now):
        return None
    return attempt(delivery_id)


def request_body(delivery: Delivery) -> bytes:
    body = {
        "id": str(delivery.event_id),
        "type": delivery.event_name,
        "timestamp": delivery.occurred_at.isoformat(),
        "data": delivery.payload,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def signing_secrets(subscription: Subscription, now: datetime) -> list[str]:
    secrets_in_use = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires and expires > now:
        secrets_in_use.append(subscription.previous_secret)
    return secrets_in_use


def signed_headers(delivery: Delivery, body: bytes, now: datetime) -> dict[str, str]:
    message_id = str(delivery.event_id)
    timestamp = int(now.timestamp())
    secrets_in_use = signing_secrets(delivery.subscription, now)
    return {
        "Content-Type": "application/json",
        "User-Agent": "kehu-webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(secrets_in_use, message_id, timestamp, body),
    }


def attempt(delivery_id: int) -> Delivery:
    """POST a claimed delivery and record the outcome, in the business's language (a worker,
    or a request in another language, may be the one sending)."""
    with translation.override(settings.LANGUAGE_CODE):
        return attempt_in_language(delivery_id)


def attempt_in_language(delivery_id: int) -> Delivery:
    delivery = Delivery.objects.select_related("subscription").get(pk=delivery_id)
    now = timezone.now()
    body = request_body(delivery)
    try:
        answer = transport.post(
            delivery.subscription.url,
            body,
            signed_headers(delivery, body, now),
            timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
            allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES,
        )
    except transport.TransportError as failure:
        return record_failure(delivery, now, str(failure), code=None, duration=None)
    if 200 <= answer.status < 300:
        return record(
            delivery, now, WebhookDeliveryStatus.SUCCEEDED, None, answer.status, "", answer.duration
        )
    if answer.status == 410:
        return record_gone(delivery, now, answer)
    message = _("The receiver answered HTTP %(code)d.") % {"code": answer.status}
    return record_failure(
        delivery, now, message, code=answer.status, duration=answer.duration,
        retry_after=answer.retry_after_seconds,
    )  # fmt: skip


def retry_delay(attempts: int, retry_after_seconds: int | None = None) -> timedelta:
    """The wait after the `attempts`-th failed attempt, with jitter; at least Retry-After."""
    delay = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1] * random.uniform(1, 1 + JITTER)
    if retry_after_seconds:
        delay = max(delay, timedelta(seconds=retry_after_seconds))
    return delay


def record_failure(
    delivery: Delivery,
    now: datetime,
    error: str,
    *,
    code: int | None,
    duration: timedelta | None,
    retry_after: int | None = None,
) -> Delivery:
    if delivery.attempts >= MAX_ATTEMPTS:
        return record(delivery, now, WebhookDeliveryStatus.DEAD, None, code, error, duration)
    next_at = now + retry_delay(delivery.attempts, retry_after)
    return record(delivery, now, WebhookDeliveryStatus.FAILED, next_at, code, error, duration)


def record_gone(delivery: Delivery, now: datetime, answer: transport.Answer) -> Delivery:
    """410 Gone: the receiver wants nothing more; the subscription is paused."""
    Subscription.objects.filter(pk=delivery.subscription_id).update(is_active=False)
    error = _("The receiver answered 410 Gone: the subscription was paused.")
    return record(delivery, now, WebhookDeliveryStatus.DEAD, None, 410, error, answer.duration)


def record(
    delivery: Delivery,
    now: datetime,
    status: str,
    next_attempt_at: datetime | None,
    code: int | None,
    error: str,
    duration: timedelta | None,
) -> Delivery:
    values = {
        "status": status,
        "next_attempt_at": next_attempt_at,
        "last_attempt_at": now,
        "last_response_code": code,
        "last_error": error[:500],
        "last_duration": duration,
    }
    # An update, not save(): a subscription removed meanwhile took its deliveries with it.
    Delivery.objects.filter(pk=delivery.pk).update(**values, updated_at=now)
    for field, value in values.items():
        setattr(delivery, field, value)
    return delivery
