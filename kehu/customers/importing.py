"""Importing customers from a file: one row → one customer, matched so re-imports change nothing.

A row matches an existing customer by member number, then mobile, then email (among all
customers, so an import never creates a duplicate). A match the importer may not edit is an
error; otherwise the row updates the customer or, if nothing differs, is “unchanged”. Empty
cells never clear a stored value. Writes go through the customer services, so an import obeys
the same permissions as the pages.
"""

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.accounts.permissions import may
from kehu.commerce.models import Store
from kehu.core.errors import DomainError
from kehu.core.rows import ImportField, Result, RowError, RowOutcome, SourceRow
from kehu.customers.models import Customer
from kehu.customers.pool import transfer_customer
from kehu.customers.queries import staff_assignable_by, visible_customers
from kehu.customers.services import create_customer, find_duplicates, tag_customer, update_customer
from kehu.customers.validation import clean_customer_fields

CUSTOMER_FIELDS = (
    ImportField("name", gettext_lazy("Name"), True, ("姓名", "客户姓名", "名字", "客户名称", "客户", "full name", "customer name", "customer")),  # noqa: E501
    ImportField("mobile", gettext_lazy("Mobile"), False, ("手机", "手机号", "手机号码", "电话", "联系电话", "移动电话", "phone", "mobile number", "mobile phone", "cell phone", "tel")),  # noqa: E501
    ImportField("email", gettext_lazy("Email"), False, ("邮箱", "电子邮件", "电子邮箱", "邮件", "e-mail", "mail", "email address")),  # noqa: E501
    ImportField("member_number", gettext_lazy("Member number"), False, ("会员号", "会员编号", "会员卡号", "卡号", "会员编码", "member no", "member id", "membership number", "card number")),  # noqa: E501
    ImportField("gender", gettext_lazy("Gender"), False, ("性别", "sex")),
    ImportField("birthday", gettext_lazy("Birthday"), False, ("生日", "出生日期", "出生年月日", "date of birth", "birth date", "dob")),  # noqa: E501
    ImportField("wechat_id", gettext_lazy("WeChat ID"), False, ("微信", "微信号", "wechat")),
    ImportField("wecom_id", gettext_lazy("WeCom ID"), False, ("企业微信", "企微", "wecom")),
    ImportField("province", gettext_lazy("Province"), False, ("省", "省份")),
    ImportField("city", gettext_lazy("City"), False, ("城市", "市")),
    ImportField("district", gettext_lazy("District"), False, ("区", "区县", "县区")),
    ImportField("address", gettext_lazy("Address"), False, ("地址", "详细地址", "联系地址", "street address")),  # noqa: E501
    ImportField("occupation", gettext_lazy("Occupation"), False, ("职业", "工作", "job")),
    ImportField("income_band", gettext_lazy("Income band"), False, ("收入", "收入水平", "收入区间", "income")),  # noqa: E501
    ImportField("interests", gettext_lazy("Interests"), False, ("兴趣", "爱好", "兴趣爱好", "hobbies")),  # noqa: E501
    ImportField("source_channel", gettext_lazy("Source channel"), False, ("来源", "来源渠道", "客户来源", "渠道", "source", "channel")),  # noqa: E501
    ImportField("status", gettext_lazy("Status"), False, ("状态", "客户状态")),
    ImportField("notes", gettext_lazy("Notes"), False, ("备注", "说明", "note", "remarks", "comment")),  # noqa: E501
    ImportField("tags", gettext_lazy("Tags"), False, ("标签", "tag", "labels")),
    ImportField("owner", gettext_lazy("Owner (username)"), False, ("负责人", "所属销售", "归属", "销售", "owner username", "salesperson")),  # noqa: E501
    ImportField("home_store", gettext_lazy("Home store (code or name)"), False, ("门店", "所属门店", "归属门店", "store", "store code")),  # noqa: E501
)  # fmt: skip

CHOICE_ALIASES = {
    "gender": {"男": "male", "女": "female", "未知": "unknown", "m": "male", "f": "female"},
    "source_channel": {
        "门店": "store", "线上": "online", "团购": "group_buy", "社群": "community",
        "推荐": "referral", "活动": "event", "其他": "other", "其它": "other",
    },
    "status": {"正常": "active", "活跃": "active", "停用": "inactive", "黑名单": "blocked"},
    "income_band": {"低": "low", "中": "middle", "高": "high", "很高": "very_high"},
}  # fmt: skip
DATE_LIKE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]00:00(?::00)?)?$")
TAG_SEPARATORS = re.compile(r"[,，、;；|]")
MATCH_KEYS = ("member_number", "mobile", "email")
FIELD_OF_ERROR = {"home_store_id": "home_store"}


