"""Importing order lines from a file: one row per line, grouped into orders, idempotent.

Rows of one order are grouped by (channel, external order id). An order whose id already
exists is “unchanged”, so importing the same file twice stores every order once. A bad line
fails its whole order: an order is never stored with lines missing. Customers must exist
(matched by member number, then mobile, among those the importer may see); they are never
created implicitly. An SKU that is not in the catalogue keeps the line's product name with no
product, because an import with a typo should not add products to the catalogue.

Fast path: chunks of ~8,000 rows (about 2,000 orders); customers, products and existing orders
are looked up with one query per chunk, and orders and lines are written with bulk_create.
"""

import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import batched
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.accounts.roles import Scope
from kehu.commerce.models import Order, OrderLine, OrderStatus, Product, SalesChannel, Store
from kehu.customers.queries import visible_customers
from kehu.customers.validation import normalise_mobile
from kehu.imports.rows import ImportField, Result, RowError, RowOutcome, SourceRow

ORDER_FIELDS = (
    ImportField("order_id", gettext_lazy("Order id"), True, ("订单号", "订单编号", "外部订单号", "单号", "order no", "order number", "external id", "order")),  # noqa: E501
    ImportField("channel", gettext_lazy("Sales channel code"), True, ("渠道", "销售渠道", "渠道编码", "渠道代码", "channel code", "channel")),  # noqa: E501
    ImportField("store", gettext_lazy("Store code"), False, ("门店", "门店编码", "门店代码", "店铺", "store")),  # noqa: E501
    ImportField("customer", gettext_lazy("Customer (member number or mobile)"), True, ("会员号", "会员编号", "会员卡号", "手机", "手机号", "客户", "会员", "member number", "member", "mobile", "customer")),  # noqa: E501
    ImportField("ordered_at", gettext_lazy("Ordered at"), True, ("下单时间", "订单时间", "购买时间", "交易时间", "日期", "时间", "order date", "order time", "date", "time")),  # noqa: E501
    ImportField("sku", gettext_lazy("SKU"), False, ("商品编码", "货号", "条码", "商品条码", "product code", "item code")),  # noqa: E501
    ImportField("product_name", gettext_lazy("Product name"), False, ("商品名称", "商品", "品名", "产品", "产品名称", "product", "item", "item name")),  # noqa: E501
    ImportField("quantity", gettext_lazy("Quantity"), True, ("数量", "件数", "qty")),
    ImportField("unit_price", gettext_lazy("Unit price"), True, ("单价", "价格", "售价", "price")),
    ImportField("discount", gettext_lazy("Discount"), False, ("优惠", "折扣", "优惠金额", "折扣金额", "discount amount")),  # noqa: E501
    ImportField("status", gettext_lazy("Order status"), False, ("状态", "订单状态", "status")),
)  # fmt: skip

CENT = Decimal("0.01")
THOUSANDTH = Decimal("0.001")
MONEY_LIMIT = Decimal("10000000000")  # 12 digits with 2 decimal places
QUANTITY_LIMIT = Decimal("1000000000")  # 12 digits with 3 decimal places
CACHE_LIMIT = 100_000
INSERT_BATCH = 500  # rows per INSERT: 3,500 parameters, within every SQLite limit
LINE_COLUMNS = ("order", "product", "product_name", "quantity", "unit_price", "discount", "amount")
LOOKUP_SLICE = 500
CURRENCY_NOISE = re.compile(r"[¥￥,，\s元]")
SLASHED_DATE = re.compile(
    r"^(\d{4})[/.\-年](\d{1,2})[/.\-月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?$"
)
STATUS_ALIASES = {
    "待付款": OrderStatus.PENDING, "已付款": OrderStatus.PAID, "已完成": OrderStatus.COMPLETED,
    "完成": OrderStatus.COMPLETED, "已取消": OrderStatus.CANCELLED, "取消": OrderStatus.CANCELLED,
    "部分退款": OrderStatus.PARTIALLY_REFUNDED, "已退款": OrderStatus.REFUNDED,
}  # fmt: skip

