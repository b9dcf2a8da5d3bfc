"""The columns of a customer export, with contact details masked as the permission layer says."""

from collections.abc import Callable, Iterator
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import User
from kehu.customers.models import Customer
from kehu.customers.queries import CustomerFilters, search_customers

EXPORT_CHUNK = 2000

CUSTOMER_COLUMNS: list[tuple[Any, Callable[[Customer], Any]]] = [
    (_("Member number"), lambda customer: customer.member_number or ""),
    (_("Name"), lambda customer: customer.name),
    (_("Gender"), lambda customer: customer.get_gender_display()),
    (_("Birthday"), lambda customer: customer.birthday),
    (_("Mobile"), lambda customer: customer.display_mobile),  # type: ignore[attr-defined]
    (_("Email"), lambda customer: customer.display_email),  # type: ignore[attr-defined]
    (_("WeChat ID"), lambda customer: customer.display_wechat_id),  # type: ignore[attr-defined]
    (_("Province"), lambda customer: customer.province),
    (_("City"), lambda customer: customer.city),
    (_("District"), lambda customer: customer.district),
    (_("Address"), lambda customer: customer.display_address),  # type: ignore[attr-defined]
    (_("Source channel"), lambda customer: customer.get_source_channel_display()),
    (_("Home store"), lambda customer: customer.home_store.code if customer.home_store else ""),
    (_("Owner"), lambda customer: customer.owner.username if customer.owner else ""),
    (_("Status"), lambda customer: customer.get_status_display()),
    (_("Tags"), lambda customer: "、".join(tag.name for tag in customer.tags.all())),
    (_("Notes"), lambda customer: customer.notes),
    (_("Created at"), lambda customer: customer.created_at),
]


def customer_export_headers() -> list[str]:
    return [str(header) for header, _value in CUSTOMER_COLUMNS]


def customer_export_rows(user: User, filters: CustomerFilters) -> Iterator[list[Any]]:
    """The customers the user may see, filtered like the list, one masked row at a time."""
    customers = search_customers(user, filters).iterator(chunk_size=EXPORT_CHUNK)
    for customer in customers:
        yield [value(customer) for _header, value in CUSTOMER_COLUMNS]
