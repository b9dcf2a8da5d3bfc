"""Events and subscriptions to build the webhook tests on."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from kehu.accounts.models import User
from kehu.webhooks import services
from kehu.webhooks.models import Subscription


@dataclass(frozen=True)
class FakeEvent:
    """An event as kehu.events hands it to a handler (the fields webhooks read)."""

    name: str = "order.posted"
    payload: dict[str, Any] = field(default_factory=lambda: {"order_id": 7, "total": "88.00"})
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=timezone.now)
    id: int = 1
    version: int = 1
    customer_id: int | None = 3


def subscribe(
    admin: User, url: str, events: tuple[str, ...] = ("order.posted",), **fields: Any
) -> tuple[Subscription, str]:
    data = services.SubscriptionInput(
        name=fields.pop("name", "Shop system"), url=url, event_names=list(events), **fields
    )
    return services.create_subscription(admin, data)
