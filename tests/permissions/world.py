"""A small business every permission test reads: two stores and their teams, one person of each
role, and one record of every kind an endpoint names, all belonging to the salesperson `sales`
of the north store (so `sales` is the owner, `colleague` a salesperson of the same team and
`south` one of another team).

The webhook subscription (the administrator's: only administrators manage webhooks) points at
a closed port on loopback, so a test event or a resend that did go out would fail at once; it
needs private addresses allowed while the world lives (tests/permissions/conftest.py)."""

import socket
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from kehu.accounts.models import Notification, Team, User
from kehu.accounts.roles import Role
from kehu.accounts.services import create_api_token
from kehu.commerce.models import ChannelKind, Order, SalesChannel, Store
from kehu.customers.models import Customer
from kehu.engagement.models import FollowUp
from kehu.events.models import HandlerRun
from kehu.events.services import record_event
from kehu.imports.models import ImportJob
from kehu.loyalty.coupons.services import issue_coupon
from kehu.loyalty.groupbuy.services import GroupDealInput, create_group_deal
from kehu.loyalty.members.services import enrol_member
from kehu.loyalty.models import (
    ApprovalRequest,
    ApprovalStatus,
    CouponIssueBatch,
    EarningRule,
    RedemptionItem,
)
from kehu.loyalty.points.adjustments import adjust_points
from kehu.loyalty.points.services import award_points
from kehu.loyalty.tests.coupon_data import make_template
from kehu.predictions.models import CustomerPrediction
from kehu.segments.services import create_segment
from kehu.webhooks.services import SubscriptionInput, create_subscription, send_test_event
from tests.fixtures.records import make_customer

# The people, in the order of the table's columns (tests/permissions/matrix.py).
PEOPLE = ("admin", "manager", "sales", "colleague", "south", "service", "marketing", "analyst")
ROLE_OF = {
    "admin": (Role.ADMIN, None),
    "manager": (Role.MANAGER, "north"),
    "sales": (Role.SALES, "north"),
    "colleague": (Role.SALES, "north"),
    "south": (Role.SALES, "south"),
    "south_manager": (Role.MANAGER, "south"),
    "service": (Role.SERVICE, None),
    "marketing": (Role.MARKETING, None),
    "analyst": (Role.ANALYST, None),
}


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int | str] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)


def add_event(world: World) -> None:
    """A domain event and one of its handler runs (the events page replays a run)."""
    customer_id = int(world.ids["customer"])
    event = record_event("customer.created", {"customer_id": customer_id}, customer_id=customer_id)
    world.ids["handler_run"] = HandlerRun.objects.filter(event=event).order_by("pk").first().pk


def build_world() -> World:
    world = World()
    teams = {name: Team.objects.create(name=f"{name} team") for name in ("north", "south")}
    stores = {
        "north": Store.objects.create(code="N01", name="北店", city="上海", team=teams["north"]),
        "south": Store.objects.create(code="S01", name="南店", city="广州", team=teams["south"]),
    }
    for name, (role, team_name) in ROLE_OF.items():
        user = User.objects.create_user(
            username=name, password=None, role=role, display_name=name,
            team=teams[team_name] if team_name else None,
        )  # fmt: skip
        user.stores.set([stores[team_name]] if team_name else stores.values())
        world.users[name] = user
        world.tokens[name] = create_api_token(user, "matrix")[1]
    add_customers(world, stores["north"])
    add_loyalty(world)
    add_the_rest(world)
    add_webhooks(world)
    add_event(world)
    sign_in(world)
    return world


def sign_in(world: World) -> None:
    """One browser client per person, signed in for the whole module."""
    world.clients["anonymous"] = Client(HTTP_ACCEPT_LANGUAGE="en")
    for name in PEOPLE:
        world.clients[name] = Client(HTTP_ACCEPT_LANGUAGE="en")
        world.clients[name].force_login(world.users[name])


