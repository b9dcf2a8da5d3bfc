"""Webhooks in a real Chromium: an administrator goes 设置 → Webhooks, subscribes a receiver (a
real HTTP server on loopback), sees the secret once, sends a test event and sees it delivered;
the receiver checks its signature with the secret the page showed."""

import base64
import hashlib
import hmac

import pytest

from kehu.webhooks.models import Delivery, Subscription
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_subscribe_see_the_secret_once_and_send_a_test_event(page, admin_user, receiver):
    log_in(page, admin_user.username, PASSWORD)
    page.click("nav >> text=设置")
    page.click(".settings-nav >> text=Webhooks")
    page.wait_for_url("**/settings/webhooks/")
    assert "还没有 Webhook 订阅" in page.locator("#no-subscriptions").inner_text()

    # a form sent with mistakes says what is wrong next to each field
    page.click("#no-subscriptions >> text=新建订阅")
    page.fill("input[name=name]", "商城系统")
    page.fill("input[name=url]", "javascript:alert(1)")
    page.click("#subscription-form button[type=submit]")
    assert "请输入以 http:// 或 https:// 开头的完整地址" in page.locator("#field-url").inner_text()
    assert "请至少选择一个事件。" in page.locator("#field-event_names").inner_text()

    page.fill("input[name=url]", receiver.url)
    page.check("input[name=event_names][value='order.posted']")
    page.check("input[name=event_names][value='coupon.redeemed']")
    page.click("#subscription-form button[type=submit]")
    page.wait_for_url("**/secret/")
    secret = page.locator("#secret").inner_text().strip()
    subscription = Subscription.objects.get()
    assert secret == subscription.secret
    assert subscription.event_names == ["order.posted", "coupon.redeemed"]

    # shown once: a reload no longer shows it
    page.reload()
    assert page.locator("#secret").count() == 0
    assert "密钥只在生成后显示一次" in page.locator("#secret-gone").inner_text()

    page.click("text=前往此订阅")
    assert page.locator("#no-deliveries").is_visible()
    page.click("#send-test")
    page.wait_for_url(f"**/settings/webhooks/{subscription.pk}/")
    delivery = Delivery.objects.get()
    row = page.locator(f"#delivery-{delivery.pk}")
    assert row.get_attribute("data-status") == "succeeded"
    assert "已送达" in row.inner_text() and "测试事件" in row.inner_text()

    [request] = receiver.received
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode()
    digest = hmac.new(key, signed + request.body, hashlib.sha256).digest()
    assert request.headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()
