import pytest
from django.core.exceptions import ValidationError

from kehu.customers.validation import clean_customer_fields, normalise_mobile


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812341234", "13812341234"),
        ("138 1234 1234", "13812341234"),
        ("+86 138-1234-1234", "13812341234"),
        ("008613812341234", "13812341234"),
        ("8613812341234", "13812341234"),
    ],
)
def test_normalise_mobile_accepts_common_spellings(raw, expected):
    assert normalise_mobile(raw) == expected


@pytest.mark.parametrize("raw", ["12812341234", "1381234123", "138123412345", "abc", "021-5555"])
def test_normalise_mobile_rejects_what_is_not_a_mainland_mobile(raw):
    with pytest.raises(ValidationError):
        normalise_mobile(raw)


@pytest.mark.django_db
def test_clean_customer_fields_names_every_bad_field():
    with pytest.raises(ValidationError) as caught:
        clean_customer_fields(
            {
                "name": "",
                "mobile": "123",
                "email": "nope",
                "gender": "robot",
                "birthday": "1990-13-01",
            },
            partial=False,
        )
    assert set(caught.value.message_dict) == {"name", "mobile", "email", "gender", "birthday"}


@pytest.mark.django_db
def test_clean_customer_fields_accepts_labels_and_strips_control_characters():
    cleaned = clean_customer_fields(
        {"name": " 张\x00三 ", "gender": "female", "interests": "母婴，美妆;烘焙"}, partial=False
    )
    assert cleaned == {"name": "张三", "gender": "female", "interests": ["母婴", "美妆", "烘焙"]}


@pytest.mark.django_db
def test_clean_customer_fields_rejects_unknown_fields():
    with pytest.raises(ValidationError) as caught:
        clean_customer_fields({"name": "张三", "owner_id": 1}, partial=False)
    assert list(caught.value.message_dict) == ["owner_id"]
