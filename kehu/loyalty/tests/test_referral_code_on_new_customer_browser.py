"""The referral code on the new-customer page in a real Chromium: a wrong code is shown next to
its field with nothing created, the corrected code creates the customer and the referral."""

import pytest

from kehu.customers.models import Customer
from kehu.loyalty.models import Referral
from kehu.loyalty.tests.referral_data import make_member
from tests.fixtures.browser import log_in
from tests.fixtures.people import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_wrong_code_is_corrected_on_the_form(page, sales):
    referrer = make_member(sales, "王芳", mobile="13900000001")
    log_in(page, sales.username, PASSWORD)

    page.goto("/customers/new/")
    page.fill("input[name=name]", "李娜")
    page.fill("input[name=mobile]", "13900000002")
    page.fill("input[name=referral_code]", "NOSUCH12")
    page.click("form.card button[type=submit]")
    page.locator("#field-referral_code .errorlist").wait_for()
    assert "NOSUCH12" in page.inner_text("#field-referral_code .errorlist")
    assert not Customer.objects.filter(name="李娜").exists()

    page.fill("input[name=referral_code]", referrer.referral_code.lower())
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/customers/*/")

    customer = Customer.objects.get(name="李娜")
    assert page.url.endswith(f"/customers/{customer.pk}/")
    referral = Referral.objects.get()
    assert (referral.referrer_id, referral.referee_id, referral.status) == (
        referrer.pk,
        customer.pk,
        "pending",
    )
