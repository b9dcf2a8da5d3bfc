"""The event the predictions app records: `churn_warning.raised` for every customer whose churn
level rises to warning or critical in a refresh, in the refresh's transaction, written in
batches (one `record_events` per batch of customers)."""

from collections.abc import Sequence

from kehu.events.services import NewEvent, record_events

BATCH = 2000


def record_churn_warnings(raised: Sequence[tuple[int, str, int]]) -> None:
    """`raised`: (customer id, new level, risk) of each customer whose level rose."""
    for start in range(0, len(raised), BATCH):
        record_events([
            NewEvent(
                "churn_warning.raised",
                {"customer_id": customer_id, "level": level, "risk": int(risk)},
                customer_id,
            )
            for customer_id, level, risk in raised[start : start + BATCH]
        ])  # fmt: skip
