"""The events the customers app records, in the transaction of the change they report:
`customer.created`, `customer.updated` (the names of the fields that changed, never their
values) and `customer.merged`."""

from collections.abc import Iterable

from kehu.customers.models import Customer
from kehu.events.services import record_event


def record_customer_created(customer: Customer) -> None:
    payload = {"customer_id": customer.pk, "source_channel": str(customer.source_channel or "")}
    record_event("customer.created", payload, customer_id=customer.pk)


def record_customer_updated(customer_id: int, fields: Iterable[str]) -> None:
    """Nothing when no field changed."""
    names = sorted(set(fields))
    if names:
        payload = {"customer_id": customer_id, "fields": names}
        record_event("customer.updated", payload, customer_id=customer_id)


def record_customer_merged(kept_id: int, merged_id: int) -> None:
    payload = {"kept_customer_id": kept_id, "merged_customer_id": merged_id}
    record_event("customer.merged", payload, customer_id=kept_id)
