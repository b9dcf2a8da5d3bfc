import re

import pytest
from django.test import Client

from tests.api_client import ApiClient
from tests.fixtures.people import PASSWORD


def test_me_tells_who_i_am_and_what_my_role_may_do(sales):
    response = ApiClient(sales).get("/me")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["username"], body["role"]) == (sales.pk, "sales_north", "sales")
    assert body["team"] == {"id": sales.team_id, "name": "North store team"}
    assert body["policy"]["scope"] == "own"
    assert body["policy"]["can_claim"] is True
    assert body["policy"]["can_transfer"] is False


def test_me_for_a_user_without_team(marketer):
    body = ApiClient(marketer).get("/me").json()
    assert body["team"] is None
    assert body["policy"]["sees_contact_details"] is False


def test_no_credentials_answer_401_json_not_a_login_redirect(db):
    response = Client().get("/api/me")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header", ["Bearer kehu_not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "kehu_x"]
)
def test_bad_credentials_answer_401(sales, header):
    ApiClient(sales)  # a real token exists, just not this one
    response = Client(headers={"authorization": header}).get("/api/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_inactive_users_token_answers_401(sales):
    client = ApiClient(sales)
    sales.is_active = False
    sales.save()
    assert client.get("/me").status_code == 401


def test_a_logged_in_browser_session_may_read(sales):
    client = Client()
    assert client.login(username=sales.username, password=PASSWORD)
    response = client.get("/api/me")
    assert response.status_code == 200
    assert response.json()["username"] == sales.username


def test_a_browser_session_needs_the_csrf_token_to_write(sales, pool_customer):
    client = Client(enforce_csrf_checks=True)
    assert client.login(username=sales.username, password=PASSWORD)
    response = client.post(f"/api/customers/{pool_customer.pk}/claim")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    pool_customer.refresh_from_db()
    assert pool_customer.owner is None

    client.get("/api/docs")  # sets the CSRF cookie, as the docs page would
    token = client.cookies["csrftoken"].value
    response = client.post(
        f"/api/customers/{pool_customer.pk}/claim", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200
    pool_customer.refresh_from_db()
    assert pool_customer.owner == sales


def test_a_bad_token_is_not_rescued_by_a_session(sales):
    client = Client(headers={"authorization": "Bearer kehu_wrong"})
    assert client.login(username=sales.username, password=PASSWORD)
    assert client.get("/api/me").status_code == 401


def test_unknown_endpoints_answer_404_json(sales):
    client = ApiClient(sales)
    for path in ("/nothing-here", "/customers/not-a-number", "/orders/1/unknown"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def test_api_root_points_to_the_docs(db):
    response = Client().get("/api/")
    assert response.json() == {"docs": "/api/docs", "openapi": "/api/openapi.json"}


def test_docs_page_works_offline(db):
    response = Client().get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "kehu API" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert '"validatorUrl": null' in html
    for asset in re.findall(r'(?:src|href)="(/api/docs/assets/[^"]+)"', html):
        asset_response = Client().get(asset)
        assert asset_response.status_code == 200, asset
        assert b"".join(asset_response.streaming_content)


def test_docs_assets_are_limited_to_swagger_files(db):
    assert Client().get("/api/docs/assets/..%2F..%2F__init__.py").status_code == 404
    assert Client().get("/api/docs/assets/redoc.standalone.js").status_code == 404


def test_a_wrong_method_answers_405_json(sales, own_customer):
    response = ApiClient(sales).client.delete(f"/api/customers/{own_customer.pk}")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "PATCH"}


def test_an_unexpected_failure_answers_500_json(sales, monkeypatch, settings):
    settings.DEBUG = False

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr("kehu.customers.api.search_customers", broken)
    response = ApiClient(sales).get("/customers")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"
    assert "on fire" not in response.content.decode()
