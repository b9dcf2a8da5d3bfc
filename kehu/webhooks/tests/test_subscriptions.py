"""Subscriptions: what a URL, a name and the events may be, the secret, who may manage them,
and the refusal to send into kehu's own network."""

import pytest
from django.core.exceptions import ValidationError

from kehu.core.errors import NotAllowed
from kehu.webhooks import services, signing, transport
from kehu.webhooks.models import Delivery, Subscription, WebhookDeliveryStatus
from kehu.webhooks.tests.data import FakeEvent, subscribe

pytestmark = pytest.mark.django_db


def errors_of(admin_user, **fields) -> dict[str, list[str]]:
    data = {
        "name": "Shop",
        "url": "https://shop.example.com/hooks",
        "event_names": ["order.posted"],
    }
    data.update(fields)
    with pytest.raises(ValidationError) as caught:
        services.create_subscription(admin_user, services.SubscriptionInput(**data))
    assert Subscription.objects.count() == 0
    return caught.value.message_dict


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "ftp://shop.example.com/hooks",
        "file:///etc/passwd",
        "shop.example.com/hooks",
        "https://",
        "http://user:password@shop.example.com/hooks",
        "https://shop.example.com/" + "a" * 2000,
        "",
    ],
)
def test_a_url_that_is_not_http_is_refused(admin_user, url):
    assert list(errors_of(admin_user, url=url)) == ["url"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://localhost:8000/hooks",
        "http://10.0.0.5/hooks",
        "http://192.168.1.1/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8000/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
    ],
)
def test_a_private_or_loopback_address_is_refused(admin_user, url, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    assert errors_of(admin_user, url=url)["url"] == [
        "This is a private or loopback address; kehu does not send there."
    ]


def test_a_name_is_required_and_at_most_100_characters(admin_user):
    assert list(errors_of(admin_user, name="   ")) == ["name"]
    assert list(errors_of(admin_user, name="名" * 101)) == ["name"]


def test_control_characters_are_dropped_from_the_name(admin_user):
    subscription, _secret = subscribe(admin_user, "https://shop.example.com/h", name="Sh\x00op\x1b")
    assert subscription.name == "Shop"


def test_events_are_required_and_must_be_known(admin_user):
    assert list(errors_of(admin_user, event_names=[])) == ["event_names"]
    assert list(errors_of(admin_user, event_names=["order.posted", "rm -rf"])) == ["event_names"]


def test_the_events_are_kept_in_catalogue_order_without_repeats(admin_user):
    events = ("segment.left", "order.posted", "segment.left")
    subscription, _secret = subscribe(admin_user, "https://shop.example.com/h", events)
    assert subscription.event_names == ["order.posted", "segment.left"]


def test_the_secret_is_standard_webhooks_shaped_and_unique(admin_user):
    first, first_secret = subscribe(admin_user, "https://shop.example.com/a")
    _second, second_secret = subscribe(admin_user, "https://shop.example.com/b")
    assert first_secret.startswith("whsec_")
    assert len(signing.secret_key(first_secret)) >= 24
    assert first_secret != second_secret
    assert first.secret == first_secret


@pytest.mark.parametrize("role", ["manager", "sales", "service_agent", "marketer", "analyst"])
def test_only_administrators_manage_subscriptions(request, admin_user, role):
    user = request.getfixturevalue(role)
    subscription, _secret = subscribe(admin_user, "https://shop.example.com/h")
    data = services.SubscriptionInput("x", "https://x.example.com/", ["order.posted"])
    for action in (
        lambda: services.create_subscription(user, data),
        lambda: services.update_subscription(user, subscription.pk, data),
        lambda: services.rotate_secret(user, subscription.pk),
        lambda: services.delete_subscription(user, subscription.pk),
        lambda: services.send_test_event(user, subscription.pk),
    ):
        with pytest.raises(NotAllowed):
            action()
    subscription.refresh_from_db()
    assert (Subscription.objects.count(), subscription.name) == (1, "Shop system")
    assert Delivery.objects.count() == 0


def test_a_host_that_resolves_to_loopback_is_refused_when_sending(
    admin_user, settings, monkeypatch
):
    # given a subscription whose host name (not a literal address) resolves to 127.0.0.1
    subscribe(admin_user, "http://kehu-test.localtest.example/hooks")
    services.queue_deliveries(FakeEvent())
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False

    def resolves_to_loopback(host, port, **options):
        return [(2, 1, 6, "", ("127.0.0.1", port))]

    # (the resolver is the one part not run for real: no public name points at loopback here)
    monkeypatch.setattr(transport.socket, "getaddrinfo", resolves_to_loopback)
    services.send_due_deliveries()

    delivery = Delivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    assert delivery.last_error.startswith("Refused: kehu-test.localtest.example is a private")


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address checked, not bound
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_which_addresses_are_public(address, public):
    assert transport.is_public(address) is public


def test_an_unknown_host_fails_with_a_clear_error(admin_user, settings):
    subscribe(admin_user, "http://no-such-host.invalid/hooks")
    services.queue_deliveries(FakeEvent())
    services.send_due_deliveries()
    delivery = Delivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    assert delivery.last_error.startswith("The host name does not resolve")


def test_removing_a_subscription_removes_its_deliveries(admin_user):
    subscription, _secret = subscribe(admin_user, "https://shop.example.com/h")
    services.queue_deliveries(FakeEvent())
    services.delete_subscription(admin_user, subscription.pk)
    assert (Subscription.objects.count(), Delivery.objects.count()) == (0, 0)
