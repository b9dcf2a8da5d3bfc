"""A small hand-made transactions table and its summary worked out by hand (as of 2024-03-31)."""

import datetime

AS_OF = datetime.date(2024, 3, 31)

# customer, order, time, amount. Amounts are binary fractions so that every engine's float sum
# is exact and the routes can be compared with ==.
ROWS = [
    (1, 101, "2024-01-01 09:00:00", 10.25),
    (1, 101, "2024-01-01 09:00:00", 4.75),  # a second line of the same order
    (1, 102, "2024-02-15 18:30:00", 20.5),
    (2, 201, "2024-03-01 23:59:59", 100.0),  # the last second of the day stays on that day
    (2, 202, "2024-04-02 10:00:00", 50.0),  # after the as-of date: not counted
    (3, 301, "2024-01-10 08:00:00", 8.0),
    (3, 302, "2024-01-10 20:00:00", 8.0),  # two orders on one day
    (3, 303, "2024-03-30 12:00:00", -2.5),  # a negative amount (a refund) counts as it is
    (None, 401, "2024-03-02 12:00:00", 999.0),  # no customer: ignored
]
COLUMNS = ("customer", "invoice", "paid_at", "total")
COLUMN_OPTIONS = {
    "customer_column": "customer",
    "order_column": "invoice",
    "date_column": "paid_at",
    "amount_column": "total",
}


def day(month: int, number: int) -> datetime.date:
    return datetime.date(2024, month, number)


EXPECTED = [
    {
        "customer_id": 1,
        "first_purchase": day(1, 1),
        "last_purchase": day(2, 15),
        "recency_days": 45,  # 2024 is a leap year: 14 days of February + 31 of March
        "frequency": 2,
        "monetary": 35.5,
        "average_order_value": 17.75,
        "tenure_days": 90,
    },
    {
        "customer_id": 2,
        "first_purchase": day(3, 1),
        "last_purchase": day(3, 1),
        "recency_days": 30,
        "frequency": 1,
        "monetary": 100.0,
        "average_order_value": 100.0,
        "tenure_days": 30,
    },
    {
        "customer_id": 3,
        "first_purchase": day(1, 10),
        "last_purchase": day(3, 30),
        "recency_days": 1,
        "frequency": 3,
        "monetary": 13.5,
        "average_order_value": 4.5,
        "tenure_days": 81,
    },
]
EXPECTED_PREVIOUS_PURCHASE = [day(1, 1), None, day(1, 10)]


def arrow_table():
    import pyarrow as pa

    columns = list(zip(*ROWS, strict=True))
    return pa.table(
        {
            "customer": pa.array(columns[0], type=pa.int64()),
            "invoice": pa.array(columns[1], type=pa.int64()),
            "paid_at": pa.array(
                [datetime.datetime.fromisoformat(text) for text in columns[2]],
                type=pa.timestamp("us"),
            ),
            "total": pa.array(columns[3], type=pa.float64()),
        }
    )
