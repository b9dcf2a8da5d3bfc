"""Call-back tasks (回访): planning them (one open per customer and source, only for customers
the user may see), who sees which on the list, closing them, and the customer page's list."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from kehu.core.errors import NotAllowed, RuleViolation
from kehu.engagement.models import FollowUp, FollowUpSource, FollowUpStatus, Interaction
from kehu.engagement.services import (
    MAX_FOLLOW_UPS_AT_ONCE,
    cancel_follow_up,
    complete_follow_up,
    plan_follow_up,
    plan_follow_ups,
)
from tests.fixtures.records import make_customer


def in_days(days):
    return timezone.localdate() + timedelta(days=days)


def task(customer, assignee, due_in=3, **fields):
    fields.setdefault("reason", "流失预警")
    return FollowUp.objects.create(
        customer=customer, assignee=assignee, due_on=in_days(due_in), **fields
    )


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


def page_messages(response):
    return [str(message) for message in response.context["messages"]]


# --- planning ----------------------------------------------------------------------------------


def test_plan_assigns_owners_and_the_actor_for_pool_customers(
    manager, sales, own_customer, pool_customer
):
    plan = plan_follow_ups(
        manager,
        [own_customer.pk, pool_customer.pk, own_customer.pk],
        due_on=in_days(3),
        reasons={own_customer.pk: "沉默了64天"},
        default_reason="流失预警",
        source=FollowUpSource.CHURN_WARNING,
    )
    assert (plan.created, plan.already_open, plan.not_visible) == (2, 0, 0)
    tasks = {item.customer_id: item for item in FollowUp.objects.all()}
    assert tasks[own_customer.pk].assignee == sales
    assert tasks[pool_customer.pk].assignee == manager
    assert tasks[own_customer.pk].reason == "沉默了64天"
    assert tasks[pool_customer.pk].reason == "流失预警"
    assert {item.status for item in tasks.values()} == {FollowUpStatus.OPEN}


def test_plan_gives_a_customer_of_someone_who_left_to_the_actor(admin_user, other_sales):
    customer = make_customer(other_sales, name="李娜")
    other_sales.is_active = False
    other_sales.save()
    plan_follow_ups(admin_user, [customer.pk], due_on=in_days(1), default_reason="回访")
    assert FollowUp.objects.get().assignee == admin_user


def test_plan_skips_invisible_customers_and_open_ones_of_the_same_source(
    sales, own_customer, colleague_customer, south_customer
):
    task(own_customer, sales, source=FollowUpSource.CHURN_WARNING)
    other = make_customer(sales, name="张伟")
    task(other, sales, source=FollowUpSource.MANUAL)
    plan = plan_follow_ups(
        sales,
        [own_customer.pk, other.pk, colleague_customer.pk, south_customer.pk, 999_999],
        due_on=in_days(2),
        default_reason="流失预警",
        source=FollowUpSource.CHURN_WARNING,
    )
    assert (plan.created, plan.already_open, plan.not_visible) == (1, 1, 3)
    assert not FollowUp.objects.filter(customer__in=[colleague_customer, south_customer]).exists()
    assert FollowUp.objects.filter(customer=other).count() == 2  # one by hand, one from churn


def test_a_closed_call_back_does_not_block_a_new_one(sales, own_customer):
    task(own_customer, sales, status=FollowUpStatus.DONE, source=FollowUpSource.CHURN_WARNING)
    plan = plan_follow_ups(
        sales, [own_customer.pk], due_on=in_days(1), source=FollowUpSource.CHURN_WARNING
    )
    assert plan.created == 1
    assert FollowUp.objects.filter(status=FollowUpStatus.OPEN).count() == 1


def test_plan_refuses_bad_requests_and_writes_nothing(sales, marketer, own_customer):
    with pytest.raises(ValidationError) as raised:
        plan_follow_ups(sales, [own_customer.pk], due_on=in_days(-1))
    assert list(raised.value.message_dict) == ["due_on"]
    with pytest.raises(RuleViolation):
        plan_follow_ups(sales, [], due_on=in_days(1))
    with pytest.raises(RuleViolation):
        plan_follow_ups(sales, range(1, MAX_FOLLOW_UPS_AT_ONCE + 2), due_on=in_days(1))
    with pytest.raises(NotAllowed):
        plan_follow_ups(marketer, [own_customer.pk], due_on=in_days(1))
    assert FollowUp.objects.count() == 0


def test_plan_one_by_hand_from_the_customer_page(english, sales, own_customer):
    english.force_login(sales)
    url = reverse("engagement:plan_follow_up", args=[own_customer.pk])
    data = {"due_on": in_days(2).isoformat(), "reason": "问问新款的尺码"}
    response = english.post(url, data, follow=True)
    assert page_messages(response) == ["The call-back was planned."]
    planned = FollowUp.objects.get()
    assert (planned.assignee, planned.source, planned.reason) == (sales, "manual", "问问新款的尺码")
    response = english.post(url, data, follow=True)
    assert page_messages(response) == [
        "This customer already has an open call-back planned by hand."
    ]
    assert FollowUp.objects.count() == 1
    content = response.content.decode()
    assert f'id="customer-follow-up-{planned.pk}"' in content and "问问新款的尺码" in content


def test_plan_by_hand_needs_a_reason_and_a_visible_customer(sales, colleague_customer):
    with pytest.raises(ValidationError):
        plan_follow_up(sales, make_customer(sales).pk, due_on=in_days(1), reason=" ")
    with pytest.raises(Http404):
        plan_follow_up(sales, colleague_customer.pk, due_on=in_days(1), reason="看看")
    assert FollowUp.objects.count() == 0


# --- the list ----------------------------------------------------------------------------------


def listed(response):
    return [item.customer.name for item in response.context["follow_ups"]]


def test_each_role_sees_the_call_backs_it_may(
    client, admin_user, manager, sales, other_sales, south_sales, service_agent
):
    task(make_customer(sales, name="我的"), sales)
    task(make_customer(other_sales, name="同事的"), other_sales)
    task(make_customer(south_sales, name="南店的"), south_sales)
    pooled = make_customer(None, name="公海的")
    task(pooled, manager)
    url = reverse("engagement:follow_ups")
    expected = {
        sales: ["我的"],
        manager: ["我的", "同事的", "公海的"],
        admin_user: ["我的", "同事的", "南店的", "公海的"],
        service_agent: ["我的", "同事的", "南店的", "公海的"],
    }
    for user, names in expected.items():
        client.force_login(user)
        assert listed(client.get(url)) == names, user.username
    client.force_login(manager)
    assert listed(client.get(url, {"assignee": "me"})) == ["公海的"]


def test_roles_that_make_no_calls_may_not_open_the_list(client, marketer, analyst):
    for user in (marketer, analyst):
        client.force_login(user)
        assert client.get(reverse("engagement:follow_ups")).status_code == 403
        assert 'href="/interactions/follow-ups/"' not in client.get("/").content.decode()


def test_overdue_ones_are_highlighted_and_filtered(client, sales):
    late = task(make_customer(sales, name="过期的"), sales, due_in=-2)
    task(make_customer(sales, name="今天的"), sales, due_in=0)
    task(make_customer(sales, name="下周的"), sales, due_in=10)
    task(make_customer(sales, name="做完的"), sales, due_in=-5, status=FollowUpStatus.DONE)
    client.force_login(sales)
    url = reverse("engagement:follow_ups")
    response = client.get(url)
    assert listed(response) == ["过期的", "今天的", "下周的"]
    assert [item.is_overdue for item in response.context["follow_ups"]] == [True, False, False]
    assert f'id="follow-up-{late.pk}" class="overdue"' in response.content.decode()
    assert listed(client.get(url, {"due": "overdue"})) == ["过期的"]
    assert listed(client.get(url, {"due": "today"})) == ["今天的"]
    assert listed(client.get(url, {"due": "week"})) == ["过期的", "今天的"]
    assert listed(client.get(url, {"status": "done"})) == ["做完的"]
    assert len(listed(client.get(url, {"status": "all"}))) == 4


def test_list_pages_with_a_fixed_number_of_queries(client, sales, django_assert_max_num_queries):
    for index in range(30):
        task(make_customer(sales, name=f"客户{index:02d}"), sales, due_in=index)
    client.force_login(sales)
    url = reverse("engagement:follow_ups")
    client.get(url)
    with django_assert_max_num_queries(5):  # session, user, count, page, unread notifications
        response = client.get(url)
    assert len(response.context["follow_ups"]) == 25
    assert len(listed(client.get(url, {"page": 2}))) == 5


def test_empty_list_says_where_call_backs_come_from(client, sales):
    client.force_login(sales)
    assert 'id="no-follow-ups"' in client.get(reverse("engagement:follow_ups")).content.decode()


# --- closing -----------------------------------------------------------------------------------


def test_done_with_a_note_logs_the_contact(english, sales, own_customer):
    open_task = task(own_customer, sales)
    english.force_login(sales)
    url = reverse("engagement:complete_follow_up", args=[open_task.pk])
    response = english.post(url, {"note": "答应周末来店", "channel": "phone"}, follow=True)
    assert page_messages(response) == ["The call-back is done and the contact was logged."]
    open_task.refresh_from_db()
    assert open_task.status == FollowUpStatus.DONE and open_task.closed_at is not None
    contact = Interaction.objects.get()
    assert (contact.customer, contact.staff, contact.summary) == (
        own_customer,
        sales,
        "答应周末来店",
    )
    own_customer.refresh_from_db()
    assert own_customer.last_followed_up_at == contact.occurred_at


def test_done_without_a_note_logs_nothing_and_cancel_closes(sales, own_customer):
    first = task(own_customer, sales)
    complete_follow_up(sales, first.pk)
    assert Interaction.objects.count() == 0
    second = task(own_customer, sales)
    cancelled = cancel_follow_up(sales, second.pk)
    assert cancelled.status == FollowUpStatus.CANCELLED
    with pytest.raises(RuleViolation):
        cancel_follow_up(sales, second.pk)


def test_a_note_on_a_pool_customer_is_refused_whole(sales, pool_customer):
    open_task = task(pool_customer, sales)
    with pytest.raises(RuleViolation):
        complete_follow_up(sales, open_task.pk, note="打过电话")
    open_task.refresh_from_db()
    assert open_task.status == FollowUpStatus.OPEN
    assert Interaction.objects.count() == 0


def test_nobody_closes_a_call_back_they_may_not_see(client, sales, other_sales, colleague_customer):
    theirs = task(colleague_customer, other_sales)
    client.force_login(sales)
    assert (
        client.post(reverse("engagement:complete_follow_up", args=[theirs.pk])).status_code == 404
    )
    assert client.post(reverse("engagement:cancel_follow_up", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == FollowUpStatus.OPEN


# --- the customer page -------------------------------------------------------------------------


def test_customer_page_lists_open_call_backs(client, sales, other_sales, own_customer):
    mine = task(own_customer, sales, due_in=-1, reason="流失风险72")
    done = task(own_customer, sales, status=FollowUpStatus.DONE, reason="早就打过")
    client.force_login(sales)
    response = client.get(reverse("customers:detail", args=[own_customer.pk]))
    assert [item.pk for item in response.context["open_follow_ups"]] == [mine.pk]
    content = response.content.decode()
    assert f'id="customer-follow-up-{mine.pk}"' in content and "流失风险72" in content
    assert f'id="customer-follow-up-{done.pk}"' not in content
    assert response.context["open_follow_ups"][0].is_overdue is True
