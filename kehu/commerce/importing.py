"""Importing order lines from a file: one row per line, grouped into orders, idempotent.

Rows of one order are grouped by (channel, external order id). An order whose id already
exists is “unchanged”, so importing the same file twice stores every order once. A bad line
fails its whole order: an order is never stored with lines missing. Customers must exist
(matched by member number, then mobile, among those the importer may see); they are never
created implicitly. An SKU that is not in the catalogue keeps the line's product name with no
product, because an import with a typo should not add products to the catalogue.

Fast path, for a million lines in bounded memory: chunks of 8,000 rows (about 2,000 orders);
customers, products and existing orders are looked up with one query per slice of a chunk and
remembered in bounded caches shared by the validation and the write pass; numbers and times are
parsed once per distinct text; orders and lines are written by the database's bulk writer
(`kehu.commerce.bulk`).
"""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.accounts.roles import Scope
from kehu.commerce.bulk import BulkWriter, OrderKey, Row, bulk_writer
from kehu.commerce.cells import (
    BLANK,
    CellReader,
    check_amounts,
    line_amount,
    money_value,
    quantity_value,
)
from kehu.commerce.models import ZERO, Order, Product, SalesChannel, Store
from kehu.commerce.outbox import order_posted
from kehu.core.rows import ImportField, Result, RowError, RowOutcome, SourceRow
from kehu.customers.queries import visible_customers
from kehu.customers.validation import normalise_mobile
from kehu.events.services import record_events

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

CACHE_LIMIT = 100_000  # customers and products remembered: a few MB
LOOKUP_SLICE = 500


@dataclass(slots=True)
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
    amount: Decimal
    status: str
    customer_id: int | None = None
    product_id: int | None = None


class BoundedCache(OrderedDict):
    """A dict that forgets its oldest entries past a limit, so memory stays flat."""

    def remember(self, key: Any, value: Any) -> None:
        self[key] = value
        if len(self) > CACHE_LIMIT:
            self.popitem(last=False)