def add_customers(world: World, store: Store) -> None:
    sales = world.users["sales"]
    target = make_customer(owner=sales, name="王芳", email="wangfang@example.com")
    channel = SalesChannel.objects.create(code="pos", name="门店收银", kind=ChannelKind.STORE)
    order = Order.objects.create(
        customer=target, channel=channel, store=store, external_id="POS-1",
        ordered_at=timezone.now() - timedelta(days=3), total_amount=Decimal("50.00"),
    )  # fmt: skip
    world.ids.update(
        customer=target.pk,
        twin=make_customer(owner=sales, name="王芳").pk,
        pool=make_customer(owner=None, name="刘洋").pk,
        south_customer=make_customer(owner=world.users["south"], name="陈静").pk,
        order=order.pk,
    )


def add_loyalty(world: World) -> None:
    admin, manager, sales = (world.users[name] for name in ("admin", "manager", "sales"))
    customer_id = int(world.ids["customer"])
    member = enrol_member(sales, customer_id, enrolled_on=timezone.localdate() - timedelta(days=30))
    award_points(member, 3000, source="campaign", reason="活动", idempotency_key="camp")
    template = make_template(admin)
    coupon = issue_coupon(admin, template, customer_id, idempotency_key="matrix-coupon")
    high = make_template(admin, name="大额券", amount_off=Decimal("500.00"))
    points_request = adjust_points(manager, customer_id, 2500, "补录", idempotency_key="big")
    issue_coupon_request(manager, high, customer_id)
    deal = create_group_deal(
        sales,
        GroupDealInput(
            title="社区团购", leader_id=customer_id, deadline=timezone.now() + timedelta(days=1),
            min_size=3, leader_bonus_points=50, participant_points_multiplier=Decimal("2.00"),
        ),
    ).deal  # fmt: skip
    world.ids.update(
        card_number=member.card_number,
        referral_code=member.referral_code,
        template=template.pk,
        coupon=coupon.code,
        batch=CouponIssueBatch.objects.create(template=template, customer_ids=[customer_id]).pk,
        points_approval=points_request.approval.pk,
        coupon_approval=ApprovalRequest.objects.get(coupon_template=high).pk,
        rule=EarningRule.objects.create(name="双倍", multiplier=Decimal(2)).pk,
        gift=RedemptionItem.objects.create(name="保温杯", points_cost=500, stock=10).pk,
        deal=deal.pk,
    )
    assert ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING).count() == 2


def issue_coupon_request(actor: User, template: object, customer_id: int) -> None:
    """Above the manager's coupon value limit the issue waits for approval (409)."""
    from kehu.core.errors import DomainError

    try:
        issue_coupon(actor, template, customer_id, idempotency_key="matrix-high")  # type: ignore[arg-type]
    except DomainError as error:
        assert error.code == "coupon_awaits_approval", error.code


def add_the_rest(world: World) -> None:
    sales = world.users["sales"]
    customer = Customer.objects.get(pk=world.ids["customer"])
    CustomerPrediction.objects.create(customer=customer, refreshed_at=timezone.now())
    world.ids.update(
        segment=create_segment(sales, name="高价值", kind="static").pk,
        notification=Notification.objects.create(
            recipient=sales, kind="test", title="提醒", created_at=timezone.now()
        ).pk,
        follow_up=FollowUp.objects.create(
            customer=customer,
            assignee=sales,
            due_on=timezone.localdate() + timedelta(days=3),
            reason="回访",
        ).pk,
        import_job=ImportJob.objects.create(
            created_by=sales,
            kind="customers",
            original_name="客户.csv",
            stored_path="/nonexistent/matrix.csv",
            file_format="csv",
        ).pk,
    )


def closed_loopback_url() -> str:
    """An address on 127.0.0.1 that nothing listens on: a port just freed by the system."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/matrix-hooks"


def add_webhooks(world: World) -> None:
    admin = world.users["admin"]
    url = closed_loopback_url()
    subscription, _secret = create_subscription(
        admin, SubscriptionInput(name="数据仓库", url=url, event_names=["member.tier_changed"])
    )
    world.ids.update(
        webhook_url=url,
        subscription=subscription.pk,
        delivery=send_test_event(admin, subscription.pk).pk,
    )