class CustomerRowHandler:
    """Creates or updates one customer per row; `write=False` answers what would happen."""

    chunk_size = 200
    fields = CUSTOMER_FIELDS

    def __init__(
        self, actor: User, options: dict[str, Any], *, write: bool, previous: Any = None
    ) -> None:
        self.actor = actor
        self.write = write
        # A dry run writes nothing, so rows repeating a customer earlier in the same file are
        # compared with what that earlier row would have stored.
        self.planned: dict[tuple[str, str], dict[str, Any]] = {}
        self.stores = {store.code: store.pk for store in Store.objects.all()}
        self.stores.update({store.name: store.pk for store in Store.objects.all()})

    def handle(self, rows: list[SourceRow]) -> list[RowOutcome]:
        return [self.handle_row(row) for row in rows]

    def finish(self) -> list[RowOutcome]:
        return []

    def handle_row(self, row: SourceRow) -> RowOutcome:
        if not may(self.actor, "customer.create"):
            return RowOutcome.failed(
                row, [row.error("name", _("Your role may not edit customers."))]
            )
        try:
            wanted = self.parse(row)
        except RowErrors as problem:
            return RowOutcome.failed(row, problem.errors)
        existing, planned_key = self.find_match(wanted)
        if existing is None and planned_key is None:
            return self.create(row, wanted)
        return self.update(row, wanted, existing, planned_key)

    def parse(self, row: SourceRow) -> dict[str, Any]:
        """Cleaned values of the non-empty cells, plus `tags` (a set) and `owner` (a user)."""
        raw: dict[str, Any] = {name: row.get(name) for name in row.values if row.get(name)}
        tag_names = {tag.strip()[:50] for tag in TAG_SEPARATORS.split(raw.pop("tags", ""))}
        owner_name = raw.pop("owner", "")
        errors: list[RowError] = []
        if "home_store" in raw:
            store_id = self.stores.get(raw.pop("home_store"))
            if store_id is None:
                errors.append(row.error("home_store", _("There is no store with this code.")))
            raw["home_store_id"] = store_id
        for name, aliases in CHOICE_ALIASES.items():
            if name in raw:
                raw[name] = aliases.get(raw[name].lower(), raw[name])
        if "birthday" in raw:
            raw["birthday"] = iso_date(raw["birthday"])
        try:
            cleaned = clean_customer_fields(raw, partial=True)
        except ValidationError as error:
            errors += [
                row.error(FIELD_OF_ERROR.get(name, name), " ".join(messages))
                for name, messages in error.message_dict.items()
            ]
            cleaned = {}
        owner = self.parse_owner(row, owner_name, errors)
        if errors:
            raise RowErrors(errors)
        cleaned["tags"] = {name for name in tag_names if name}
        cleaned["owner"] = owner
        cleaned["row"] = row
        return cleaned

    def parse_owner(self, row: SourceRow, username: str, errors: list[RowError]) -> User | None:
        if not username:
            return None
        if not may(self.actor, "customer.transfer"):
            errors.append(row.error("owner", _("Your role may not assign owners.")))
            return None
        owner = staff_assignable_by(self.actor).filter(username=username).first()
        if owner is None:
            errors.append(row.error("owner", _("No salesperson you may assign has this username.")))
        return owner

    def find_match(self, wanted: dict[str, Any]) -> tuple[Customer | None, tuple[str, str] | None]:
        """The customer this row is about: planned earlier in this dry run, or stored."""
        keys = [(name, wanted[name]) for name in MATCH_KEYS if wanted.get(name)]
        for key in keys:
            if key in self.planned:
                return None, key
        if not keys:
            return None, None
        condition = Q()
        for name, value in keys:
            condition |= Q(**{name: value})
        candidates = list(Customer.objects.filter(condition).select_related(None)[:10])
        for name, value in keys:
            for candidate in candidates:
                if getattr(candidate, name) == value:
                    return candidate, None
        return None, None

    def create(self, row: SourceRow, wanted: dict[str, Any]) -> RowOutcome:
        fields = record_fields(wanted)
        if not fields.get("name"):
            return RowOutcome.failed(row, [row.error("name", _("The name is required."))])
        if not self.write:
            duplicates = find_duplicates(name=fields["name"], birthday=fields.get("birthday"))
            if duplicates:
                return RowOutcome.failed(row, [row.error("name", duplicate_reason(duplicates[0]))])
            self.plan(wanted)
            return RowOutcome(row.line, Result.CREATED)
        try:
            with transaction.atomic():
                customer = create_customer(self.actor, fields, tag_names=wanted["tags"])
                self.assign_owner(customer, wanted["owner"])
        except (DomainError, ValidationError) as error:
            return RowOutcome.failed(row, errors_of(row, error))
        return RowOutcome(row.line, Result.CREATED)

    def update(
        self,
        row: SourceRow,
        wanted: dict[str, Any],
        existing: Customer | None,
        planned_key: tuple[str, str] | None,
    ) -> RowOutcome:
        if existing is not None and not self.may_change(existing):
            name = next(
                name
                for name in MATCH_KEYS
                if wanted.get(name) and wanted[name] == getattr(existing, name)
            )
            reason = _("This customer already exists and you may not edit it.")
            return RowOutcome.failed(row, [row.error(name, reason)])
        current = self.planned[planned_key] if planned_key else state_of(existing)
        changes = {
            name: value
            for name, value in record_fields(wanted).items()
            if current.get(name) != value
        }
        new_tags = wanted["tags"] - current["tags"]
        new_owner = (
            wanted["owner"]
            if wanted["owner"] and wanted["owner"].pk != current["owner_id"]
            else None
        )
        if not (changes or new_tags or new_owner):
            return RowOutcome(row.line, Result.UNCHANGED)
        if not self.write:
            self.plan({**current, **wanted, "tags": current["tags"] | wanted["tags"]})
            return RowOutcome(row.line, Result.UPDATED)
        assert existing is not None
        try:
            with transaction.atomic():
                if changes:
                    update_customer(self.actor, existing.pk, changes)
                if new_tags:
                    tag_customer(self.actor, existing.pk, current["tags"] | new_tags)
                self.assign_owner(existing, new_owner)
        except (DomainError, ValidationError) as error:
            return RowOutcome.failed(row, errors_of(row, error))
        return RowOutcome(row.line, Result.UPDATED)

    def may_change(self, customer: Customer) -> bool:
        visible = visible_customers(self.actor).filter(pk=customer.pk).exists()
        return visible and may(self.actor, "customer.edit", customer)

    def assign_owner(self, customer: Customer, owner: User | None) -> None:
        if owner is not None and customer.owner_id != owner.pk:
            transfer_customer(self.actor, customer.pk, owner.pk, _("Imported from a file"))

    def plan(self, wanted: dict[str, Any]) -> None:
        state = {
            **record_fields(wanted),
            "tags": set(wanted["tags"]),
            "owner_id": wanted["owner"].pk if wanted.get("owner") else wanted.get("owner_id"),
        }
        for name in MATCH_KEYS:
            if state.get(name):
                self.planned[(name, state[name])] = state


