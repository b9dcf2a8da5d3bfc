"""`GET /api/events` reads on from a cursor (administrators only); the events page lists
deliveries with filters and replays a dead letter (POST, administrators only)."""

import pytest
from django.test import Client

from kehu.events.dispatch import dispatch
from kehu.events.models import Event, HandlerRun, RunStatus
from kehu.events.services import record_event
from tests.api_client import ApiClient

pytestmark = pytest.mark.django_db


def created(customer_id: int) -> Event:
    return record_event("customer.created", {"customer_id": customer_id}, customer_id=customer_id)


def test_a_client_reads_every_event_page_by_page_and_catches_up_later(admin_user):
    events = [created(number) for number in range(1, 6)]
    client = ApiClient(admin_user)

    first = client.get("/events", {"limit": 2}).json()
    second = client.get("/events", {"after": first["next_cursor"], "limit": 2}).json()
    third = client.get("/events", {"after": second["next_cursor"], "limit": 2}).json()
    idle = client.get("/events", {"after": third["next_cursor"]}).json()
    later_event = created(6)
    caught_up = client.get("/events", {"after": third["next_cursor"]}).json()

    read = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert read == [event.pk for event in events]
    assert (first["has_more"], second["has_more"], third["has_more"]) == (True, True, False)
    assert idle == {"items": [], "next_cursor": third["next_cursor"], "has_more": False}
    assert [item["id"] for item in caught_up["items"]] == [later_event.pk]
    item = first["items"][0]
    assert item["event_id"] == str(events[0].event_id)
    assert (item["name"], item["version"], item["payload"], item["customer_id"]) == (
        "customer.created", 1, {"customer_id": 1, "source_channel": ""}, 1,
    )  # fmt: skip


def test_events_can_be_read_by_name(admin_user):
    created(1)
    record_event("customer.merged", {"kept_customer_id": 1, "merged_customer_id": 2})

    body = ApiClient(admin_user).get("/events", {"name": "customer.merged"}).json()

    assert [item["name"] for item in body["items"]] == ["customer.merged"]


@pytest.mark.parametrize("role", ["manager", "sales", "service_agent", "marketer", "analyst"])
def test_only_administrators_read_the_events(role, request):
    created(1)
    response = ApiClient(request.getfixturevalue(role)).get("/events")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_allowed"


@pytest.mark.parametrize(
    "params", [{"after": -1}, {"after": 2**70}, {"limit": 0}, {"limit": 1001}, {"after": "x"}]
)
def test_a_bad_cursor_is_a_clear_error(admin_user, params):
    response = ApiClient(admin_user).get("/events", params)
    assert response.status_code == 422


def test_no_token_no_events():
    assert ApiClient().get("/events").status_code == 401


@pytest.fixture
def dead_letter(recorder, settings) -> HandlerRun:
    settings.EVENTS_MAX_ATTEMPTS = 1
    event = record_event("customer.updated", {"customer_id": 3, "fields": []}, customer_id=3)
    recorder.failures[event.pk] = 1
    dispatch()
    return HandlerRun.objects.get(event=event)


def test_the_page_lists_deliveries_with_filters(admin_user, dead_letter):
    created(1)
    client = Client()
    client.force_login(admin_user)

    everything = client.get("/settings/events/")
    dead_only = client.get("/settings/events/", {"status": "dead"})
    by_name = client.get("/settings/events/", {"name": "customer.created", "from": "2000-01-01"})
    nothing = client.get("/settings/events/", {"to": "2000-01-01"})
    hostile = client.get("/settings/events/", {"status": "x'--", "from": "yesterday", "page": "-9"})

    assert everything.status_code == 200
    assert list(dead_only.context["runs"]) == [dead_letter]
    assert b"Replay" in dead_only.content or "重放".encode() in dead_only.content
    assert [run.event.name for run in by_name.context["runs"]] == []  # no handler of it
    assert list(nothing.context["runs"]) == []
    assert hostile.status_code == 200


def test_an_administrator_replays_a_dead_letter(
    admin_user, dead_letter, recorder, django_capture_on_commit_callbacks
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    page = client.get("/settings/events/", {"status": "dead"})
    token = page.cookies["csrftoken"].value

    refused = client.post(f"/settings/events/{dead_letter.pk}/replay/")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/settings/events/{dead_letter.pk}/replay/", {"csrfmiddlewaretoken": token}
        )

    assert refused.status_code == 403
    assert response.status_code == 302
    dead_letter.refresh_from_db()
    assert dead_letter.status == RunStatus.DONE  # the immediate backend dispatched it


@pytest.mark.parametrize("role", ["manager", "sales", "marketer"])
def test_others_may_neither_see_nor_replay(role, request, dead_letter):
    client = Client()
    client.force_login(request.getfixturevalue(role))

    listed = client.get("/settings/events/")
    replayed = client.post(f"/settings/events/{dead_letter.pk}/replay/")

    assert (listed.status_code, replayed.status_code) == (403, 403)
    dead_letter.refresh_from_db()
    assert dead_letter.status == RunStatus.DEAD


def test_replaying_what_is_not_dead_changes_nothing(admin_user, dead_letter):
    HandlerRun.objects.filter(pk=dead_letter.pk).update(status=RunStatus.DONE)
    client = Client()
    client.force_login(admin_user)

    response = client.post(f"/settings/events/{dead_letter.pk}/replay/", follow=True)
    missing = client.post("/settings/events/999999/replay/")

    assert response.status_code == 200
    assert HandlerRun.objects.get(pk=dead_letter.pk).attempts == 1
    assert missing.status_code == 302
