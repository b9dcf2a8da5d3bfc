"""Normalisation and validation of customer fields, shared by forms, the API and imports."""

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from kehu.customers.models import (
    AttributeType,
    CustomAttribute,
    CustomerStatus,
    Gender,
    IncomeBand,
    SourceChannel,
)

CHINESE_MOBILE = re.compile(r"^1[3-9]\d{9}$")
MOBILE_SEPARATORS = re.compile(r"[\s\-()]")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LINE_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

TEXT_LIMITS = {
    "name": 100,
    "wechat_id": 64,
    "wecom_id": 64,
    "province": 30,
    "city": 30,
    "district": 30,
    "address": 200,
    "occupation": 50,
    "notes": 5000,
    "member_number": 32,
}
CHOICE_FIELDS = {
    "gender": Gender,
    "income_band": IncomeBand,
    "source_channel": SourceChannel,
    "status": CustomerStatus,
}
EDITABLE_FIELDS = (
    *TEXT_LIMITS,
    *CHOICE_FIELDS,
    "mobile",
    "email",
    "birthday",
    "interests",
    "home_store_id",
    "custom_attributes",
)


def normalise_mobile(raw: str) -> str:
    """Strip separators and the +86/0086 prefix; raise if it is not a Chinese mobile number."""
    digits = MOBILE_SEPARATORS.sub("", raw or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not CHINESE_MOBILE.match(digits):
        raise ValidationError(
            _("“%(value)s” is not a mainland China mobile number (11 digits starting with 1)."),
            params={"value": raw},
        )
    return digits


def clean_text(value: Any, limit: int) -> str:
    text = CONTROL_CHARACTERS.sub("", str(value or "")).strip()
    if len(text) > limit:
        raise ValidationError(
            _("At most %(limit)d characters (this has %(length)d)."),
            params={"limit": limit, "length": len(text)},
        )
    return text


def clean_one_line(value: Any) -> str:
    """A name on one line (a tag): every control character goes, tab and line breaks too."""
    return LINE_CONTROL_CHARACTERS.sub("", str(value or "")).strip()


def clean_choice(value: Any, choices: type) -> str:
    text = str(value or "").strip()
    by_label = {str(label): code for code, label in choices.choices}  # type: ignore[attr-defined]
    if text in choices.values:  # type: ignore[attr-defined]
        return text
    if text in by_label:
        return by_label[text]
    allowed = ", ".join(v for v in choices.values if v)  # type: ignore[attr-defined]
    raise ValidationError(
        _("“%(value)s” is not one of: %(allowed)s."), params={"value": text, "allowed": allowed}
    )


def clean_birthday(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        parsed = value
    else:
        try:
            parsed = date.fromisoformat(str(value).strip().replace("/", "-"))
        except ValueError:
            raise ValidationError(
                _("“%(value)s” is not a date in the form YYYY-MM-DD."), params={"value": value}
            ) from None
    if parsed > date.today() or parsed.year < 1900:
        raise ValidationError(_("The birthday must be between 1900 and today."))
    return parsed


def clean_email(value: Any) -> str:
    text = str(value or "").strip().lower()
    if text:
        validate_email(text)
    return text


def clean_interests(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = value if isinstance(value, list) else re.split(r"[,，;；、]", str(value))
    return [clean_text(item, 30) for item in items if str(item).strip()]


def clean_home_store_id(value: Any) -> int | None:
    from kehu.commerce.models import Store

    if value in (None, ""):
        return None
    try:
        store_id = int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("Choose a store from the list.")) from None
    if not Store.objects.filter(pk=store_id).exists():
        raise ValidationError(_("There is no store with id %(id)s."), params={"id": store_id})
    return store_id


def clean_custom_attributes(value: Any) -> dict[str, Any]:
    if value in (None, ""):
        value = {}
    if not isinstance(value, Mapping):
        raise ValidationError(_("Custom attributes must be an object of key → value."))
    definitions = {attribute.key: attribute for attribute in CustomAttribute.objects.all()}
    unknown = sorted(set(value) - set(definitions))
    if unknown:
        raise ValidationError(
            _("Unknown custom attribute: %(keys)s."), params={"keys": ", ".join(unknown)}
        )
    cleaned: dict[str, Any] = {}
    for key, definition in definitions.items():
        raw = value.get(key)
        if raw in (None, ""):
            if definition.is_required:
                raise ValidationError(
                    _("“%(label)s” is required."), params={"label": definition.label}
                )
            continue
        cleaned[key] = clean_attribute_value(definition, raw)
    return cleaned


def clean_attribute_value(definition: CustomAttribute, raw: Any) -> Any:
    try:
        if definition.type == AttributeType.NUMBER:
            return float(raw)
        if definition.type == AttributeType.DATE:
            return date.fromisoformat(str(raw)).isoformat()
        if definition.type == AttributeType.BOOLEAN:
            return parse_boolean(raw)
    except ValueError:
        raise ValidationError(
            _("“%(value)s” is not a valid %(type)s for “%(label)s”."),
            params={"value": raw, "type": definition.get_type_display(), "label": definition.label},
        ) from None
    text = clean_text(raw, 200)
    if definition.type == AttributeType.CHOICE and text not in definition.choices:
        raise ValidationError(
            _("“%(value)s” is not one of the choices for “%(label)s”."),
            params={"value": text, "label": definition.label},
        )
    return text


def parse_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in {"1", "true", "yes", "y", "是", "对"}:
        return True
    if text in {"0", "false", "no", "n", "否", "不"}:
        return False
    raise ValueError(text)


def clean_field(field: str, value: Any) -> Any:
    if field == "mobile":
        return normalise_mobile(value) if str(value or "").strip() else ""
    if field == "email":
        return clean_email(value)
    if field == "birthday":
        return clean_birthday(value)
    if field == "interests":
        return clean_interests(value)
    if field == "home_store_id":
        return clean_home_store_id(value)
    if field == "custom_attributes":
        return clean_custom_attributes(value)
    if field in CHOICE_FIELDS:
        return clean_choice(value, CHOICE_FIELDS[field])
    if field == "member_number":
        return clean_text(value, TEXT_LIMITS[field]) or None
    return clean_text(value, TEXT_LIMITS[field])


def clean_customer_fields(raw: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Return cleaned values for the editable fields given; raise one error naming every field."""
    unknown = sorted(set(raw) - set(EDITABLE_FIELDS))
    errors: dict[str, list[str]] = {field: [_("Unknown field.")] for field in unknown}
    cleaned: dict[str, Any] = {}
    for field in EDITABLE_FIELDS:
        if field not in raw:
            continue
        try:
            cleaned[field] = clean_field(field, raw[field])
        except ValidationError as error:
            errors[field] = error.messages
    if not partial and not cleaned.get("name") and "name" not in errors:
        errors["name"] = [_("The name is required.")]
    if partial and "name" in cleaned and not cleaned["name"] and "name" not in errors:
        errors["name"] = [_("The name cannot be empty.")]
    if errors:
        raise ValidationError(errors)
    return cleaned