class RowErrors(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors)
        self.errors = errors


def record_fields(wanted: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in wanted.items() if name not in {"tags", "owner", "row"}}


def state_of(customer: Customer | None) -> dict[str, Any]:
    assert customer is not None
    state: dict[str, Any] = {
        field.attname: getattr(customer, field.attname) for field in Customer._meta.concrete_fields
    }
    state["tags"] = set(customer.tags.values_list("name", flat=True))
    return state


def iso_date(text: str) -> str:
    """2024/3/1, 2024年3月1日 and “2024-03-01 00:00:00” (Excel dates) as 2024-03-01."""
    found = DATE_LIKE.match(text.strip())
    if not found:
        return text
    year, month, day = found.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def duplicate_reason(match: Any) -> str:
    return _("Possible duplicate of customer #%(id)s %(name)s (%(reason)s).") % {
        "id": match.customer_id,
        "name": match.name,
        "reason": match.reason,
    }


def errors_of(row: SourceRow, error: DomainError | ValidationError) -> list[RowError]:
    if isinstance(error, ValidationError):
        return [
            row.error(FIELD_OF_ERROR.get(name, name), " ".join(messages))
            for name, messages in error.message_dict.items()
        ]
    name = str(error.details.get("field", "")) if error.details else ""
    name = {"owner_id": "owner"}.get(name, name)
    return [row.error(name, error.message)]