OrderKey = tuple[int, str]


@dataclass
class ParsedLine:
    row: SourceRow
    key: OrderKey
    store_id: int | None
    customer_value: str
    ordered_at: datetime
    sku: str
    product_name: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    status: str
    customer_id: int | None = None
    product_id: int | None = None

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price - self.discount).quantize(CENT)


class BoundedCache(OrderedDict):
    """A dict that forgets its oldest entries past a limit, so memory stays flat."""

    def remember(self, key: Any, value: Any) -> None:
        self[key] = value
        if len(self) > CACHE_LIMIT:
            self.popitem(last=False)


class OrderRowHandler:
    """Groups lines into orders and stores new orders; `write=False` only tells what would be."""

    chunk_size = 8000
    fields = ORDER_FIELDS

    def __init__(
        self, actor: User, options: dict[str, Any], *, write: bool, previous: Any = None
    ) -> None:
        self.actor = actor
        self.write = write
        self.default_channel = str(options.get("default_channel", ""))
        self.channels = dict(SalesChannel.objects.values_list("code", "pk"))
        self.stores = dict(Store.objects.values_list("code", "pk"))
        self.customers = BoundedCache()
        self.products = BoundedCache()
        # Orders found bad by the validation pass stay out in the write pass, even when their
        # lines are far apart in the file.
        self.rejected: set[OrderKey] = set(getattr(previous, "rejected", set()))
        self.carry: list[SourceRow] = []
        self.zone = timezone.get_current_timezone()
        self.first_new_order_id = (
            (Order.objects.aggregate(top=Max("pk"))["top"] or 0) if write else 0
        )

    def handle(self, rows: list[SourceRow]) -> list[RowOutcome]:
        """Process a chunk, holding back the last order's rows: it may continue in the next."""
        rows = self.carry + rows
        last_key = self.raw_key(rows[-1])
        self.carry = [row for row in rows if self.raw_key(row) == last_key]
        if len(self.carry) == len(rows):
            self.carry = []
            return self.process(rows)
        return self.process([row for row in rows if self.raw_key(row) != last_key])

    def finish(self) -> list[RowOutcome]:
        rows, self.carry = self.carry, []
        return self.process(rows) if rows else []

    def raw_key(self, row: SourceRow) -> tuple[str, str]:
        return (row.get("channel") or self.default_channel, row.get("order_id"))

    def process(self, rows: list[SourceRow]) -> list[RowOutcome]:
        outcomes: dict[int, RowOutcome] = {}
        parsed: list[ParsedLine] = []
        for row in rows:
            line = self.parse(row, outcomes)
            if line is not None:
                parsed.append(line)
        self.resolve_customers(parsed, outcomes)
        self.resolve_products(parsed, outcomes)
        groups = self.group(rows, parsed, outcomes)
        self.store_orders(groups, outcomes)
        return [outcomes[id(row)] for row in rows]

    def parse(self, row: SourceRow, outcomes: dict[int, RowOutcome]) -> ParsedLine | None:
        errors: list[RowError] = []
        values = LineValues(row, errors, self.zone)
        channel_code = row.get("channel") or self.default_channel
        channel_id = self.channels.get(channel_code)
        if channel_id is None:
            reason = _("Unknown sales channel “%(code)s”.") % {"code": channel_code}
            errors.append(row.error("channel", reason))
        external_id = values.text("order_id", 64, required=True)
        store_code = row.get("store")
        store_id = self.stores.get(store_code) if store_code else None
        if store_code and store_id is None:
            errors.append(row.error("store", _("Unknown store “%(code)s”.") % {"code": store_code}))
        line = ParsedLine(
            row=row,
            key=(channel_id or 0, external_id),
            store_id=store_id,
            customer_value=values.text("customer", 64, required=True),
            ordered_at=values.moment("ordered_at"),
            sku=values.text("sku", 64),
            product_name=values.text("product_name", 200),
            quantity=values.decimal("quantity", THOUSANDTH, QUANTITY_LIMIT, required=True),
            unit_price=values.decimal("unit_price", CENT, MONEY_LIMIT, required=True),
            discount=values.decimal("discount", CENT, MONEY_LIMIT),
            status=values.status(),
        )
        if not errors:
            check_amounts(line, errors)
        if errors:
            outcomes[id(row)] = RowOutcome.failed(row, errors)
            return None
        return line

    def resolve_customers(self, lines: list[ParsedLine], outcomes: dict[int, RowOutcome]) -> None:
        """Match customers by member number, then mobile, with one query per slice of values."""
        wanted = {line.customer_value for line in lines} - set(self.customers)
        for start in range(0, len(wanted), LOOKUP_SLICE):
            self.look_up_customers(sorted(wanted)[start : start + LOOKUP_SLICE])
        for line in lines:
            found = self.customers.get(line.customer_value)
            if isinstance(found, int):
                line.customer_id = found
            else:
                reason = found or _("No customer you may see has this member number or mobile.")
                outcomes[id(line.row)] = RowOutcome.failed(
                    line.row, [line.row.error("customer", reason)]
                )

    def look_up_customers(self, values: list[str]) -> None:
        mobiles = {value: mobile_or_blank(value) for value in values}
        condition = Q(member_number__in=values) | Q(mobile__in=[m for m in mobiles.values() if m])
        rows = list(
            visible_customers(self.actor)
            .filter(condition)
            .values_list("pk", "member_number", "mobile", "owner_id")
        )
        by_member: dict[str, tuple[int, int | None]] = {
            member: (pk, owner) for pk, member, _mobile, owner in rows if member
        }
        by_mobile: dict[str, list[tuple[int, int | None]]] = {}
        for pk, _member, mobile, owner in rows:
            by_mobile.setdefault(mobile, []).append((pk, owner))
        for value in values:
            matches = (
                [by_member[value]] if value in by_member else by_mobile.get(mobiles[value], [])
            )
            self.customers.remember(value, self.customer_answer(matches))

    def customer_answer(self, matches: list[tuple[int, int | None]]) -> int | str | None:
        if not matches:
            return None
        if len(matches) > 1:
            return _("Several customers have this mobile; use the member number.")
        customer_id, owner_id = matches[0]
        policy = self.actor.policy
        if not policy.can_edit_customers or (
            policy.scope == Scope.OWN and owner_id != self.actor.pk
        ):
            return _("You may not add orders for this customer.")
        return customer_id

    def resolve_products(self, lines: list[ParsedLine], outcomes: dict[int, RowOutcome]) -> None:
        wanted = sorted({line.sku for line in lines if line.sku} - set(self.products))
        for start in range(0, len(wanted), LOOKUP_SLICE):
            batch = wanted[start : start + LOOKUP_SLICE]
            found = {
                sku: (pk, name)
                for sku, pk, name in Product.objects.filter(sku__in=batch).values_list(
                    "sku", "pk", "name"
                )
            }
            for sku in batch:
                self.products.remember(sku, found.get(sku))
        for line in lines:
            product = self.products.get(line.sku) if line.sku else None
            if product is not None:
                line.product_id = product[0]
                line.product_name = line.product_name or product[1]
            elif not line.product_name:
                reason = _("Unknown SKU and no product name: give one of them.")
                outcomes[id(line.row)] = RowOutcome.failed(
                    line.row, [line.row.error("sku", reason)]
                )

    def group(
        self, rows: list[SourceRow], lines: list[ParsedLine], outcomes: dict[int, RowOutcome]
    ) -> dict[OrderKey, list[ParsedLine]]:
        """Lines by order; an order with any bad line (here or in the validation pass) fails."""
        groups: dict[OrderKey, list[ParsedLine]] = {}
        for line in lines:
            groups.setdefault(line.key, []).append(line)
        for line in lines:
            group = groups[line.key]
            first = next((other for other in group if other.customer_id), group[0])
            if id(line.row) not in outcomes and line.customer_id != first.customer_id:
                reason = _("Another line of this order (line %(line)d) has another customer.") % {
                    "line": first.row.line
                }
                outcomes[id(line.row)] = RowOutcome.failed(
                    line.row, [line.row.error("customer", reason)]
                )
        bad_rows = [row for row in rows if id(row) in outcomes]
        for row in bad_rows:
            self.rejected.add((self.channels.get(self.raw_key(row)[0], 0), row.get("order_id")))
        for key in list(groups):
            if key in self.rejected:
                for line in groups.pop(key):
                    if id(line.row) not in outcomes:
                        reason = _("Another line of this order has an error.")
                        outcomes[id(line.row)] = RowOutcome.failed(
                            line.row, [line.row.error("order_id", reason)]
                        )
        return groups

    def store_orders(
        self, groups: dict[OrderKey, list[ParsedLine]], outcomes: dict[int, RowOutcome]
    ) -> None:
        existing = self.existing_orders(list(groups))
        new_orders: dict[OrderKey, list[ParsedLine]] = {}
        continued: dict[int, list[ParsedLine]] = {}
        for key, lines in groups.items():
            order_id = existing.get(key)
            if order_id is None:
                new_orders[key] = lines
            elif self.write and order_id > self.first_new_order_id:
                continued[order_id] = lines  # created earlier in this run, lines far apart
            else:
                for line in lines:
                    outcomes[id(line.row)] = RowOutcome(line.row.line, Result.UNCHANGED)
                continue
            for line in lines:
                outcomes[id(line.row)] = RowOutcome(line.row.line, Result.CREATED)
        if self.write:
            with transaction.atomic():
                create_orders(new_orders)
                add_lines(continued)

    def existing_orders(self, keys: list[OrderKey]) -> dict[OrderKey, int]:
        found: dict[OrderKey, int] = {}
        for start in range(0, len(keys), LOOKUP_SLICE):
            batch = keys[start : start + LOOKUP_SLICE]
            orders = Order.objects.filter(
                channel_id__in={channel for channel, _id in batch},
                external_id__in={external_id for _channel, external_id in batch},
            ).values_list("channel_id", "external_id", "pk")
            found.update({(channel, external_id): pk for channel, external_id, pk in orders})
        return found


