from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from kehu.core.errors import NotAllowed
from kehu.engagement.models import Interaction
from kehu.engagement.services import log_interaction


def test_logging_a_call_counts_as_follow_up(sales, own_customer):
    interaction = log_interaction(sales, own_customer.pk, channel="phone", summary="回访满意度")
    own_customer.refresh_from_db()
    assert interaction.staff == sales
    assert own_customer.last_followed_up_at == interaction.occurred_at


def test_older_contacts_do_not_move_the_follow_up_back(sales, own_customer):
    recent = log_interaction(sales, own_customer.pk, channel="wecom", summary="发券")
    log_interaction(
        sales,
        own_customer.pk,
        channel="phone",
        summary="补录",
        occurred_at=timezone.now() - timedelta(days=3),
    )
    own_customer.refresh_from_db()
    assert own_customer.last_followed_up_at == recent.occurred_at


def test_sales_must_claim_pool_customers_before_logging(sales, pool_customer):
    with pytest.raises(NotAllowed):
        log_interaction(sales, pool_customer.pk, channel="phone", summary="hi")
    assert Interaction.objects.count() == 0


def test_another_salespersons_customer_is_not_found(sales, colleague_customer):
    with pytest.raises(Http404):
        log_interaction(sales, colleague_customer.pk, channel="phone", summary="hi")


def test_bad_fields_are_named(sales, own_customer):
    with pytest.raises(ValidationError) as caught:
        log_interaction(
            sales,
            own_customer.pk,
            channel="fax",
            summary=" ",
            occurred_at=timezone.now() + timedelta(days=1),
        )
    assert set(caught.value.message_dict) == {"channel", "summary", "occurred_at"}
    assert Interaction.objects.count() == 0


def test_service_logs_on_any_customer(service_agent, colleague_customer):
    log_interaction(service_agent, colleague_customer.pk, channel="phone", summary="投诉处理")
    assert Interaction.objects.count() == 1
