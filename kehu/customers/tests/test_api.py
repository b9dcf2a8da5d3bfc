from datetime import date

import pytest

from kehu.customers.models import Customer, CustomerMerge, OwnershipChange, Tag
from kehu.engagement.models import Interaction
from tests.api_client import ApiClient, error_paths
from tests.fixtures.records import make_customer

HOSTILE_NAME = "<script>alert('x')</script>'); DROP TABLE customers_customer;--"


def test_list_shows_own_and_pool_customers_with_a_total(
    sales, own_customer, pool_customer, colleague_customer
):
    response = ApiClient(sales).get("/customers")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {item["id"] for item in body["items"]} == {own_customer.pk, pool_customer.pk}
    assert (body["limit"], body["offset"]) == (50, 0)


def test_list_paginates_with_limit_and_offset(sales):
    customers = [make_customer(owner=sales, name=f"客户{number}") for number in range(5)]
    client = ApiClient(sales)
    first = client.get("/customers", {"limit": 2, "offset": 0, "sort": "name"}).json()
    second = client.get("/customers", {"limit": 2, "offset": 2, "sort": "name"}).json()
    assert first["count"] == second["count"] == 5
    names = [item["name"] for item in first["items"] + second["items"]]
    assert names == sorted(customer.name for customer in customers)[:4]


def test_list_filters_like_the_page(sales, store):
    vip = Tag.objects.create(name="VIP")
    wanted = make_customer(owner=sales, name="赵敏", city="上海", home_store=store)
    wanted.tags.add(vip)
    make_customer(owner=sales, name="赵敏敏", city="北京")
    make_customer(owner=None, name="赵六", city="上海")
    client = ApiClient(sales)

    def ids(**params):
        return [item["id"] for item in client.get("/customers", params).json()["items"]]

    assert ids(q="赵敏", city="上海") == [wanted.pk]
    assert ids(tag=vip.pk) == [wanted.pk]
    assert ids(store=store.pk) == [wanted.pk]
    assert ids(pool="false", city="上海") == [wanted.pk]
    assert len(ids(pool="true")) == 1
    assert ids(owner=sales.pk, q=wanted.mobile) == [wanted.pk]


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"limit": "many"}, ["query", "limit"]),
        ({"limit": 0}, ["query", "limit"]),
        ({"offset": -1}, ["query", "offset"]),
        ({"sort": "password"}, ["query", "sort"]),
        ({"tag": "vip"}, ["query", "tag"]),
        ({"status": "deleted"}, ["query", "status"]),
    ],
)
def test_list_rejects_bad_query_parameters(sales, params, path):
    response = ApiClient(sales).get("/customers", params)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert error_paths(response) == [path]


def test_list_sort_keys_are_those_of_the_page():
    from typing import get_args

    from kehu.customers.api import SortKey
    from kehu.customers.queries import SORTABLE_FIELDS

    assert set(get_args(SortKey)) == set(SORTABLE_FIELDS)


def test_list_runs_a_fixed_number_of_queries(sales, store, django_assert_num_queries):
    client = ApiClient(sales)
    vip = Tag.objects.create(name="VIP")

    def add_customers(count):
        for _number in range(count):
            make_customer(owner=sales, home_store=store).tags.add(vip)

    add_customers(2)
    # token lookup, last-used stamp (first use only), count, page, tags
    with django_assert_num_queries(5):
        assert len(client.get("/customers").json()["items"]) == 2
    add_customers(20)
    with django_assert_num_queries(4):
        assert len(client.get("/customers").json()["items"]) == 22


def test_contacts_are_masked_for_marketing(marketer, own_customer):
    item = ApiClient(marketer).get(f"/customers/{own_customer.pk}").json()
    assert item["contact_is_masked"] is True
    assert item["mobile"] == f"{own_customer.mobile[:3]}****{own_customer.mobile[-4:]}"
    assert item["email"] == "w***@example.com"


def test_the_owner_sees_contacts_in_full(sales, own_customer):
    item = ApiClient(sales).get(f"/customers/{own_customer.pk}").json()
    assert item["contact_is_masked"] is False
    assert (item["mobile"], item["email"]) == (own_customer.mobile, "wangfang@example.com")
    assert item["owner"] == {
        "id": sales.pk,
        "username": "sales_north",
        "display_name": "sales_north",
    }
    assert item["in_pool"] is False


def test_get_answers_404_for_a_colleagues_customer(sales, colleague_customer):
    response = ApiClient(sales).get(f"/customers/{colleague_customer.pk}")
    assert response.status_code == 404
    assert (
        response.json() == {"error": {"code": "not_found", "message": "Not found.", "fields": []}}
        or response.json()["error"]["code"] == "not_found"
    )


def test_create_makes_the_salesperson_the_owner(sales, store):
    response = ApiClient(sales).post(
        "/customers",
        {
            "name": "孙丽",
            "mobile": "+86 138-0013-8000",
            "birthday": "1990-05-17",
            "home_store_id": store.pk,
            "interests": ["烘焙", "咖啡"],
            "tags": ["VIP", "新客"],
        },
    )
    assert response.status_code == 201
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert (customer.owner, customer.mobile, customer.birthday) == (
        sales,
        "13800138000",
        date(1990, 5, 17),
    )
    assert body["birthday"] == "1990-05-17"
    assert sorted(body["tags"]) == ["VIP", "新客"]
    assert body["home_store"] == {"id": store.pk, "code": "SH01", "name": "上海徐汇店"}


