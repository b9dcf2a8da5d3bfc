"""Coupons as referral rewards: each side gets the configured coupon once (with its points, or
instead of them), a template that can no longer give coupons is skipped with a notification
while the points are paid, the settings offer and accept only templates that can be given,
and the pages and API show what a referral gave."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kehu.accounts.models import Notification
from kehu.loyalty.members.services import ensure_default_tiers
from kehu.loyalty.models import (
    Coupon,
    CouponTemplate,
    LoyaltySettings,
    Membership,
    PointsEntry,
    Referral,
)
from kehu.loyalty.programme.services import update_loyalty_settings
from kehu.loyalty.referrals.queries import referral_report, rewards_given
from kehu.loyalty.referrals.services import (
    attribute_referral,
    reward_pending_referrals,
    reward_referral,
    reward_referral_for_order,
)
from kehu.loyalty.tests.coupon_data import make_template
from kehu.loyalty.tests.referral_data import balance, days_ago, ledger, make_member, make_order
from tests.api_client import ApiClient
from tests.fixtures.people import PASSWORD
from tests.fixtures.records import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def referrer(sales):
    return make_member(sales, "王芳", mobile="13900000001")


@pytest.fixture
def newcomer(sales):
    return make_customer(sales, name="李娜", mobile="13900000002")


@pytest.fixture
def welcome(manager):
    return make_template(manager, name="新人礼 ¥20", amount_off=Decimal("20.00"))


@pytest.fixture
def thanks(manager):
    return make_template(manager, name="推荐有礼 ¥30", amount_off=Decimal("30.00"))


def set_rewards(**values):
    LoyaltySettings.objects.filter(pk=LoyaltySettings.current().pk).update(**values)


def referred_and_bought(actor, referrer, newcomer, channel):
    """The newcomer was referred two days ago and made a qualifying purchase yesterday."""
    referral = attribute_referral(actor, newcomer.pk, referrer.referral_code, now=days_ago(2))
    order = make_order(newcomer, channel, "150.00", ordered_at=days_ago(1))
    return referral.referral, order


def coupons_by_key():
    coupons = Coupon.objects.order_by("issue_key")
    return list(coupons.values_list("issue_key", "customer_id", "template_id"))


def skipped_notices():
    notices = Notification.objects.filter(kind="referral_coupon_skipped")
    return list(notices.order_by("recipient__username").values_list("recipient__username", "title"))


# --- paying the coupon ------------------------------------------------------------------------


def test_each_side_gets_its_coupon_with_its_points(
    sales, referrer, newcomer, channel, welcome, thanks
):
    set_rewards(referrer_reward_coupon=thanks, referee_reward_coupon=welcome)
    referral, order = referred_and_bought(sales, referrer, newcomer, channel)

    paid = reward_referral_for_order(order)

    assert paid.status == "rewarded"
    key = f"referral:{referral.pk}"
    assert coupons_by_key() == [
        (f"{key}:referee:coupon", newcomer.pk, welcome.pk),
        (f"{key}:referrer:coupon", referrer.customer_id, thanks.pk),
    ]
    assert ledger(referrer) == [(f"{key}:referrer", 200)]
    assert balance(Membership.objects.get(customer=newcomer)) == 100
    assert CouponTemplate.objects.get(pk=welcome.pk).issued_count == 1
    assert skipped_notices() == []


def test_zero_points_and_a_coupon_give_the_coupon_only(sales, referrer, newcomer, channel, welcome):
    set_rewards(referee_reward_points=0, referee_reward_coupon=welcome)
    referral, order = referred_and_bought(sales, referrer, newcomer, channel)

    reward_referral_for_order(order)

    referee_membership = Membership.objects.get(customer=newcomer)
    assert ledger(referee_membership) == []
    assert balance(referrer) == 200
    assert coupons_by_key() == [(f"referral:{referral.pk}:referee:coupon", newcomer.pk, welcome.pk)]


def test_paying_again_by_any_path_gives_no_second_coupon(
    sales, referrer, newcomer, channel, welcome, thanks
):
    set_rewards(referrer_reward_coupon=thanks, referee_reward_coupon=welcome)
    referral, order = referred_and_bought(sales, referrer, newcomer, channel)

    reward_referral_for_order(order)
    reward_referral(referral.pk)
    reward_pending_referrals()
    reward_referral_for_order(order)

    assert Coupon.objects.count() == 2
    assert PointsEntry.objects.count() == 2
    issued = dict(CouponTemplate.objects.values_list("pk", "issued_count"))
    assert issued == {welcome.pk: 1, thanks.pk: 1}


def test_a_switched_off_template_is_skipped_the_points_paid_and_managers_told(
    sales, manager, marketer, admin_user, referrer, newcomer, channel, welcome
):
    set_rewards(referee_reward_coupon=welcome)
    CouponTemplate.objects.filter(pk=welcome.pk).update(is_active=False)
    referral, order = referred_and_bought(sales, referrer, newcomer, channel)

    paid = reward_referral_for_order(order)

    assert paid.status == "rewarded"
    assert not Coupon.objects.exists()
    assert balance(referrer) == 200
    assert balance(Membership.objects.get(customer=newcomer)) == 100
    title = "Referral coupon not given: “新人礼 ¥20”"
    assert skipped_notices() == [
        ("admin", title),
        ("manager_north", title),
        ("marketing", title),
    ]  # not the salesperson: their role does not run the programme
    notice = Notification.objects.filter(recipient=manager).get()
    assert notice.body.startswith(
        f"Referral #{referral.pk} (referrer's card {referrer.card_number}): the new member did "
        "not get the coupon “新人礼 ¥20”. The coupon template “新人礼 ¥20” is not active."
    )
    assert notice.link == reverse("loyalty:coupon_template", args=[welcome.pk])


def test_the_last_coupon_goes_to_the_referrer_and_the_referee_is_skipped(
    sales, manager, referrer, newcomer, channel, welcome
):
    CouponTemplate.objects.filter(pk=welcome.pk).update(total_limit=1)
    set_rewards(referrer_reward_coupon=welcome, referee_reward_coupon=welcome)
    referral, order = referred_and_bought(sales, referrer, newcomer, channel)

    reward_referral_for_order(order)

    assert coupons_by_key() == [
        (f"referral:{referral.pk}:referrer:coupon", referrer.customer_id, welcome.pk)
    ]
    assert CouponTemplate.objects.get(pk=welcome.pk).issued_count == 1
    notice = Notification.objects.get(recipient=manager)
    assert "the new member did not get" in notice.body
    assert "All 1 coupons of “新人礼 ¥20” have been issued." in notice.body
    assert balance(Membership.objects.get(customer=newcomer)) == 100


def test_a_template_past_its_end_is_skipped(sales, manager, referrer, newcomer, channel, thanks):
    now = timezone.now()
    CouponTemplate.objects.filter(pk=thanks.pk).update(
        validity="fixed", valid_from=now - timedelta(days=30), valid_until=now - timedelta(hours=1)
    )
    set_rewards(referrer_reward_coupon=thanks)
    referral, order = referred_and_bought(sales, referrer, newcomer, channel)

    reward_referral_for_order(order)

    assert Referral.objects.get(pk=referral.pk).status == "rewarded"
    assert not Coupon.objects.exists()
    body = Notification.objects.get(recipient=manager).body
    assert "the referrer did not get the coupon “推荐有礼 ¥30”" in body
    assert "expired on" in body
    assert balance(referrer) == 200


def test_a_rejected_referral_gives_no_coupon(sales, referrer, channel, welcome):
    set_rewards(referee_reward_coupon=welcome)
    twin = make_customer(sales, name="王芳小号", mobile="13900000009")
    attribute_referral(sales, twin.pk, referrer.referral_code, now=days_ago(2))
    twin.mobile = referrer.customer.mobile  # became the referrer's mobile: a self-referral
    twin.save()
    make_order(twin, channel, "150.00", ordered_at=days_ago(1))

    reward_pending_referrals()

    assert Referral.objects.get().status == "rejected"
    assert not Coupon.objects.exists() and skipped_notices() == []


# --- the settings -----------------------------------------------------------------------------


def test_the_settings_keep_a_coupon_for_each_side(admin_user, welcome, thanks):
    settings = update_loyalty_settings(
        admin_user,
        {
            "referrer_reward_coupon": thanks,
            "referee_reward_points": 0,
            "referee_reward_coupon": welcome.pk,
        },
    )
    assert (settings.referrer_reward_coupon_id, settings.referee_reward_coupon_id) == (
        thanks.pk,
        welcome.pk,
    )
    assert (settings.referrer_reward_points, settings.referee_reward_points) == (200, 0)
    cleared = update_loyalty_settings(admin_user, {"referrer_reward_coupon": None})
    assert cleared.referrer_reward_coupon_id is None


def test_a_side_with_neither_points_nor_coupon_is_refused(admin_user, welcome):
    set_rewards(referee_reward_points=0, referee_reward_coupon=welcome)
    with pytest.raises(ValidationError) as refused:
        update_loyalty_settings(
            admin_user,
            {
                "referrer_reward_points": 0,
                "referrer_reward_coupon": None,
                "referee_reward_coupon": "",
            },
        )
    assert refused.value.message_dict == {
        "referrer_reward_points": ["Give the referrer points, a coupon or both."],
        "referee_reward_points": ["Give the new member points, a coupon or both."],
    }
    settings = LoyaltySettings.current()
    assert (settings.referrer_reward_points, settings.referee_reward_coupon_id) == (200, welcome.pk)


def test_templates_that_cannot_give_a_coupon_now_are_refused(admin_user, manager):
    tiers = {tier.name: tier for tier in ensure_default_tiers()}
    now = timezone.now()
    off = make_template(manager, name="停用券", is_active=False)
    sold_out = make_template(manager, name="抢光了", total_limit=1)
    CouponTemplate.objects.filter(pk=sold_out.pk).update(issued_count=1)
    gold_only = make_template(manager, name="金卡专享", tier_id=tiers["金卡"].pk)
    ended = make_template(
        manager,
        name="过期券",
        validity="fixed",
        valid_from=now - timedelta(days=10),
        valid_until=now - timedelta(days=1),
    )
    expected = {
        off: "The coupon template “停用券” is not active.",
        sold_out: "All 1 coupons of “抢光了” have been issued.",
        gold_only: "“金卡专享” is only for higher tiers; choose a coupon every member may hold.",
        ended: "The coupons of “过期券” expired on",
    }
    for template, message in expected.items():
        with pytest.raises(ValidationError) as refused:
            update_loyalty_settings(admin_user, {"referee_reward_coupon": template})
        assert refused.value.message_dict["referee_reward_coupon"][0].startswith(message)
    assert LoyaltySettings.current().referee_reward_coupon_id is None
    entry_tier = make_template(manager, name="普通会员券", tier_id=tiers["普通"].pk)
    saved = update_loyalty_settings(admin_user, {"referee_reward_coupon": entry_tier})
    assert saved.referee_reward_coupon_id == entry_tier.pk


def settings_form(**changes):
    form = {
        "action": "settings",
        "points_per_yuan": "1",
        "points_expire_months": "24",
        "points_per_yuan_offset": "100",
        "tier_basis": "spend",
        "downgrade_grace_days": "30",
        "referrer_reward_points": "200",
        "referrer_reward_coupon": "",
        "referee_reward_points": "100",
        "referee_reward_coupon": "",
        "referral_min_order": "50",
        "referrals_per_referrer_cap": "20",
        "card_prefix": "8",
        "adjustment_alert_points": "1000",
        "repeat_adjustments_alert": "3",
    }
    form.update({name: str(value) for name, value in changes.items()})
    return form


def client_for(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_the_settings_page_offers_only_templates_that_can_be_given(admin_user, manager, welcome):
    off = make_template(manager, name="停用券", is_active=False)
    response = client_for(admin_user).get(reverse("loyalty:programme"))
    choices = response.context["settings_form"].fields["referee_reward_coupon"].queryset
    assert list(choices) == [welcome]
    page = response.content.decode()
    assert "新人礼 ¥20 · ¥20 off" in page and "停用券" not in page
    assert 'name="referee_reward_coupon"' in page and "No coupon" in page
    assert off.pk not in [template.pk for template in choices]


def test_the_settings_page_saves_a_coupon_and_refuses_an_empty_side(admin_user, welcome):
    client = client_for(admin_user)
    url = reverse("loyalty:programme")

    saved = client.post(
        url, settings_form(referee_reward_points=0, referee_reward_coupon=welcome.pk)
    )
    refused = client.post(url, settings_form(referrer_reward_points=0))

    assert saved.status_code == 302
    assert refused.status_code == 400
    form = refused.context["settings_form"]
    assert form.errors["referrer_reward_points"] == ["Give the referrer points, a coupon or both."]
    settings = LoyaltySettings.current()
    assert (settings.referrer_reward_points, settings.referee_reward_points) == (200, 0)
    assert settings.referee_reward_coupon_id == welcome.pk


def test_a_chosen_template_switched_off_later_is_shown_and_must_be_changed(admin_user, welcome):
    set_rewards(referee_reward_coupon=welcome)
    CouponTemplate.objects.filter(pk=welcome.pk).update(is_active=False)
    client = client_for(admin_user)
    url = reverse("loyalty:programme")

    shown = client.get(url).context["settings_form"]
    kept = client.post(url, settings_form(referee_reward_coupon=welcome.pk))
    another = client.post(url, settings_form(points_per_yuan=2, referee_reward_coupon=9_999_999))

    assert list(shown.fields["referee_reward_coupon"].queryset) == [welcome]
    assert kept.status_code == 400
    assert kept.context["settings_form"].errors["referee_reward_coupon"] == [
        "The coupon template “新人礼 ¥20” is not active."
    ]
    assert "referee_reward_coupon" in another.context["settings_form"].errors
    assert LoyaltySettings.current().points_per_yuan == 1


# --- what the pages and the API show -----------------------------------------------------------


@pytest.fixture
def rewarded(sales, referrer, newcomer, channel, welcome, thanks):
    set_rewards(referrer_reward_coupon=thanks, referee_reward_coupon=welcome)
    referral, order = referred_and_bought(sales, referrer, newcomer, channel)
    reward_referral_for_order(order)
    return Referral.objects.get(pk=referral.pk)


def test_rewards_given_reads_points_and_coupons_in_two_queries(
    sales, rewarded, welcome, thanks, django_assert_num_queries
):
    with django_assert_num_queries(2):
        given = rewards_given(sales, [rewarded.pk])[rewarded.pk]
    welcome_code = Coupon.objects.get(template=welcome).code
    assert (given.referrer_points, given.referee_points) == (200, 100)
    assert given.referee_coupon.template_name == "新人礼 ¥20"
    assert given.referee_coupon.code == welcome_code
    assert given.referrer_coupon.template_id == thanks.pk


def test_coupon_codes_of_customers_out_of_sight_are_not_shown(
    sales, other_sales, rewarded, newcomer
):
    from kehu.customers.models import Customer

    Customer.objects.filter(pk=newcomer.pk).update(owner=other_sales)
    given = rewards_given(sales, [rewarded.pk])[rewarded.pk]
    assert given.referee_coupon.code == ""
    assert given.referee_coupon.template_name == "新人礼 ¥20"
    assert given.referrer_coupon.code != ""


def test_the_tree_and_the_report_show_what_was_given(client, sales, manager, rewarded, referrer):
    client.force_login(sales)
    tree = client.get(reverse("loyalty:referral_tree", args=[referrer.customer_id]))
    page = tree.content.decode()
    welcome_code = Coupon.objects.get(issue_key__endswith=":referee:coupon").code
    assert tree.context["referral_nodes"][0].reward.referee_points == 100
    assert f"新人礼 ¥20 <code>{welcome_code}</code>" in page
    referee_page = client.get(reverse("loyalty:referral_tree", args=[rewarded.referee_id]))
    assert 'id="referred-by-reward"' in referee_page.content.decode()
    assert referral_report(manager).coupons_given == 2
    client.force_login(manager)
    report = client.get(reverse("loyalty:referrals")).content.decode()
    assert 'id="coupons-given">2<' in report


def test_the_api_shows_the_points_and_coupons_given(sales, rewarded, referrer, newcomer, welcome):
    api = ApiClient(sales)
    read = api.get(f"/customers/{newcomer.pk}/referral").json()
    listed = api.get(f"/customers/{referrer.customer_id}/referrals").json()["items"]
    welcome_code = Coupon.objects.get(template=welcome).code
    assert (read["referrer_points"], read["referee_points"]) == (200, 100)
    assert read["referee_coupon"] == {
        "template_id": welcome.pk,
        "template_name": "新人礼 ¥20",
        "code": welcome_code,
    }
    assert listed[0]["referee_coupon"]["code"] == welcome_code
    again = api.post(
        "/referrals", {"referee_customer_id": newcomer.pk, "code": referrer.referral_code}
    )
    assert again.status_code == 200 and again.json()["referrer_coupon"]["template_name"]


def test_a_pending_referral_shows_nothing_given(sales, referrer, newcomer):
    attribute_referral(sales, newcomer.pk, referrer.referral_code)
    read = ApiClient(sales).get(f"/customers/{newcomer.pk}/referral").json()
    assert (read["referrer_points"], read["referee_points"]) == (0, 0)
    assert read["referrer_coupon"] is None and read["referee_coupon"] is None
