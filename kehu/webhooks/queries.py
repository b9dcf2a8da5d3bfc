"""Webhook reads for the pages and the API: subscriptions with search, a subscription's
deliveries with filters. Administrators only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from kehu.accounts.models import User
from kehu.accounts.permissions import require
from kehu.webhooks.catalogue import EVENT_LABELS
from kehu.webhooks.models import Delivery, Subscription, WebhookDeliveryStatus


@dataclass(frozen=True)
class DeliveryFilters:
    status: str = ""
    event_name: str = ""

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> DeliveryFilters:
        status = params.get("status", "")
        event = params.get("event", "")
        return cls(
            status=status if status in WebhookDeliveryStatus.values else "",
            event_name=event if event in EVENT_LABELS else "",
        )

    @property
    def is_filtered(self) -> bool:
        return bool(self.status or self.event_name)


def search_subscriptions(actor: User, search: str = "") -> QuerySet[Subscription]:
    require(actor, "webhook.manage")
    subscriptions = Subscription.objects.select_related("created_by").annotate(
        failing=Count("deliveries", filter=Q(deliveries__status=WebhookDeliveryStatus.FAILED)),
        dead=Count("deliveries", filter=Q(deliveries__status=WebhookDeliveryStatus.DEAD)),
    )
    search = search.strip()[:100]
    if search:
        subscriptions = subscriptions.filter(Q(name__icontains=search) | Q(url__icontains=search))
    return subscriptions.order_by("name", "pk")


def get_subscription(actor: User, subscription_id: int) -> Subscription:
    require(actor, "webhook.manage")
    return Subscription.objects.get(pk=subscription_id)


def subscription_deliveries(
    actor: User, subscription_id: int, filters: DeliveryFilters
) -> QuerySet[Delivery]:
    subscription = get_subscription(actor, subscription_id)
    deliveries = subscription.deliveries.all()
    if filters.status:
        deliveries = deliveries.filter(status=filters.status)
    if filters.event_name:
        deliveries = deliveries.filter(event_name=filters.event_name)
    return deliveries.order_by("-created_at", "-pk")


def get_delivery(actor: User, delivery_id: int, subscription_id: int | None = None) -> Delivery:
    require(actor, "webhook.manage")
    deliveries = Delivery.objects.select_related("subscription")
    if subscription_id is not None:
        deliveries = deliveries.filter(subscription_id=subscription_id)
    return deliveries.get(pk=delivery_id)
