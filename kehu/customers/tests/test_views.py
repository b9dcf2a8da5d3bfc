"""The customer pages: list, customer page, forms, pool and the actions on one customer."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.accounts.models import PoolPolicy
from kehu.commerce.models import Order, OrderLine
from kehu.customers.models import CustomAttribute, Customer, CustomerMerge, OwnershipChange
from kehu.customers.services import set_tags
from kehu.engagement.models import Interaction
from tests.fixtures.records import make_customer

HOSTILE_NAMES = ["<script>alert(1)</script>", "'; DROP TABLE customers_customer; --"]
VALID_FORM = {"gender": "unknown", "source_channel": "store", "status": "active"}


def form_data(**fields):
    return {**VALID_FORM, **fields}


# --- the list ---------------------------------------------------------------------------------


def test_list_is_in_chinese_by_default(client, sales, own_customer):
    client.force_login(sales)
    content = client.get(reverse("customers:list")).content.decode()
    assert "<h1>客户" in content
    assert "王芳" in content


def test_list_in_english_after_switching_language(client, sales, own_customer):
    client.force_login(sales)
    client.post(reverse("set_language"), {"language": "en", "next": "/customers/"})
    content = client.get(reverse("customers:list")).content.decode()
    assert "<h1>Customers" in content
    assert "<h1>客户" not in content


def test_list_shows_own_and_pool_customers_only(
    client, sales, own_customer, colleague_customer, pool_customer
):
    client.force_login(sales)
    response = client.get(reverse("customers:list"))
    assert {c.pk for c in response.context["customers"]} == {own_customer.pk, pool_customer.pk}


def test_list_searches_by_name_mobile_and_member_number(client, sales):
    wanted = make_customer(owner=sales, name="赵敏", mobile="13700001111", member_number="M-77")
    make_customer(owner=sales, name="周芷若")
    client.force_login(sales)
    for term in ("赵敏", "0001111", "M-77"):
        response = client.get(reverse("customers:list"), {"q": term})
        assert [c.pk for c in response.context["customers"]] == [wanted.pk], term


def test_list_filters_by_pool_tag_and_city(client, manager, own_customer, pool_customer):
    set_tags(own_customer, ["VIP"])
    Customer.objects.filter(pk=pool_customer.pk).update(city="杭州")
    client.force_login(manager)
    tag_id = own_customer.tags.get().pk
    cases = [({"pool": "1"}, [pool_customer]), ({"pool": "0"}, [own_customer])]
    cases += [({"tag": tag_id}, [own_customer]), ({"city": "杭州"}, [pool_customer])]
    for params, expected in cases:
        response = client.get(reverse("customers:list"), params)
        assert [c.pk for c in response.context["customers"]] == [c.pk for c in expected], params


def test_list_sorts_by_name(client, sales):
    for name in ("b", "c", "a"):
        make_customer(owner=sales, name=name)
    client.force_login(sales)
    response = client.get(reverse("customers:list"), {"sort": "name"})
    assert [c.name for c in response.context["customers"]] == ["a", "b", "c"]
    assert 'href="?sort=-name"' in response.content.decode()


def test_list_paginates_by_25(client, sales):
    for index in range(30):
        make_customer(owner=sales, name=f"客户{index}")
    client.force_login(sales)
    first = client.get(reverse("customers:list"))
    second = client.get(reverse("customers:list"), {"page": 2})
    assert len(first.context["customers"]) == 25
    assert len(second.context["customers"]) == 5


def test_list_masks_contacts_for_marketing(client, marketer, own_customer):
    client.force_login(marketer)
    content = client.get(reverse("customers:list")).content.decode()
    masked = f"{own_customer.mobile[:3]}****{own_customer.mobile[-4:]}"
    assert masked in content
    assert own_customer.mobile not in content


def test_empty_list_says_what_to_do(client, sales):
    client.force_login(sales)
    content = client.get(reverse("customers:list")).content.decode()
    assert "还没有客户" in content
    assert reverse("customers:create") in content


def test_list_has_few_queries_for_30_customers(client, sales, store, django_assert_max_num_queries):
    for index in range(30):
        customer = make_customer(owner=sales, name=f"客户{index}", home_store=store)
        set_tags(customer, ["VIP", f"tag{index}"])
    client.force_login(sales)
    client.get(reverse("customers:list"))  # warm the session and the pool policy row
    with django_assert_max_num_queries(10):
        response = client.get(reverse("customers:list"))
    assert len(response.context["customers"]) == 25


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_names_are_escaped(client, sales, name):
    customer = make_customer(owner=sales, name=name)
    client.force_login(sales)
    for url in (reverse("customers:list"), reverse("customers:detail", args=[customer.pk])):
        content = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in content
        if name.startswith("<"):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
        else:
            assert "&#x27;; DROP TABLE customers_customer; --" in content
    assert Customer.objects.filter(name=name).count() == 1


# --- the customer page --------------------------------------------------------------------------


def make_orders(customer, channel, count):
    for index in range(count):
        order = Order.objects.create(
            customer=customer,
            channel=channel,
            external_id=f"SO-{customer.pk}-{index}",
            ordered_at=timezone.now() - timedelta(days=index),
            total_amount=Decimal("25.00"),
        )
        OrderLine.objects.create(
            order=order,
            product_name="鲜牛奶 1L",
            quantity=2,
            unit_price=Decimal("12.50"),
            amount=Decimal("25.00"),
        )


def test_customer_page_shows_orders_interactions_and_owner(client, sales, own_customer, channel):
    make_orders(own_customer, channel, 3)
    Interaction.objects.create(
        customer=own_customer, channel="phone", summary="问了新品", occurred_at=timezone.now()
    )
    set_tags(own_customer, ["宝妈"])
    client.force_login(sales)
    response = client.get(reverse("customers:detail", args=[own_customer.pk]))
    content = response.content.decode()
    assert response.context["totals"]["count"] == 3
    assert response.context["totals"]["total"] == Decimal("75.00")
    assert "鲜牛奶 1L ×2" in content
    assert "问了新品" in content
    assert "宝妈" in content
    assert own_customer.mobile in content


def test_customer_page_masks_contacts_for_analysts(client, analyst, own_customer):
    client.force_login(analyst)
    content = client.get(reverse("customers:detail", args=[own_customer.pk])).content.decode()
    assert own_customer.mobile not in content
    assert "wangfang@example.com" not in content
    assert "w***@example.com" in content


def test_customer_page_has_few_queries(
    client, sales, own_customer, channel, django_assert_max_num_queries
):
    make_orders(own_customer, channel, 30)
    for index in range(30):
        Interaction.objects.create(
            customer=own_customer, channel="phone", summary=f"第{index}次", staff=sales,
            occurred_at=timezone.now() - timedelta(hours=index),
        )  # fmt: skip
    for _ in range(30):
        OwnershipChange.objects.create(
            customer=own_customer, action="assign", new_owner=sales, actor=sales
        )
    set_tags(own_customer, [f"tag{index}" for index in range(30)])
    CustomAttribute.objects.create(key="size", label="鞋码", type="number")
    client.force_login(sales)
    url = reverse("customers:detail", args=[own_customer.pk])
    client.get(url)
    with django_assert_max_num_queries(15):  # + the membership card (loyalty)
        response = client.get(url)
    assert len(response.context["orders"]) == 20


def test_pool_customer_page_offers_claim_to_sales_only(client, sales, analyst, pool_customer):
    url = reverse("customers:detail", args=[pool_customer.pk])
    claim_url = reverse("customers:claim", args=[pool_customer.pk])
    client.force_login(sales)
    assert claim_url in client.get(url).content.decode()
    client.force_login(analyst)
    assert claim_url not in client.get(url).content.decode()


# --- create and edit ---------------------------------------------------------------------------


def test_create_customer_owned_by_the_salesperson(client, sales, store):
    client.force_login(sales)
    data = form_data(name="林黛玉", mobile="138 0013 8000", home_store=store.pk, tags="VIP，宝妈")
    response = client.post(reverse("customers:create"), data)
    customer = Customer.objects.get(name="林黛玉")
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert (customer.mobile, customer.owner, customer.home_store) == ("13800138000", sales, store)
    assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "宝妈"]


def test_create_shows_errors_next_to_fields(client, sales):
    client.force_login(sales)
    response = client.post(
        reverse("customers:create"), form_data(name="", mobile="12345", email="no-at")
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"name", "mobile", "email"}
    assert "12345" in form.errors["mobile"][0]
    assert 'id="field-mobile"' in response.content.decode()
    assert Customer.objects.count() == 0


def test_duplicate_warning_links_to_the_match_and_can_be_overridden(client, sales, own_customer):
    client.force_login(sales)
    data = form_data(name="王芳二号", mobile=own_customer.mobile)
    response = client.post(reverse("customers:create"), data)
    content = response.content.decode()
    assert response.status_code == 200
    assert reverse("customers:detail", args=[own_customer.pk]) in content
    assert 'name="allow_duplicate"' in content
    assert Customer.objects.count() == 1
    response = client.post(reverse("customers:create"), {**data, "allow_duplicate": "on"})
    assert response.status_code == 302
    assert Customer.objects.filter(mobile=own_customer.mobile).count() == 2


def test_duplicate_of_an_unseen_customer_is_not_named(client, sales, colleague_customer):
    client.force_login(sales)
    data = form_data(name="重复", mobile=colleague_customer.mobile)
    response = client.post(reverse("customers:create"), data)
    content = response.content.decode()
    duplicates = response.context["duplicates"]
    assert (duplicates["matches"], duplicates["hidden_matches"]) == ([], 1)
    assert duplicates["can_force"] is False
    assert reverse("customers:detail", args=[colleague_customer.pk]) not in content
    assert "李娜" not in content
    assert 'name="allow_duplicate"' not in content
    assert Customer.objects.count() == 1


def test_edit_with_a_bad_mobile_changes_nothing(client, sales, own_customer):
    client.force_login(sales)
    url = reverse("customers:edit", args=[own_customer.pk])
    response = client.post(url, form_data(name="王芳", mobile="12345"))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["mobile"]
    own_customer.refresh_from_db()
    assert own_customer.mobile != "12345"


def test_edit_saves_and_returns_to_the_customer(client, sales, own_customer):
    client.force_login(sales)
    url = reverse("customers:edit", args=[own_customer.pk])
    response = client.post(url, form_data(name="王芳芳", mobile="+86 139-0000-1234", city="北京"))
    assert response["Location"] == reverse("customers:detail", args=[own_customer.pk])
    own_customer.refresh_from_db()
    assert (own_customer.name, own_customer.mobile, own_customer.city) == (
        "王芳芳",
        "13900001234",
        "北京",
    )


def test_edit_form_starts_with_the_current_values(client, sales, own_customer):
    client.force_login(sales)
    response = client.get(reverse("customers:edit", args=[own_customer.pk]))
    assert f'value="{own_customer.mobile}"' in response.content.decode()


def test_custom_attributes_are_extra_inputs_checked_by_the_service(client, sales, own_customer):
    CustomAttribute.objects.create(key="shoe_size", label="鞋码", type="number")
    client.force_login(sales)
    url = reverse("customers:edit", args=[own_customer.pk])
    assert 'name="attr_shoe_size"' in client.get(url).content.decode()
    response = client.post(url, form_data(name="王芳", attr_shoe_size="大号"))
    assert response.status_code == 200
    assert "鞋码" in str(response.context["form"].non_field_errors())
    client.post(url, form_data(name="王芳", attr_shoe_size="38"))
    own_customer.refresh_from_db()
    assert own_customer.custom_attributes == {"shoe_size": 38.0}


# --- pool, claim, release, transfer, tags, merge ---------------------------------------------


def test_pool_lists_pool_customers_with_the_claim_quota(client, sales, own_customer, pool_customer):
    PoolPolicy.objects.update_or_create(pk=1, defaults={"claim_limit": 5})
    client.force_login(sales)
    response = client.get(reverse("customers:pool"))
    assert [c.pk for c in response.context["customers"]] == [pool_customer.pk]
    assert response.context["claims_left"] == 4


def test_claim_with_htmx_returns_the_row_and_the_new_quota(client, sales, pool_customer):
    client.force_login(sales)
    response = client.post(
        reverse("customers:claim", args=[pool_customer.pk]), headers={"HX-Request": "true"}
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert f'id="pool-customer-{pool_customer.pk}"' in content
    assert 'hx-swap-oob="true"' in content
    pool_customer.refresh_from_db()
    assert pool_customer.owner == sales


def test_claim_over_the_limit_shows_the_reason_in_the_row(client, sales, pool_customer):
    PoolPolicy.objects.update_or_create(pk=1, defaults={"claim_limit": 0})
    client.force_login(sales)
    response = client.post(
        reverse("customers:claim", args=[pool_customer.pk]), headers={"HX-Request": "true"}
    )
    assert "已达上限" in response.content.decode()
    pool_customer.refresh_from_db()
    assert pool_customer.owner is None
    # The refusal was shown in the row, so it does not come back on the next page.
    assert "已达上限" not in client.get(reverse("customers:pool")).content.decode()


def test_release_without_a_reason_keeps_the_owner(client, sales, own_customer):
    client.force_login(sales)
    url = reverse("customers:release", args=[own_customer.pk])
    response = client.post(url, {"reason": " "}, follow=True)
    assert "说明" in response.content.decode()
    own_customer.refresh_from_db()
    assert own_customer.owner == sales


def test_release_with_a_reason_returns_to_the_pool(client, sales, own_customer):
    client.force_login(sales)
    client.post(reverse("customers:release", args=[own_customer.pk]), {"reason": "搬家了"})
    own_customer.refresh_from_db()
    assert own_customer.owner is None
    assert OwnershipChange.objects.get(customer=own_customer).reason == "搬家了"


def test_transfer_to_another_team_is_refused_with_a_message(
    client, manager, south_sales, own_customer
):
    client.force_login(manager)
    url = reverse("customers:transfer", args=[own_customer.pk])
    response = client.post(url, {"new_owner": south_sales.pk}, follow=True)
    assert response.status_code == 200
    own_customer.refresh_from_db()
    assert own_customer.owner.username == "sales_north"


def test_tags_are_replaced(client, sales, own_customer):
    set_tags(own_customer, ["旧"])
    client.force_login(sales)
    client.post(reverse("customers:tags", args=[own_customer.pk]), {"tags": "VIP、宝妈"})
    assert sorted(own_customer.tags.values_list("name", flat=True)) == ["VIP", "宝妈"]


def test_duplicates_lists_visible_matches_only(client, sales, own_customer, colleague_customer):
    twin = make_customer(owner=sales, name="王芳", email="wangfang@example.com")
    Customer.objects.filter(pk=colleague_customer.pk).update(email="wangfang@example.com")
    client.force_login(sales)
    response = client.get(reverse("customers:duplicates", args=[own_customer.pk]))
    assert [match.customer_id for match in response.context["matches"]] == [twin.pk]


def test_merge_moves_orders_into_the_kept_customer(client, sales, own_customer, channel):
    twin = make_customer(owner=sales, name="王芳")
    make_orders(twin, channel, 2)
    client.force_login(sales)
    response = client.post(
        reverse("customers:merge", args=[own_customer.pk]), {"merged_id": twin.pk}
    )
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=twin.pk).exists()
    assert own_customer.orders.count() == 2
    assert CustomerMerge.objects.get().merged_customer_id == twin.pk


def test_merge_into_itself_is_refused(client, sales, own_customer):
    client.force_login(sales)
    url = reverse("customers:merge", args=[own_customer.pk])
    response = client.post(url, {"merged_id": own_customer.pk}, follow=True)
    assert response.status_code == 200
    assert CustomerMerge.objects.count() == 0
    assert Customer.objects.filter(pk=own_customer.pk).exists()