def test_create_refuses_a_duplicate_unless_allowed(sales, own_customer):
    client = ApiClient(sales)
    payload = {"name": "王芳二号", "mobile": own_customer.mobile}
    response = client.post("/customers", payload)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "duplicate_customer"
    assert [(match["customer_id"], match["name"]) for match in error["matches"]] == [
        (own_customer.pk, "王芳")
    ]
    assert error["matches"][0]["reason"]
    assert Customer.objects.count() == 1

    response = client.post("/customers", {**payload, "allow_duplicate": True})
    assert response.status_code == 201
    assert Customer.objects.count() == 2


def test_duplicate_error_does_not_reveal_customers_the_caller_cannot_see(sales, colleague_customer):
    response = ApiClient(sales).post(
        "/customers", {"name": "新客户", "mobile": colleague_customer.mobile}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["matches"] == []
    assert colleague_customer.name not in error["message"]
    assert str(colleague_customer.pk) not in error["message"]


def test_create_reports_service_errors_with_field_paths(sales):
    response = ApiClient(sales).post(
        "/customers", {"name": "孙丽", "mobile": "12345", "email": "not-an-email"}
    )
    assert response.status_code == 422
    assert sorted(error_paths(response)) == [["body", "email"], ["body", "mobile"]]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"name": 42}, ["body", "name"]),
        ({"name": "孙丽", "birthday": "1990-02-30"}, ["body", "birthday"]),
        ({"name": "孙丽", "home_store_id": "first"}, ["body", "home_store_id"]),
        ({"name": "孙丽", "custom_attributes": ["a", "b"]}, ["body", "custom_attributes"]),
        ({"name": "孙丽", "interests": {"a": 1}}, ["body", "interests"]),
        ({"name": "孙丽", "gender": "robot"}, ["body", "gender"]),
        ({"mobile": "13800138000"}, ["body", "name"]),
        (["孙丽"], ["body"]),
    ],
)
def test_create_rejects_wrong_types_with_the_field_path(sales, payload, path):
    response = ApiClient(sales).post("/customers", payload)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid"
    assert path in error_paths(response)
    assert not Customer.objects.exists()


def test_create_rejects_malformed_json(sales):
    response = ApiClient(sales).post("/customers", raw='{"name": "孙丽",')
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "malformed_json"
    assert error_paths(response) == [["body"]]
    assert not Customer.objects.exists()


def test_hostile_strings_are_stored_and_returned_verbatim(sales):
    client = ApiClient(sales)
    response = client.post("/customers", {"name": HOSTILE_NAME, "notes": "<b>hi</b> & 'bye'"})
    assert response.status_code == 201
    customer_id = response.json()["id"]
    assert Customer.objects.get(pk=customer_id).name == HOSTILE_NAME
    body = client.get(f"/customers/{customer_id}").json()
    assert (body["name"], body["notes"]) == (HOSTILE_NAME, "<b>hi</b> & 'bye'")
    assert client.get("/customers", {"q": "'); DROP"}).json()["count"] == 1


def test_patch_changes_only_the_fields_sent(sales, own_customer):
    response = ApiClient(sales).patch(
        f"/customers/{own_customer.pk}", {"city": "杭州", "notes": "爱喝拿铁"}
    )
    assert response.status_code == 200
    own_customer.refresh_from_db()
    assert (own_customer.city, own_customer.notes) == ("杭州", "爱喝拿铁")
    assert (own_customer.name, own_customer.email) == ("王芳", "wangfang@example.com")


