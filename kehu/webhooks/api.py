"""The webhooks API (administrators only): subscriptions, their deliveries, resend. A
subscription's secret is in the answer to its creation and to a rotation, never elsewhere."""

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kehu.accounts.api import caller
from kehu.accounts.permissions import require
from kehu.core.api_schemas import ErrorSchema, InputSchema, PageParams, page_of
from kehu.webhooks import queries, services
from kehu.webhooks.catalogue import EVENT_NAMES, EVENT_TYPES, TEST_EVENT
from kehu.webhooks.models import Delivery, Subscription, WebhookDeliveryStatus

router = Router()
ERRORS = {401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 422: ErrorSchema}
EVENT_PATTERN = (
    "^(|" + "|".join(name.replace(".", r"\.") for name in (*EVENT_NAMES, TEST_EVENT)) + ")$"
)
STATUS_PATTERN = "^(|" + "|".join(WebhookDeliveryStatus.values) + ")$"


class WebhookSubscriptionOut(Schema):
    id: int
    name: str
    url: str
    event_names: list[str]
    is_active: bool
    created_at: datetime
    updated_at: datetime


class WebhookSubscriptionWithSecretOut(WebhookSubscriptionOut):
    secret: str = Field(
        description="`whsec_` and the base64 key: shown in this answer only, keep it safe."
    )


class WebhookSubscriptionPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[WebhookSubscriptionOut]


class WebhookSubscriptionQuery(PageParams):
    q: str = Field("", max_length=100, description="Part of the name or URL.")


class WebhookSubscriptionIn(InputSchema):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=2000, description="http:// or https://.")
    event_names: list[str] = Field(
        min_length=1, max_length=len(EVENT_NAMES), description="Names from /webhooks/event-types."
    )
    is_active: bool = True

    def to_input(self) -> services.SubscriptionInput:
        return services.SubscriptionInput(**self.model_dump())


class WebhookEventTypeOut(Schema):
    name: str
    label: str


class WebhookDeliveryOut(Schema):
    id: int
    subscription_id: int
    event_id: UUID
    event_name: str
    occurred_at: datetime
    status: WebhookDeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_response_code: int | None
    last_error: str
    last_duration_ms: int | None
    created_at: datetime

    @staticmethod
    def resolve_last_duration_ms(delivery: Delivery) -> int | None:
        duration: timedelta | None = delivery.last_duration
        return None if duration is None else round(duration.total_seconds() * 1000)


class WebhookDeliveryPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[WebhookDeliveryOut]


class WebhookDeliveryQuery(PageParams):
    status: str = Field("", pattern=STATUS_PATTERN)
    event_name: str = Field("", pattern=EVENT_PATTERN)


def with_secret(subscription: Subscription, secret: str) -> WebhookSubscriptionWithSecretOut:
    fields = WebhookSubscriptionOut.from_orm(subscription).model_dump()
    return WebhookSubscriptionWithSecretOut(**fields, secret=secret)


@router.get(
    "/webhooks/event-types",
    response={200: list[WebhookEventTypeOut], 401: ErrorSchema, 403: ErrorSchema},
    summary="The events a subscription may ask for",
)
def list_webhook_event_types(request: HttpRequest) -> list[WebhookEventTypeOut]:
    require(caller(request), "webhook.manage")
    return [WebhookEventTypeOut(name=name, label=str(label)) for name, label in EVENT_TYPES]


@router.get(
    "/webhooks/subscriptions",
    response={200: WebhookSubscriptionPage, 401: ErrorSchema, 403: ErrorSchema, 422: ErrorSchema},
    summary="List the webhook subscriptions",
)
def list_webhook_subscriptions(
    request: HttpRequest, filters: Query[WebhookSubscriptionQuery]
) -> dict[str, Any]:
    return page_of(queries.search_subscriptions(caller(request), filters.q), filters)


