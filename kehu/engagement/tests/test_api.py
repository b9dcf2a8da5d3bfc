from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from kehu.engagement.models import Interaction
from tests.api_client import ApiClient, error_paths


def test_log_an_interaction(sales, own_customer):
    response = ApiClient(sales).post(
        f"/customers/{own_customer.pk}/interactions",
        {
            "channel": "phone",
            "summary": "确认了周末的订单",
            "occurred_at": "2026-03-01T10:00:00+08:00",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["channel"], body["direction"], body["customer_id"]) == (
        "phone",
        "outbound",
        own_customer.pk,
    )
    assert body["staff"]["id"] == sales.pk
    occurred_at = datetime.fromisoformat(body["occurred_at"])
    assert occurred_at == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    own_customer.refresh_from_db()
    assert own_customer.last_followed_up_at == Interaction.objects.get().occurred_at


def test_list_interactions_newest_first(sales, own_customer):
    now = timezone.now()
    older = Interaction.objects.create(
        customer=own_customer, channel="sms", summary="旧", occurred_at=now - timedelta(days=2)
    )
    newer = Interaction.objects.create(
        customer=own_customer, channel="wecom", summary="新", occurred_at=now, staff=sales
    )
    body = ApiClient(sales).get(f"/customers/{own_customer.pk}/interactions").json()
    assert body["count"] == 2
    assert [item["id"] for item in body["items"]] == [newer.pk, older.pk]
    assert body["items"][1]["staff"] is None


def test_list_interactions_runs_a_fixed_number_of_queries(
    sales, own_customer, django_assert_num_queries
):
    client = ApiClient(sales)
    client.get("/me")
    for number in range(8):
        Interaction.objects.create(
            customer=own_customer,
            channel="phone",
            summary=f"第{number}次",
            occurred_at=timezone.now(),
            staff=sales,
        )
    with django_assert_num_queries(4):  # token, customer, count, page with staff
        assert len(client.get(f"/customers/{own_customer.pk}/interactions").json()["items"]) == 8


def test_list_interactions_pagination_is_validated(sales, own_customer):
    response = ApiClient(sales).get(f"/customers/{own_customer.pk}/interactions", {"limit": "all"})
    assert response.status_code == 422
    assert error_paths(response) == [["query", "limit"]]


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"channel": "pigeon", "summary": "x"}, ["body", "channel"]),
        ({"channel": "phone"}, ["body", "summary"]),
        ({"channel": "phone", "summary": ""}, ["body", "summary"]),
        ({"channel": "phone", "summary": ["a"]}, ["body", "summary"]),
        (
            {"channel": "phone", "summary": "x", "occurred_at": "31/12/2025"},
            ["body", "occurred_at"],
        ),
        ({"channel": "phone", "summary": "x", "direction": "sideways"}, ["body", "direction"]),
    ],
)
def test_log_rejects_wrong_types_with_the_field_path(sales, own_customer, payload, path):
    response = ApiClient(sales).post(f"/customers/{own_customer.pk}/interactions", payload)
    assert response.status_code == 422
    assert error_paths(response) == [path]
    assert not Interaction.objects.exists()


def test_log_rejects_a_time_in_the_future_from_the_service(sales, own_customer):
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = ApiClient(sales).post(
        f"/customers/{own_customer.pk}/interactions",
        {"channel": "phone", "summary": "x", "occurred_at": future},
    )
    assert response.status_code == 422
    assert error_paths(response) == [["body", "occurred_at"]]
    assert not Interaction.objects.exists()


def test_log_rejects_a_blank_summary_from_the_service(sales, own_customer):
    response = ApiClient(sales).post(
        f"/customers/{own_customer.pk}/interactions", {"channel": "phone", "summary": "   "}
    )
    assert response.status_code == 422
    assert error_paths(response) == [["body", "summary"]]


def test_hostile_summaries_are_stored_verbatim(sales, own_customer):
    hostile = "</script><script>alert(document.cookie)</script> OR 1=1; --"
    client = ApiClient(sales)
    response = client.post(
        f"/customers/{own_customer.pk}/interactions", {"channel": "wecom", "summary": hostile}
    )
    assert response.status_code == 201
    listed = client.get(f"/customers/{own_customer.pk}/interactions").json()
    assert listed["items"][0]["summary"] == hostile


def test_a_salesperson_must_claim_a_pool_customer_before_logging(sales, pool_customer):
    response = ApiClient(sales).post(
        f"/customers/{pool_customer.pk}/interactions", {"channel": "phone", "summary": "x"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"
    assert not Interaction.objects.exists()
