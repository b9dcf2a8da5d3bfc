"""How to call each page and operation as one person of the world: the path's arguments come
from the world's records, and a write gets a small valid body (so a refusal is a refusal, not
a 422 for a missing field)."""

import json
import re
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.permissions.endpoints import Operation, Page
from tests.permissions.world import World

# Fixed values of the pages' text arguments.
PAGE_TEXT_ARGUMENTS = {
    "status": "frozen",
    "kind": "gift",
    "decision": "approve",
    "name": "swagger-ui.css",
}


def page_argument(world: World, page: Page, argument: str) -> Any:
    if argument in PAGE_TEXT_ARGUMENTS:
        return PAGE_TEXT_ARGUMENTS[argument]
    if argument == "pk":
        if page.name.startswith("events:"):
            return world.ids["handler_run"]
        return world.ids["order" if page.name.startswith("commerce:") else "customer"]
    record = {
        "customer_id": "customer",
        "notification_id": "notification",
        "follow_up_id": "follow_up",
        "job_id": "import_job",
        "segment_id": "segment",
        "approval_id": "points_approval",
        "gift_id": "gift",
        "template_id": "template",
        "batch_id": "batch",
        "code": "coupon",
        "rule_id": "rule",
        "deal_id": "deal",
        "subscription_id": "subscription",
        "delivery_id": "delivery",
    }.get(argument)
    assert record is not None, f"{page.name}: say in tests/permissions/calls.py what {argument} is"
    return world.ids[record]


def page_url(world: World, page: Page) -> str:
    kwargs = {argument: page_argument(world, page, argument) for argument in page.arguments}
    return reverse(page.name, kwargs=kwargs)


def page_client(world: World, person: str | None) -> Client:
    """A client with the person's session, signed in once when the world was built (the slow
    part); a copy, so that a request that signs out or changes cookies leaves the next alone."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.cookies = SimpleCookie(world.clients[person or "anonymous"].cookies)
    return client


def operation_path(world: World, operation: Operation) -> str:
    def value(match: re.Match[str]) -> str:
        argument = match.group(1)
        if argument == "approval_id":
            kind = "coupon" if operation.path.startswith("/coupon-approvals") else "points"
            return str(world.ids[f"{kind}_approval"])
        record = {"customer_id": "customer", "order_id": "order", "segment_id": "segment",
                  "template_id": "template", "batch_id": "batch", "code": "coupon",
                  "rule_id": "rule", "deal_id": "deal", "card_number": "card_number",
                  "subscription_id": "subscription", "delivery_id": "delivery"}  # fmt: skip
        assert argument in record, f"say in tests/permissions/calls.py what {argument} is"
        return str(world.ids[record[argument]])

    return re.sub(r"\{(\w+)\}", value, operation.path)


def webhook_subscription(world: World) -> dict[str, Any]:
    """A subscription as the API and the form take it: to the world's closed loopback port."""
    return {"name": "数据仓库", "url": world.ids["webhook_url"], "event_names": ["coupon.issued"]}


def body_for(world: World, operation_id: str) -> dict[str, Any] | None:
    ids = world.ids
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    bodies: dict[str, Any] = {
        "add_customer": {"name": "新客", "mobile": "13700000001"},
        "edit_customer": {"city": "杭州"},
        "replace_tags": {"tags": ["VIP"]},
        "release": {"reason": "搬家"},
        "transfer": {"owner_id": world.users["colleague"].pk},
        "merge": {"merged_id": ids["twin"]},
        "add_interaction": {"channel": "phone", "summary": "回访"},
        "post_order": {
            "customer_id": ids["customer"],
            "channel": "pos",
            "external_id": "POS-NEW",
            "ordered_at": timezone.now().isoformat(),
            "lines": [{"product_name": "咖啡", "quantity": "1", "unit_price": "18.00"}],
        },
        "refund": {"amount": "5.00"},
        "add_segment": {"name": "新名单", "kind": "static"},
        "preview": {"rule": {"field": "city", "op": "eq", "value": "上海"}},
        "edit_segment": {"description": "改"},
        "add_members": {"customer_ids": [ids["customer"]]},
        "remove_members": {"customer_ids": [ids["customer"]]},
        "enrol": {"customer_id": ids["twin"]},
        "earn": {"order_id": ids["order"]},
        "redeem": {"idempotency_key": "matrix-redeem", "gift_id": ids["gift"]},
        "adjust": {"idempotency_key": "matrix-adjust", "points": 10, "reason": "补录"},
        "change_status": {"status": "frozen", "reason": "挂失"},
        "approve_points_adjustment": {},
        "reject_points_adjustment": {"reason": "不符"},
        "approve_coupon": {},
        "reject_coupon": {"reason": "不符"},
        "create_coupon_template": {
            "name": "新券",
            "kind": "fixed",
            "amount_off": "10.00",
            "validity": "relative",
            "valid_days": 30,
        },
        "issue_coupon_to_customer": {"customer_id": ids["customer"]},
        "issue_coupon_batch": {"customer_ids": [ids["customer"]]},
        "check_coupon_for_order": {"order_id": ids["order"]},
        "redeem_coupon_code": {"order_id": ids["order"]},
        "void_coupon_code": {"reason": "作废"},
        "create_earning_rule": {"name": "三倍", "multiplier": "3"},
        "update_earning_rule": {"name": "双倍", "multiplier": "2"},
        "attribute_referral": {"referee_customer_id": ids["twin"], "code": ids["referral_code"]},
        "create_group_deal": {
            "title": "团购",
            "leader_customer_id": ids["customer"],
            "deadline": tomorrow,
        },
        "join_group_deal": {"customer_id": ids["twin"]},
        "create_webhook_subscription": webhook_subscription(world),
        "update_webhook_subscription": webhook_subscription(world),
    }
    return bodies.get(operation_id)


def call_operation(world: World, operation: Operation, person: str | None) -> Any:
    headers = {"authorization": f"Bearer {world.tokens[person]}"} if person else {}
    client = Client(headers=headers)
    path = "/api" + operation_path(world, operation)
    if operation.method == "GET":
        return client.get(path)
    body = body_for(world, operation.operation_id)
    data = json.dumps(body) if body is not None else ""
    return getattr(client, operation.method.lower())(
        path, data=data, content_type="application/json"
    )


def page_body(world: World, name: str) -> dict[str, Any]:
    """A filled form where an empty one would be turned back before the permission check."""
    ids = world.ids
    in_three_days = (timezone.localdate() + timedelta(days=3)).isoformat()
    return {
        "customers:release": {"reason": "搬家"},
        "customers:merge": {"merged_id": ids["twin"]},
        "customers:transfer": {"new_owner": world.users["colleague"].pk},
        "customers:tags": {"tags": "VIP"},
        "engagement:log": {"channel": "phone", "direction": "outbound", "summary": "回访"},
        "engagement:plan_follow_up": {"due_on": in_three_days, "reason": "回访"},
        "loyalty:adjust": {"token": "matrix-adjust", "points": "10", "reason": "补录"},
        "loyalty:member_status": {"reason": "挂失"},
        "loyalty:coupon_void": {"reason": "作废"},
        "loyalty:approval_decide": {"reason": "同意"},
        "webhooks:create": webhook_subscription(world) | {"is_active": "on"},
        "webhooks:edit": webhook_subscription(world) | {"is_active": "on"},
    }.get(name, {})


def call_page(world: World, page: Page, method: str, person: str | None) -> Any:
    client = page_client(world, person)
    url = page_url(world, page)
    if method == "GET":
        return client.get(url)
    return client.post(url, page_body(world, page.name))
