"""Programs of the crash test (`test_crash.py`), run in child processes so the parent can kill
a dispatcher for real. Run as `python -c "import django; django.setup(); from
kehu.events.tests.crash_child import main; main()" <scenario> [<arguments>]`; a scenario that
reports prints one JSON line.

Every process registers `crash.effect`, a handler of `order.posted` that adds one row per run
(no unique key), so a run that committed twice would show as two rows. A webhook subscription
to `order.posted` points at the parent's loopback receiver; `send` delivers what is due.
"""

import datetime
import json
import sys
import uuid
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from kehu.commerce.bulk import bulk_writer
from kehu.commerce.models import ZERO, ChannelKind, Order, SalesChannel
from kehu.commerce.outbox import order_posted
from kehu.customers.models import Customer
from kehu.events.models import Event, HandlerRun
from kehu.events.registry import handles
from kehu.events.services import record_events
from kehu.loyalty.models import EnrolmentChannel, Membership, PointsEntry
from kehu.loyalty.points.services import check_balances
from kehu.webhooks import signing
from kehu.webhooks.models import Delivery, Subscription
from kehu.webhooks.services import send_due_deliveries

EFFECT_PREFIX = "crash:"
BATCH = 2000


@handles("order.posted", key="crash.effect")
def effect(event: Event) -> None:
    Group.objects.create(name=f"{EFFECT_PREFIX}{event.event_id}:{uuid.uuid4().hex[:8]}")


def prepare(orders: int, customers: int, receiver_url: str) -> dict[str, Any]:
    """Customers (every fourth one a member) and `orders` orders written as an import writes
    them: bulk rows and their `order.posted` events in one transaction per batch; a webhook
    subscription to those events."""
    from kehu.loyalty.members.services import create_membership

    if connection.vendor == "sqlite":
        call_command("migrate", verbosity=0)
    Subscription.objects.create(
        name="crash",
        url=receiver_url,
        event_names=["order.posted"],
        secret=signing.generate_secret(),
    )
    channel = SalesChannel.objects.create(code="crash", name="crash", kind=ChannelKind.ONLINE)
    people = Customer.objects.bulk_create(
        Customer(name=f"客户{n}", mobile=f"137{n:08d}") for n in range(customers)
    )
    for person in people[::4]:
        create_membership(person, EnrolmentChannel.STORE, None, datetime.date(2025, 1, 1), None)
    writer = bulk_writer()
    moment = timezone.now() - datetime.timedelta(days=1)
    for start in range(0, orders, BATCH):
        rows = [
            (people[n % customers].pk, channel.pk, f"C-{n}", None, "completed", moment,
             Decimal(10 + n % 90), ZERO, ZERO, moment)
            for n in range(start, min(start + BATCH, orders))
        ]  # fmt: skip
        with transaction.atomic():
            ids = writer.insert_orders(rows)
            record_events([
                order_posted(
                    order_id=order_id, external_id=row[2], channel_code="crash", store_code="",
                    customer_id=row[0], total_amount=row[6], status=row[4], ordered_at=row[5],
                    imported=True,
                )
                for order_id, row in zip(ids, rows, strict=True)
            ])  # fmt: skip
    order_runs = HandlerRun.objects.filter(event__name="order.posted").count()
    return {"orders": Order.objects.count(), "runs": order_runs}


def dispatch() -> None:
    call_command("events", "dispatch")


def send() -> dict[str, Any]:
    """Deliver every webhook that is due, until none is."""
    while send_due_deliveries():
        pass
    statuses = Delivery.objects.values_list("status").annotate(count=Count("id")).order_by()
    return {"deliveries": dict(statuses)}


def check() -> dict[str, Any]:
    """What the outbox and the ledger say after the dispatchers."""
    effects = (
        Group.objects.filter(name__startswith=EFFECT_PREFIX)
        .values_list("name", flat=True)
        .iterator()
    )
    per_event: dict[str, int] = {}
    for name in effects:
        event_id = name[len(EFFECT_PREFIX) : len(EFFECT_PREFIX) + 36]
        per_event[event_id] = per_event.get(event_id, 0) + 1
    member_customers = set(Membership.objects.values_list("customer_id", flat=True))
    member_orders = Order.objects.filter(customer_id__in=member_customers).count()
    earn_keys = PointsEntry.objects.filter(idempotency_key__startswith="order:")
    runs = dict(
        HandlerRun.objects.filter(event__name="order.posted")
        .values_list("status")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {
        "events": Event.objects.filter(name="order.posted").count(),
        "event_ids": sorted(
            str(uuid)
            for uuid in Event.objects.filter(name="order.posted").values_list("event_id", flat=True)
        ),
        "effects": per_event,
        "member_orders": member_orders,
        "earned_orders": earn_keys.values("idempotency_key").distinct().count(),
        "earn_entries": earn_keys.count(),
        "runs": runs,
        "attempts_above_one": HandlerRun.objects.filter(attempts__gt=1).count(),
        "balance_mismatches": len(check_balances()),
        "points": sum(Membership.objects.values_list("points_balance", flat=True)),
    }


def main() -> None:
    scenario, *arguments = sys.argv[1:]
    if scenario == "prepare":
        print(json.dumps(prepare(int(arguments[0]), int(arguments[1]), arguments[2])))
    elif scenario == "dispatch":
        dispatch()
    elif scenario == "send":
        print(json.dumps(send()))
    elif scenario == "check":
        print(json.dumps(check()))
    else:
        raise SystemExit(f"unknown scenario {scenario}")