@router.post(
    "/webhooks/subscriptions",
    response={
        201: WebhookSubscriptionWithSecretOut,
        401: ErrorSchema,
        403: ErrorSchema,
        422: ErrorSchema,
    },
    summary="Subscribe a URL to events",
    description="The answer holds the signing secret, once: no other answer shows it again.",
)
def create_webhook_subscription(
    request: HttpRequest, payload: WebhookSubscriptionIn
) -> Status[WebhookSubscriptionWithSecretOut]:
    subscription, secret = services.create_subscription(caller(request), payload.to_input())
    return Status(201, with_secret(subscription, secret))


@router.get(
    "/webhooks/subscriptions/{int:subscription_id}",
    response={200: WebhookSubscriptionOut, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema},
    summary="A webhook subscription",
)
def get_webhook_subscription(request: HttpRequest, subscription_id: int) -> Subscription:
    return queries.get_subscription(caller(request), subscription_id)


@router.put(
    "/webhooks/subscriptions/{int:subscription_id}",
    response={200: WebhookSubscriptionOut, **ERRORS},
    summary="Change a webhook subscription",
    description="The whole subscription is sent; the secret stays.",
)
def update_webhook_subscription(
    request: HttpRequest, subscription_id: int, payload: WebhookSubscriptionIn
) -> Subscription:
    return services.update_subscription(caller(request), subscription_id, payload.to_input())


@router.delete(
    "/webhooks/subscriptions/{int:subscription_id}",
    response={204: None, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema},
    summary="Remove a webhook subscription and its delivery log",
)
def delete_webhook_subscription(request: HttpRequest, subscription_id: int) -> Status[None]:
    services.delete_subscription(caller(request), subscription_id)
    return Status(204, None)


@router.post(
    "/webhooks/subscriptions/{int:subscription_id}/rotate-secret",
    response={
        200: WebhookSubscriptionWithSecretOut,
        401: ErrorSchema,
        403: ErrorSchema,
        404: ErrorSchema,
    },
    summary="Give a subscription a new secret",
    description="The answer holds the new secret, once. The old one signs too for 24 hours "
    "(two signatures in `webhook-signature`), so the receiver can switch without a gap.",
)
def rotate_webhook_secret(
    request: HttpRequest, subscription_id: int
) -> WebhookSubscriptionWithSecretOut:
    subscription, secret = services.rotate_secret(caller(request), subscription_id)
    return with_secret(subscription, secret)


@router.post(
    "/webhooks/subscriptions/{int:subscription_id}/test",
    response={
        202: WebhookDeliveryOut,
        401: ErrorSchema,
        403: ErrorSchema,
        404: ErrorSchema,
        409: ErrorSchema,
    },
    summary="Send a test event",
    description=f"Queues a `{TEST_EVENT}` event for this subscription; 409 `paused` when it "
    "is off.",
)
def send_webhook_test(request: HttpRequest, subscription_id: int) -> Status[Delivery]:
    return Status(202, services.send_test_event(caller(request), subscription_id))


@router.get(
    "/webhooks/subscriptions/{int:subscription_id}/deliveries",
    response={200: WebhookDeliveryPage, **ERRORS},
    summary="A subscription's deliveries, newest first",
)
def list_webhook_deliveries(
    request: HttpRequest, subscription_id: int, filters: Query[WebhookDeliveryQuery]
) -> dict[str, Any]:
    search = queries.DeliveryFilters(status=filters.status, event_name=filters.event_name)
    return page_of(
        queries.subscription_deliveries(caller(request), subscription_id, search), filters
    )


@router.post(
    "/webhooks/deliveries/{int:delivery_id}/resend",
    response={202: WebhookDeliveryOut, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema},
    summary="Send a delivery again",
    description="Whatever became of it (delivered, given up), it is sent once more now; its "
    "attempts are kept. A paused subscription's delivery waits until it is on again.",
)
def resend_webhook_delivery(request: HttpRequest, delivery_id: int) -> Status[Delivery]:
    user = caller(request)
    return Status(202, services.resend(user, queries.get_delivery(user, delivery_id)))
