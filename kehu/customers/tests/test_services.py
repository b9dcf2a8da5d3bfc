import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from kehu.core.errors import NotAllowed, RuleViolation
from kehu.customers.models import Customer, CustomerMerge, OwnershipChange
from kehu.customers.services import (
    DuplicateCustomer,
    create_customer,
    find_duplicates,
    merge_customers,
    tag_customer,
    update_customer,
)
from kehu.engagement.models import Interaction
from tests.fixtures.records import make_customer


def test_sales_create_customers_they_own(sales):
    customer = create_customer(sales, {"name": "赵敏", "mobile": "+86 138 0000 1111"})
    assert customer.owner == sales
    assert customer.mobile == "13800001111"
    assert OwnershipChange.objects.filter(customer=customer, action="assign").count() == 1


def test_admin_created_customers_go_to_the_pool(admin_user):
    customer = create_customer(admin_user, {"name": "赵敏"})
    assert customer.owner is None


def test_roles_without_edit_rights_cannot_create(marketer):
    with pytest.raises(NotAllowed):
        create_customer(marketer, {"name": "赵敏"})
    assert Customer.objects.count() == 0


def test_invalid_fields_write_nothing(sales):
    with pytest.raises(ValidationError) as caught:
        create_customer(sales, {"name": "赵敏", "mobile": "12345"})
    assert "mobile" in caught.value.message_dict
    assert Customer.objects.count() == 0


def test_duplicate_mobile_is_refused_with_the_match(sales, own_customer):
    with pytest.raises(DuplicateCustomer) as caught:
        create_customer(sales, {"name": "王芳二号", "mobile": own_customer.mobile})
    assert caught.value.details["matches"][0]["customer_id"] == own_customer.pk
    assert Customer.objects.count() == 1


def test_duplicate_can_be_created_on_purpose(sales, own_customer):
    create_customer(sales, {"name": "王芳", "mobile": own_customer.mobile}, allow_duplicate=True)
    assert Customer.objects.filter(mobile=own_customer.mobile).count() == 2


def test_find_duplicates_by_name_and_birthday(db):
    kept = make_customer(name="周杰", birthday="1990-01-02", mobile="")
    matches = find_duplicates(name="周杰", birthday=kept.birthday)
    assert [match.customer_id for match in matches] == [kept.pk]
    assert find_duplicates(name="周杰") == []


def test_update_other_salespersons_customer_is_not_found(sales, colleague_customer):
    with pytest.raises(Http404):
        update_customer(sales, colleague_customer.pk, {"name": "改名"})
    colleague_customer.refresh_from_db()
    assert colleague_customer.name == "李娜"


def test_update_changes_only_given_fields(sales, own_customer):
    update_customer(sales, own_customer.pk, {"city": "杭州"})
    own_customer.refresh_from_db()
    assert (own_customer.city, own_customer.name) == ("杭州", "王芳")


def test_member_number_must_be_unique(sales, own_customer):
    own_customer.member_number = "M001"
    own_customer.save()
    with pytest.raises(RuleViolation):
        create_customer(sales, {"name": "新客", "member_number": "M001"})


def test_tags_are_created_on_first_use(sales, own_customer):
    tag_customer(sales, own_customer.pk, ["母婴", "高频", "母婴"])
    assert sorted(own_customer.tags.values_list("name", flat=True)) == ["母婴", "高频"]


def test_merge_moves_interactions_and_tags_and_records_it(sales, own_customer):
    duplicate = make_customer(owner=sales, name="王芳", city="上海", mobile="")
    Interaction.objects.create(
        customer=duplicate, channel="phone", summary="问价", occurred_at="2026-01-01T10:00Z"
    )
    tag_customer(sales, duplicate.pk, ["母婴"])
    merge = merge_customers(sales, own_customer.pk, duplicate.pk)
    own_customer.refresh_from_db()
    assert own_customer.city == "上海"
    assert own_customer.interactions.count() == 1
    assert list(own_customer.tags.values_list("name", flat=True)) == ["母婴"]
    assert merge.moved_counts["interactions"] == 1
    assert merge.merged_snapshot["city"] == "上海"
    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    assert CustomerMerge.objects.count() == 1


def test_merge_into_itself_is_refused(sales, own_customer):
    with pytest.raises(RuleViolation):
        merge_customers(sales, own_customer.pk, own_customer.pk)


def test_duplicate_of_an_invisible_customer_is_not_named(sales, colleague_customer):
    with pytest.raises(DuplicateCustomer) as caught:
        create_customer(sales, {"name": "新名字", "mobile": colleague_customer.mobile})
    assert colleague_customer.name not in caught.value.message
    assert caught.value.details == {"matches": [], "hidden_matches": 1, "can_force": False}
    assert Customer.objects.count() == 1
