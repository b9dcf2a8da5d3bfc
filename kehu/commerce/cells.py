"""Reading typed cells of an order-lines file: numbers with currency signs, dates in the
spellings Chinese shop exports use, statuses by code or alias; each distinct text parsed once."""

import re
from collections.abc import Callable
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache, partial

from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.commerce.models import ZERO, OrderStatus
from kehu.core.rows import RowError, SourceRow

CENT = Decimal("0.01")
THOUSANDTH = Decimal("0.001")
MONEY_LIMIT = Decimal("10000000000")  # 12 digits with 2 decimal places
QUANTITY_LIMIT = Decimal("1000000000")  # 12 digits with 3 decimal places
MOMENT_CACHE = 4096  # the lines of one order share their time; times rarely repeat further
NUMBER_CACHE = 16_384  # quantities and prices come from a catalogue
CURRENCY_NOISE = re.compile(r"[¥￥,，\s元]")
SLASHED_DATE = re.compile(
    r"^(\d{4})[/.\-年](\d{1,2})[/.\-月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?$"
)
STATUS_ALIASES = {
    "待付款": OrderStatus.PENDING, "已付款": OrderStatus.PAID, "已完成": OrderStatus.COMPLETED,
    "完成": OrderStatus.COMPLETED, "已取消": OrderStatus.CANCELLED, "取消": OrderStatus.CANCELLED,
    "部分退款": OrderStatus.PARTIALLY_REFUNDED, "已退款": OrderStatus.REFUNDED,
}  # fmt: skip


class CellReader:
    """Reads typed values from rows, adding an error per bad cell.

    Numbers and times repeat across a file (four lines of an order share their time, prices
    come from a catalogue), so each distinct text is parsed once, in bounded caches.
    """

    def __init__(self, zone: tzinfo) -> None:
        self.moment_of = lru_cache(maxsize=MOMENT_CACHE)(partial(parse_moment, zone=zone))
        self.statuses = status_codes()

    def text(
        self, row: SourceRow, name: str, limit: int, errors: list[RowError], required: bool = False
    ) -> str:
        value = row.values.get(name, "")
        if len(value) > limit:
            errors.append(row.error(name, _("At most %(limit)d characters.") % {"limit": limit}))
        elif required and not value:
            errors.append(row.error(name, _("This value is required.")))
        return value

    def number(
        self,
        row: SourceRow,
        name: str,
        convert: Callable[[str], Decimal | None],
        errors: list[RowError],
        required: bool = False,
    ) -> Decimal:
        text = row.values.get(name, "")
        value = convert(text) if text else BLANK
        if value is None:
            errors.append(row.error(name, _("“%(value)s” is not a number.") % {"value": text}))
        elif value is BLANK:
            if required:
                errors.append(row.error(name, _("This value is required.")))
        else:
            return value
        return ZERO

    def moment(self, row: SourceRow, name: str, errors: list[RowError]) -> datetime:
        text = row.values.get(name, "")
        moment = self.moment_of(text)
        if moment is None:
            reason = _("“%(value)s” is not a date and time like 2024-03-01 10:20:00.")
            errors.append(row.error(name, reason % {"value": text}))
            return datetime.min
        return moment  # type: ignore[no-any-return]

    def status(self, row: SourceRow, errors: list[RowError]) -> str:
        text = row.values.get("status", "")
        status = self.statuses.get(text)
        if status is None:
            allowed = ", ".join(OrderStatus.values)
            reason = _("“%(value)s” is not one of: %(allowed)s.")
            errors.append(row.error("status", reason % {"value": text, "allowed": allowed}))
            return OrderStatus.COMPLETED
        return status


def status_codes() -> dict[str, str]:
    """Status by what a file may say: the code, a Chinese alias or the label in this language."""
    codes: dict[str, str] = {"": OrderStatus.COMPLETED}
    codes.update({str(label): code for code, label in OrderStatus.choices})
    codes.update(STATUS_ALIASES)
    codes.update({code: code for code in OrderStatus.values})
    return codes


BLANK = Decimal(0)
"""A number cell that is empty or holds only currency signs and separators (tested with `is`)."""


def decimal_value(text: str, step: Decimal, limit: Decimal) -> Decimal | None:
    """“¥1,234.50” as Decimal rounded to `step`; None when not a finite number below `limit`."""
    cleaned = CURRENCY_NOISE.sub("", text)
    if not cleaned:
        return BLANK
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) >= limit:
        return None
    return value.quantize(step, rounding=ROUND_HALF_UP)


@lru_cache(maxsize=NUMBER_CACHE)
def quantity_value(text: str) -> Decimal | None:
    return decimal_value(text, THOUSANDTH, QUANTITY_LIMIT)


@lru_cache(maxsize=NUMBER_CACHE)
def money_value(text: str) -> Decimal | None:
    return decimal_value(text, CENT, MONEY_LIMIT)


def line_amount(quantity: Decimal, unit_price: Decimal, discount: Decimal) -> Decimal:
    return (quantity * unit_price - discount).quantize(CENT)


def check_amounts(
    row: SourceRow,
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal,
    errors: list[RowError],
) -> None:
    if quantity <= 0:
        errors.append(row.error("quantity", _("Quantity must be more than zero.")))
    if unit_price < 0:
        errors.append(row.error("unit_price", _("Prices cannot be negative.")))
    if discount < 0:
        errors.append(row.error("discount", _("Discounts cannot be negative.")))
    elif quantity > 0 and line_amount(quantity, unit_price, discount) < 0:
        reason = _("The discount is larger than the line total.")
        errors.append(row.error("discount", reason))


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
