"""A referral code (推荐码) given when a customer is created, on the page and in the API: the
customer and the pending referral are written together, and a refused code leaves neither."""

import pytest
from django.urls import reverse
from django.utils import translation

from kehu.customers.models import Customer
from kehu.loyalty.models import MembershipStatus, Referral
from kehu.loyalty.tests.referral_data import make_member
from tests.api_client import ApiClient, error_paths

HOSTILE = "<script>alert('x')</script>"
VALID_FORM = {"gender": "unknown", "source_channel": "store", "status": "active"}


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def referrer(sales):
    return make_member(sales, "王芳", mobile="13900000001")


def new_customer(**fields):
    return {**VALID_FORM, "name": "李娜", "mobile": "13900000002", **fields}


def referrals():
    return list(Referral.objects.values_list("referrer_id", "referee__name", "status"))


def post_form(client, user, **fields):
    client.force_login(user)
    return client.post(reverse("customers:create"), new_customer(**fields))


# --- the page ---------------------------------------------------------------------------------


def test_a_valid_code_creates_the_customer_with_a_pending_referral(client, sales, referrer):
    response = post_form(client, sales, referral_code=f" {referrer.referral_code.lower()} ")

    customer = Customer.objects.get(name="李娜")
    assert response["Location"] == reverse("customers:detail", args=[customer.pk])
    assert referrals() == [(referrer.pk, "李娜", "pending")]
    assert Referral.objects.get().code_used == referrer.referral_code
    shown = [str(message) for message in response.wsgi_request._messages]
    assert f"Referral code {referrer.referral_code} recorded" in shown[1]


def test_the_field_is_on_the_new_customer_form_only(client, sales, own_customer):
    client.force_login(sales)
    new = client.get(reverse("customers:create")).content.decode()
    edit = client.get(reverse("customers:edit", args=[own_customer.pk])).content.decode()
    assert 'name="referral_code"' in new and "Referral code" in new
    assert 'name="referral_code"' not in edit


def test_without_a_code_only_the_customer_is_created(client, sales, referrer):
    response = post_form(client, sales, referral_code="   ")
    assert response.status_code == 302
    assert Customer.objects.filter(name="李娜").count() == 1
    assert referrals() == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("NOSUCH12", "No member has the referral code “NOSUCH12”."),
        (HOSTILE[:20], "No member has the referral code “<SCRIPT>ALERT('X')</”."),
    ],
)
def test_an_unknown_code_is_an_error_on_the_field_and_nothing_is_created(
    client, sales, referrer, code, message
):
    before = Customer.objects.count()
    response = post_form(client, sales, referral_code=code)
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["form"].errors["referral_code"][0].startswith(message)
    assert 'id="field-referral_code"' in page
    assert "<SCRIPT>" not in page and "<script>alert" not in page
    assert Customer.objects.count() == before
    assert referrals() == []


def test_a_code_longer_than_any_is_refused_by_the_form(client, sales, referrer):
    before = Customer.objects.count()
    response = post_form(client, sales, referral_code=HOSTILE * 3)
    assert "referral_code" in response.context["form"].errors
    assert "<script>alert" not in response.content.decode()
    assert Customer.objects.count() == before


def test_the_members_own_mobile_is_a_self_referral(client, sales, referrer):
    before = Customer.objects.count()
    response = post_form(
        client,
        sales,
        mobile=referrer.customer.mobile,
        allow_duplicate="on",
        referral_code=referrer.referral_code,
    )
    assert response.context["form"].errors["referral_code"] == [
        "A member cannot refer themselves (same customer or same mobile number)."
    ]
    assert Customer.objects.count() == before and referrals() == []


def test_a_frozen_members_code_is_refused(client, sales, referrer):
    referrer.status = MembershipStatus.FROZEN
    referrer.save()
    before = Customer.objects.count()
    response = post_form(client, sales, referral_code=referrer.referral_code)
    assert response.context["form"].errors["referral_code"] == [
        "The referring member's membership is not active."
    ]
    assert Customer.objects.count() == before


def test_the_same_code_brings_two_customers(client, sales, referrer):
    post_form(client, sales, referral_code=referrer.referral_code)
    post_form(
        client, sales, name="周杰", mobile="13900000003", referral_code=referrer.referral_code
    )
    assert sorted(referrals()) == [
        (referrer.pk, "周杰", "pending"),
        (referrer.pk, "李娜", "pending"),
    ]


def test_a_resubmitted_form_is_a_duplicate_and_records_nothing_twice(client, sales, referrer):
    post_form(client, sales, referral_code=referrer.referral_code)
    again = post_form(client, sales, referral_code=referrer.referral_code)
    assert again.status_code == 200 and again.context["duplicates"] is not None
    assert Customer.objects.filter(name="李娜").count() == 1
    assert len(referrals()) == 1


def test_roles_that_may_not_create_customers_get_403(client, service_agent, referrer):
    before = Customer.objects.count()
    response = post_form(client, service_agent, referral_code=referrer.referral_code)
    assert response.status_code == 403
    assert Customer.objects.count() == before and referrals() == []


# --- the API ----------------------------------------------------------------------------------


def create_body(**fields):
    return {"name": "李娜", "mobile": "13900000002", **fields}


def test_the_api_creates_and_attributes_together(sales, referrer):
    response = ApiClient(sales).post(
        "/customers", create_body(referral_code=referrer.referral_code.lower())
    )
    assert response.status_code == 201, response.content
    assert referrals() == [(referrer.pk, "李娜", "pending")]
    assert Referral.objects.get().referee_id == response.json()["id"]


@pytest.mark.parametrize(
    ("code", "rule", "message"),
    [
        ("NOSUCH12", "unknown_code", "No member has the referral code “NOSUCH12”."),
        ("self", "self_referral", "A member cannot refer themselves"),
        ("frozen", "referrer_inactive", "The referring member's membership is not active."),
        ("' OR 1=1 --", "unknown_code", "No member has the referral code “'OR1=1--”."),
    ],
)
def test_a_refused_code_answers_422_naming_the_rule_and_creates_nothing(
    sales, referrer, code, rule, message
):
    body = create_body(referral_code=code)
    if code == "self":
        body.update(mobile=referrer.customer.mobile, allow_duplicate=True)
        body["referral_code"] = referrer.referral_code
    if code == "frozen":
        referrer.status = MembershipStatus.FROZEN
        referrer.save()
        body["referral_code"] = referrer.referral_code
    before = Customer.objects.count()

    response = ApiClient(sales).post("/customers", body)

    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == rule
    assert error["message"].startswith(message)
    assert error_paths(response) == [["body", "referral_code"]]
    assert Customer.objects.count() == before and referrals() == []


def test_an_overlong_code_is_an_invalid_request(sales, referrer):
    response = ApiClient(sales).post("/customers", create_body(referral_code=HOSTILE * 2))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert ["body", "referral_code"] in error_paths(response)
    assert not Customer.objects.filter(name="李娜").exists()


def test_a_duplicate_customer_keeps_its_own_409(sales, referrer, own_customer):
    body = create_body(mobile=own_customer.mobile, referral_code=referrer.referral_code)
    response = ApiClient(sales).post("/customers", body)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate_customer"
    assert referrals() == []


@pytest.mark.parametrize("role", ["service_agent", "marketer", "analyst"])
def test_roles_without_customer_creation_get_403_in_the_api(request, role, referrer):
    before = Customer.objects.count()
    api = ApiClient(request.getfixturevalue(role))
    response = api.post("/customers", create_body(referral_code=referrer.referral_code))
    assert response.status_code == 403
    assert Customer.objects.count() == before and referrals() == []