class LineValues:
    """Reads typed values from a row, collecting an error per bad cell."""

    def __init__(self, row: SourceRow, errors: list[RowError], zone: tzinfo) -> None:
        self.row = row
        self.errors = errors
        self.zone = zone

    def fail(self, name: str, reason: str) -> None:
        self.errors.append(self.row.error(name, reason))

    def text(self, name: str, limit: int, required: bool = False) -> str:
        value = self.row.get(name)
        if required and not value:
            self.fail(name, _("This value is required."))
        elif len(value) > limit:
            self.fail(name, _("At most %(limit)d characters.") % {"limit": limit})
        return value

    def decimal(self, name: str, step: Decimal, limit: Decimal, required: bool = False) -> Decimal:
        text = CURRENCY_NOISE.sub("", self.row.get(name))
        if not text:
            if required:
                self.fail(name, _("This value is required."))
            return Decimal(0)
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite() or abs(value) >= limit:
            self.fail(name, _("“%(value)s” is not a number.") % {"value": self.row.get(name)})
            return Decimal(0)
        return value.quantize(step, rounding=ROUND_HALF_UP)

    def moment(self, name: str) -> datetime:
        text = self.row.get(name)
        moment = parse_moment(text, self.zone)
        if moment is None:
            self.fail(
                name,
                _("“%(value)s” is not a date and time like 2024-03-01 10:20:00.") % {"value": text},
            )
            return datetime.min
        return moment

    def status(self) -> str:
        text = self.row.get("status")
        if not text:
            return OrderStatus.COMPLETED
        if text in OrderStatus.values:
            return text
        by_label = {str(label): code for code, label in OrderStatus.choices}
        status = STATUS_ALIASES.get(text) or by_label.get(text)
        if status is None:
            allowed = ", ".join(OrderStatus.values)
            self.fail(
                "status",
                _("“%(value)s” is not one of: %(allowed)s.") % {"value": text, "allowed": allowed},
            )
            return OrderStatus.COMPLETED
        return status


