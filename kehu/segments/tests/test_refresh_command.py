import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from kehu.segments.models import CustomerMetrics
from kehu.segments.tests.refresh_data import build_shop


def run(*arguments: str) -> str:
    output = io.StringIO()
    with translation.override("en"):
        call_command("segments", *arguments, stdout=output)
    return output.getvalue()


def test_refresh_prints_counts_and_a_table_of_steps(channel):
    build_shop(channel)

    lines = run("refresh").splitlines()

    # The default automatic tags (高频, 价格敏感) are created and given to two customers.
    assert lines[0] == "0 saved segments refreshed; 2 automatic tags changed."
    assert lines[1].startswith("Refreshed 6 customers (5 with orders); 6 stage changes.")
    assert lines[2].split() == ["step", "seconds"]
    assert [line.rsplit(maxsplit=1)[0] for line in lines[3:8]] == [
        "read",
        "summarise",
        "score",
        "store",
        "all steps",
    ]
    assert CustomerMetrics.objects.count() == 6


def test_refresh_of_one_customer(channel):
    shop = build_shop(channel)

    output = run("refresh", "--customer", str(shop.alice.pk))

    assert output.startswith(f"Customer {shop.alice.pk}: ")
    assert output.rstrip().endswith("2 orders.")
    assert list(CustomerMetrics.objects.values_list("customer_id", flat=True)) == [shop.alice.pk]


def test_refresh_of_an_unknown_customer_is_refused(db):
    with pytest.raises(CommandError, match="no customer with id 424242"):
        run("refresh", "--customer", "424242")

    assert not CustomerMetrics.objects.exists()