class OrderRowHandler:
    """Groups lines into orders and stores new orders; `write=False` only tells what would be."""

    # Each chunk is one write transaction. Measured: 16,000 lines were no faster on either
    # database and cost some 25 MB more memory.
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
        self.codes = Codes(
            {pk: code for code, pk in self.channels.items()},
            {pk: code for code, pk in self.stores.items()},
        )
        # The write pass asks the same questions as the validation pass before it.
        self.customers: BoundedCache = getattr(previous, "customers", None) or BoundedCache()
        self.products: BoundedCache = getattr(previous, "products", None) or BoundedCache()
        # Orders found bad by the validation pass stay out in the write pass, even when their
        # lines are far apart in the file.
        self.rejected: set[OrderKey] = set(getattr(previous, "rejected", set()))
        self.carry: list[SourceRow] = []
        self.cells = CellReader(timezone.get_current_timezone())
        self.writer = bulk_writer()
        self.first_new_order_id = (
            (Order.objects.aggregate(top=Max("pk"))["top"] or 0) if write else 0
        )

    def handle(self, rows: list[SourceRow]) -> list[RowOutcome]:
        """Process a chunk, holding back the last order's rows: it may continue in the next."""
        rows = self.carry + rows
        last_key = self.raw_key(rows[-1])
        last_id = last_key[1]
        self.carry = [
            row
            for row in rows  # comparing the order id first is cheap and nearly always decides
            if row.values.get("order_id", "") == last_id and self.raw_key(row) == last_key
        ]
        if len(self.carry) == len(rows):
            self.carry = []
            return self.process(rows)
        held = {id(row) for row in self.carry}
        return self.process([row for row in rows if id(row) not in held])

    def finish(self) -> list[RowOutcome]:
        rows, self.carry = self.carry, []
        return self.process(rows) if rows else []

    def raw_key(self, row: SourceRow) -> tuple[str, str]:
        values = row.values
        return (values.get("channel") or self.default_channel, values.get("order_id", ""))

    def order_key(self, row: SourceRow) -> OrderKey:
        channel_code, external_id = self.raw_key(row)
        return (self.channels.get(channel_code, 0), external_id)

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
        """The row's line, or None with the row's errors in `outcomes`."""
        line = self.read_line(row)
        if line is None:
            outcomes[id(row)] = RowOutcome.failed(row, self.errors_of(row))
        return line

    def read_line(self, row: SourceRow) -> ParsedLine | None:
        """Fast path: the row's values, or None if any cell is bad (`errors_of` says why)."""
        get = row.values.get
        channel_id = self.channels.get(get("channel") or self.default_channel)
        external_id = get("order_id", "")
        customer_value = get("customer", "")
        store_code = get("store", "")
        store_id = self.stores.get(store_code) if store_code else None
        sku = get("sku", "")
        product_name = get("product_name", "")
        ordered_at = self.cells.moment_of(get("ordered_at", ""))
        quantity = quantity_value(get("quantity", ""))
        unit_price = money_value(get("unit_price", ""))
        discount = money_value(get("discount", "")) if get("discount") else ZERO
        status = self.cells.statuses.get(get("status", ""))
        if (
            channel_id is None
            or not 0 < len(external_id) <= 64
            or not 0 < len(customer_value) <= 64
            or (store_id is None and store_code)
            or len(sku) > 64
            or len(product_name) > 200
            or ordered_at is None
            or quantity is None
            or quantity is BLANK
            or unit_price is None
            or unit_price is BLANK
            or discount is None
            or status is None
        ):
            return None
        if discount is BLANK:
            discount = ZERO
        amount = line_amount(quantity, unit_price, discount)
        if quantity <= 0 or unit_price < 0 or discount < 0 or amount < 0:
            return None
        return ParsedLine(
            row, (channel_id, external_id), store_id, customer_value, ordered_at, sku,
            product_name, quantity, unit_price, discount, amount, status,
        )  # fmt: skip

    def errors_of(self, row: SourceRow) -> list[RowError]:
        """Slow path for a row the fast path refused: why, cell by cell."""
        errors = self.cell_errors(row)
        if not errors:  # caught in the validation pass, before anything is written
            raise RuntimeError(f"Line {row.line}: the fast and the full checks disagree.")
        return errors

    def cell_errors(self, row: SourceRow) -> list[RowError]:
        """An error for each bad cell of the row, with a reason for people."""
        errors: list[RowError] = []
        cells = self.cells
        channel_code = row.values.get("channel") or self.default_channel
        if channel_code not in self.channels:
            reason = _("Unknown sales channel “%(code)s”.") % {"code": channel_code}
            errors.append(row.error("channel", reason))
        cells.text(row, "order_id", 64, errors, required=True)
        store_code = row.values.get("store")
        if store_code and store_code not in self.stores:
            errors.append(row.error("store", _("Unknown store “%(code)s”.") % {"code": store_code}))
        cells.text(row, "customer", 64, errors, required=True)
        cells.moment(row, "ordered_at", errors)
        cells.text(row, "sku", 64, errors)
        cells.text(row, "product_name", 200, errors)
        quantity = cells.number(row, "quantity", quantity_value, errors, required=True)
        unit_price = cells.number(row, "unit_price", money_value, errors, required=True)
        discount = cells.number(row, "discount", money_value, errors)
        cells.status(row, errors)
        if not errors:
            check_amounts(row, quantity, unit_price, discount, errors)
        return errors

    def resolve_customers(self, lines: list[ParsedLine], outcomes: dict[int, RowOutcome]) -> None:
        """Match customers by member number, then mobile, with one query per slice of values."""
        known = self.customers
        wanted = sorted({line.customer_value for line in lines if line.customer_value not in known})
        for start in range(0, len(wanted), LOOKUP_SLICE):
            self.look_up_customers(wanted[start : start + LOOKUP_SLICE])
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
            .order_by()  # no sort: the answers go into a dict
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
        known = self.products
        wanted = sorted({line.sku for line in lines if line.sku and line.sku not in known})
        for start in range(0, len(wanted), LOOKUP_SLICE):
            batch = wanted[start : start + LOOKUP_SLICE]
            found = {
                sku: (pk, name)
                for sku, pk, name in Product.objects.filter(sku__in=batch)
                .order_by()
                .values_list("sku", "pk", "name")
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
        for group in groups.values():
            if len(group) > 1:
                check_one_customer(group, outcomes)
        if outcomes:
            self.rejected.update(self.order_key(row) for row in rows if id(row) in outcomes)
        for key in [key for key in groups if key in self.rejected]:
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
        existing = self.writer.existing_orders(groups)
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
        if self.write and (new_orders or continued):
            with transaction.atomic():
                create_orders(self.writer, new_orders, self.codes)
                add_lines(self.writer, continued)


def check_one_customer(group: list[ParsedLine], outcomes: dict[int, RowOutcome]) -> None:
    """Every line of an order names the same customer as its first line that has one."""
    first = next((line for line in group if line.customer_id), group[0])
    for line in group:
        if id(line.row) not in outcomes and line.customer_id != first.customer_id:
            reason = _("Another line of this order (line %(line)d) has another customer.") % {
                "line": first.row.line
            }
            outcomes[id(line.row)] = RowOutcome.failed(
                line.row, [line.row.error("customer", reason)]
            )


def mobile_or_blank(value: str) -> str:
    try:
        return normalise_mobile(value)
    except Exception:  # ValidationError: not a mobile, so it can only be a member number
        return ""


@dataclass(frozen=True)
class Codes:
    """Channel and store codes by id, for the events of the orders."""

    channels: dict[int, str]
    stores: dict[int, str]


def create_orders(
    writer: BulkWriter, groups: dict[OrderKey, list[ParsedLine]], codes: Codes
) -> None:
    """Orders first (the writer gives their ids), then their lines; totals sum the lines; then
    an `order.posted` event for each, in the same transaction."""
    if not groups:
        return
    now = timezone.now()
    orders: list[Row] = []
    for (channel_id, external_id), lines in groups.items():
        first = lines[0]
        orders.append((
            first.customer_id, channel_id, external_id, first.store_id, first.status,
            first.ordered_at, sum((line.amount for line in lines), ZERO),
            sum((line.discount for line in lines), ZERO), ZERO, now,
        ))  # fmt: skip
    order_ids = writer.insert_orders(orders)
    writer.insert_lines(
        line_row(order_id, line)
        for order_id, lines in zip(order_ids, groups.values(), strict=True)
        for line in lines
    )
    record_events([
        order_posted(
            order_id=order_id, external_id=row[2], channel_code=codes.channels.get(row[1], ""),
            store_code=codes.stores.get(row[3], "") if row[3] else "", customer_id=row[0],
            total_amount=row[6], status=row[4], ordered_at=row[5], imported=True,
        )
        for order_id, row in zip(order_ids, orders, strict=True)
    ])  # fmt: skip


def line_row(order_id: int, line: ParsedLine) -> Row:
    return (
        order_id, line.product_id, line.product_name, line.quantity, line.unit_price,
        line.discount, line.amount,
    )  # fmt: skip


def add_lines(writer: BulkWriter, continued: dict[int, list[ParsedLine]]) -> None:
    """Lines of orders stored earlier in this run: add them and grow the order's totals."""
    if not continued:
        return
    writer.insert_lines(
        line_row(order_id, line) for order_id, lines in continued.items() for line in lines
    )
    for order_id, lines in continued.items():
        Order.objects.filter(pk=order_id).update(
            total_amount=F("total_amount") + sum((line.amount for line in lines), ZERO),
            discount_amount=F("discount_amount") + sum((line.discount for line in lines), ZERO),
        )