def test_patch_with_a_taken_member_number_is_a_conflict(sales, own_customer):
    make_customer(owner=sales, member_number="M001")
    response = ApiClient(sales).patch(f"/customers/{own_customer.pk}", {"member_number": "M001"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "member_number_taken"
    assert error_paths(response) == [["body", "member_number"]]
    own_customer.refresh_from_db()
    assert own_customer.member_number is None


def test_patch_rejects_a_bad_date_and_changes_nothing(sales, own_customer):
    response = ApiClient(sales).patch(
        f"/customers/{own_customer.pk}", {"city": "杭州", "birthday": "17/05/1990"}
    )
    assert response.status_code == 422
    assert error_paths(response) == [["body", "birthday"]]
    own_customer.refresh_from_db()
    assert own_customer.city == ""


def test_tags_list_counts_visible_customers_only(sales, own_customer, colleague_customer):
    vip = Tag.objects.create(name="VIP")
    own_customer.tags.add(vip)
    colleague_customer.tags.add(vip)
    response = ApiClient(sales).get("/tags")
    assert response.json() == [{"id": vip.pk, "name": "VIP", "group": None, "customer_count": 1}]


def test_put_tags_replaces_the_customers_tags(sales, own_customer):
    own_customer.tags.add(Tag.objects.create(name="旧标签"))
    response = ApiClient(sales).put(f"/customers/{own_customer.pk}/tags", {"tags": ["VIP", "咖啡"]})
    assert response.status_code == 200
    assert sorted(response.json()["tags"]) == ["VIP", "咖啡"]
    assert sorted(own_customer.tags.values_list("name", flat=True)) == ["VIP", "咖啡"]


def test_put_tags_rejects_a_string_instead_of_a_list(sales, own_customer):
    response = ApiClient(sales).put(f"/customers/{own_customer.pk}/tags", {"tags": "VIP"})
    assert response.status_code == 422
    assert error_paths(response) == [["body", "tags"]]
    assert not own_customer.tags.exists()


def test_claim_then_claim_again_is_a_conflict(sales, pool_customer):
    client = ApiClient(sales)
    response = client.post(f"/customers/{pool_customer.pk}/claim")
    assert response.status_code == 200
    assert response.json()["owner"]["id"] == sales.pk
    response = client.post(f"/customers/{pool_customer.pk}/claim")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_in_pool"
    assert OwnershipChange.objects.filter(customer=pool_customer).count() == 1


def test_release_needs_a_reason(sales, own_customer):
    client = ApiClient(sales)
    missing = client.post(f"/customers/{own_customer.pk}/release", {})
    assert missing.status_code == 422
    assert error_paths(missing) == [["body", "reason"]]
    blank = client.post(f"/customers/{own_customer.pk}/release", {"reason": "  "})
    assert blank.status_code == 409
    assert error_paths(blank) == [["body", "reason"]]
    own_customer.refresh_from_db()
    assert own_customer.owner == sales

    response = client.post(f"/customers/{own_customer.pk}/release", {"reason": "搬家了"})
    assert response.status_code == 200
    assert response.json()["in_pool"] is True


def test_transfer_by_a_manager(manager, other_sales, own_customer):
    response = ApiClient(manager).post(
        f"/customers/{own_customer.pk}/transfer", {"owner_id": other_sales.pk, "reason": "调岗"}
    )
    assert response.status_code == 200
    own_customer.refresh_from_db()
    assert own_customer.owner == other_sales


def test_transfer_to_someone_outside_the_team_is_refused(manager, south_sales, own_customer):
    response = ApiClient(manager).post(
        f"/customers/{own_customer.pk}/transfer", {"owner_id": south_sales.pk}
    )
    assert response.status_code == 409
    assert error_paths(response) == [["body", "owner_id"]]
    own_customer.refresh_from_db()
    assert own_customer.owner_id != south_sales.pk


def test_transfer_rejects_a_non_integer_owner(manager, own_customer):
    response = ApiClient(manager).post(
        f"/customers/{own_customer.pk}/transfer", {"owner_id": "sales_north_2"}
    )
    assert response.status_code == 422
    assert error_paths(response) == [["body", "owner_id"]]


def test_merge_moves_records_to_the_kept_customer(manager, sales, own_customer):
    twin = make_customer(owner=sales, name="王芳", city="上海")
    Interaction.objects.create(
        customer=twin, channel="phone", summary="回访", occurred_at="2024-01-01T10:00:00Z"
    )
    response = ApiClient(manager).post(
        f"/customers/{own_customer.pk}/merge", {"merged_id": twin.pk}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["merged_customer_id"] == twin.pk
    assert body["moved_counts"]["interactions"] == 1
    assert body["kept"]["city"] == "上海"
    assert not Customer.objects.filter(pk=twin.pk).exists()
    assert CustomerMerge.objects.get().kept == own_customer


def test_merge_into_itself_is_a_conflict(manager, own_customer):
    response = ApiClient(manager).post(
        f"/customers/{own_customer.pk}/merge", {"merged_id": own_customer.pk}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "merge_self"
    assert Customer.objects.filter(pk=own_customer.pk).exists()


def test_merge_needs_the_merged_id(manager, own_customer):
    response = ApiClient(manager).post(f"/customers/{own_customer.pk}/merge", {"merged": 1})
    assert response.status_code == 422
    assert sorted(error_paths(response)) == [["body", "merged"], ["body", "merged_id"]]


def test_unknown_fields_are_rejected_not_ignored(sales, own_customer):
    response = ApiClient(sales).patch(f"/customers/{own_customer.pk}", {"mobil": "13800138000"})
    assert response.status_code == 422
    assert error_paths(response) == [["body", "mobil"]]


def test_a_list_body_is_rejected_on_patch(sales, own_customer):
    response = ApiClient(sales).patch(f"/customers/{own_customer.pk}", [{"city": "杭州"}])
    assert response.status_code == 422
    assert error_paths(response) == [["body"]]
    own_customer.refresh_from_db()
    assert own_customer.city == ""


def test_transfer_of_another_teams_customer_is_not_found(manager, other_sales, south_customer):
    response = ApiClient(manager).post(
        f"/customers/{south_customer.pk}/transfer", {"owner_id": other_sales.pk}
    )
    assert response.status_code == 404
    south_customer.refresh_from_db()
    assert south_customer.owner_id != other_sales.pk
