import pytest
from django.db import connection

from kehu.core.maintenance import refresh_planner_statistics
from tests.fixtures.records import make_customer


@pytest.mark.django_db
def test_statistics_are_gathered(sales):
    for _ in range(3):
        make_customer(owner=sales)
    refresh_planner_statistics()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'customers_customer'")
        else:
            cursor.execute("SELECT count(*) FROM pg_stats WHERE tablename = 'customers_customer'")
        assert cursor.fetchone()[0] > 0
