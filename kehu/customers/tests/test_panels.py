"""The customer page shows the panels the apps above registered, in their slot and order, with
their context; a panel hidden from the user is neither shown nor computed."""

import copy

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from kehu.customers.panels import register_customer_panel, unregister_customer_panel

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget_template(settings, tmp_path):
    (tmp_path / "widget_panel.html").write_text(
        '<section class="card" id="widget">{{ widget_colour }} · {{ customer.name }}</section>',
        encoding="utf-8",
    )
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [tmp_path]
    settings.TEMPLATES = templates
    return "widget_panel.html"


@pytest.fixture
def register_widget(widget_template):
    registered = []

    def register(**options):
        registered.append("widget")
        return register_customer_panel("widget", widget_template, **options)

    yield register
    for key in registered:
        unregister_customer_panel(key)


def page(client, user, customer) -> str:
    client.force_login(user)
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_apps_panels_stand_beside_the_profile_in_their_order(client, sales, own_customer):
    content = page(client, sales, own_customer)
    positions = [
        content.index(marker)
        for marker in (
            'id="scores"',
            'id="prediction"',
            'id="customer-follow-ups"',
            'id="membership"',
            'id="tags"',
        )
    ]
    assert positions == sorted(positions)
    assert content.index('id="timeline"') > content.index("stat-value")


def test_a_registered_panel_shows_its_context_in_its_place(
    client, sales, own_customer, register_widget
):
    register_widget(context=lambda request, customer: {"widget_colour": "蓝色"}, order=35)

    content = page(client, sales, own_customer)

    assert '<section class="card" id="widget">蓝色 · 王芳</section>' in content
    assert content.index('id="customer-follow-ups"') < content.index('id="widget"')
    assert content.index('id="widget"') < content.index('id="membership"')


def test_a_main_panel_stands_under_the_figures(client, sales, own_customer, register_widget):
    register_widget(slot="main", order=5)

    content = page(client, sales, own_customer)

    assert content.index("stat-value") < content.index('id="widget"')
    assert content.index('id="widget"') < content.index('id="timeline"')


def test_a_panel_hidden_from_the_user_is_not_shown_nor_computed(
    client, sales, analyst, own_customer, register_widget
):
    computed = []

    def context(request, customer):
        computed.append(request.user.username)
        return {"widget_colour": "蓝色"}

    register_widget(context=context, is_shown=lambda user, customer: user.role == "sales")

    assert 'id="widget"' not in page(client, analyst, own_customer)
    assert computed == []
    assert 'id="widget"' in page(client, sales, own_customer)
    assert computed == ["sales_north"]


def test_a_panel_may_not_overwrite_the_pages_context(client, sales, own_customer, register_widget):
    register_widget(context=lambda request, customer: {"can_edit": True})

    client.force_login(sales)
    with pytest.raises(ImproperlyConfigured, match="can_edit"):
        client.get(reverse("customers:detail", args=[own_customer.pk]))


def test_an_unknown_slot_is_refused(widget_template):
    with pytest.raises(ImproperlyConfigured):
        register_customer_panel("widget", widget_template, slot="footer")  # type: ignore[arg-type]
