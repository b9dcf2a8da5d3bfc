"""The quick-log form on the customer page."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from kehu.engagement.models import Interaction

HTMX = {"HX-Request": "true"}


def log_url(customer):
    return reverse("engagement:log", args=[customer.pk])


def test_htmx_log_returns_a_fresh_form_and_the_new_timeline_item(client, sales, own_customer):
    client.force_login(sales)
    data = {"channel": "phone", "direction": "outbound", "summary": "约了周末到店"}
    response = client.post(log_url(own_customer), data, headers=HTMX)
    content = response.content.decode()
    interaction = Interaction.objects.get(customer=own_customer)
    assert response.status_code == 200
    assert 'hx-swap-oob="afterbegin:#timeline"' in content
    assert f'id="interaction-{interaction.pk}"' in content
    assert "约了周末到店" in content
    assert (interaction.channel, interaction.staff) == ("phone", sales)
    own_customer.refresh_from_db()
    assert own_customer.last_followed_up_at == interaction.occurred_at


def test_htmx_log_without_a_summary_shows_the_error_inline(client, sales, own_customer):
    client.force_login(sales)
    data = {"channel": "phone", "direction": "outbound", "summary": " "}
    response = client.post(log_url(own_customer), data, headers=HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert "hx-swap-oob" not in content
    assert 'class="field has-error' in content
    assert Interaction.objects.count() == 0


def test_log_in_the_future_is_refused(client, sales, own_customer):
    client.force_login(sales)
    later = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    data = {"channel": "sms", "direction": "outbound", "summary": "x", "occurred_at": later}
    response = client.post(log_url(own_customer), data, headers=HTMX)
    assert "occurred_at" in response.context["log_form"].errors
    assert Interaction.objects.count() == 0


def test_log_with_an_unknown_channel_is_refused(client, sales, own_customer):
    client.force_login(sales)
    data = {"channel": "pigeon", "direction": "outbound", "summary": "x"}
    response = client.post(log_url(own_customer), data, headers=HTMX)
    assert "channel" in response.context["log_form"].errors
    assert Interaction.objects.count() == 0


def test_log_without_htmx_redirects_to_the_customer(client, sales, own_customer):
    client.force_login(sales)
    data = {"channel": "phone", "direction": "inbound", "summary": "来电咨询"}
    response = client.post(log_url(own_customer), data)
    assert response["Location"] == reverse("customers:detail", args=[own_customer.pk])
    assert Interaction.objects.get().direction == "inbound"


def test_log_for_a_colleagues_customer_is_not_found(client, other_sales, own_customer):
    client.force_login(other_sales)
    data = {"channel": "phone", "direction": "outbound", "summary": "x"}
    assert client.post(log_url(own_customer), data, headers=HTMX).status_code == 404
    assert Interaction.objects.count() == 0


def test_log_needs_post(client, sales, own_customer):
    client.force_login(sales)
    assert client.get(log_url(own_customer)).status_code == 405