def check_amounts(line: ParsedLine, errors: list[RowError]) -> None:
    if line.quantity <= 0:
        errors.append(line.row.error("quantity", _("Quantity must be more than zero.")))
    if line.unit_price < 0:
        errors.append(line.row.error("unit_price", _("Prices cannot be negative.")))
    if line.discount < 0:
        errors.append(line.row.error("discount", _("Discounts cannot be negative.")))
    elif line.quantity > 0 and line.amount < 0:
        reason = _("The discount is larger than the line total.")
        errors.append(line.row.error("discount", reason))


def parse_moment(text: str, zone: tzinfo | None = None) -> datetime | None:
    """2024-03-01 10:20:00, 2024/3/1 10:20, 2024年3月1日, ISO with offset; naive is local time."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        found = SLASHED_DATE.match(text.strip())
        if not found:
            return None
        parts = [int(part) if part else 0 for part in found.groups()]
        try:
            moment = datetime(*parts)  # type: ignore[arg-type, misc]
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone or timezone.get_current_timezone())
    return moment


def mobile_or_blank(value: str) -> str:
    try:
        return normalise_mobile(value)
    except Exception:  # ValidationError: not a mobile, so it can only be a member number
        return ""


def create_orders(groups: dict[OrderKey, list[ParsedLine]]) -> None:
    """One bulk insert of orders, then one of their lines; totals are the sum of the lines."""
    orders = []
    for (channel_id, external_id), lines in groups.items():
        first = lines[0]
        orders.append(
            Order(
                customer_id=first.customer_id,  # type: ignore[misc]
                channel_id=channel_id,
                external_id=external_id,
                store_id=first.store_id,
                status=first.status,
                ordered_at=first.ordered_at,
                total_amount=sum((line.amount for line in lines), Decimal("0.00")),
                discount_amount=sum((line.discount for line in lines), Decimal("0.00")),
            )
        )
    Order.objects.bulk_create(orders, batch_size=1000)
    insert_lines(
        (order.pk, line)
        for order, lines in zip(orders, groups.values(), strict=True)
        for line in lines
    )


def insert_lines(lines: Iterable[tuple[int | None, ParsedLine]]) -> None:
    """Multi-row parameterised INSERTs: for a million lines the ORM's per-value work is the cost."""
    meta = OrderLine._meta
    columns = [str(meta.get_field(name).column) for name in LINE_COLUMNS]  # type: ignore[union-attr]
    quote = connection.ops.quote_name
    prefix = "INSERT INTO {} ({}) VALUES ".format(  # noqa: S608 - names from the model
        quote(meta.db_table), ", ".join(quote(column) for column in columns)
    )
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    values = (
        (order_id, line.product_id, line.product_name, line.quantity, line.unit_price,
         line.discount, line.amount)
        for order_id, line in lines
    )  # fmt: skip
    with connection.cursor() as cursor:
        for batch in batched(values, INSERT_BATCH):
            statement = prefix + ", ".join([placeholders] * len(batch))
            cursor.execute(statement, [value for row in batch for value in row])


def add_lines(continued: dict[int, list[ParsedLine]]) -> None:
    for order_id, lines in continued.items():
        insert_lines((order_id, line) for line in lines)
        Order.objects.filter(pk=order_id).update(
            total_amount=F("total_amount") + sum((line.amount for line in lines), Decimal(0)),
            discount_amount=F("discount_amount")
            + sum((line.discount for line in lines), Decimal(0)),
        )
