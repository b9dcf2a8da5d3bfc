"""Coupons under real concurrency: threads, each with its own database connection, released
together by a barrier. 50 parallel redemptions of one single-use coupon (against different
orders of its holder) end with exactly one use and 49 clear "already used" refusals; the same
issue request sent 20 times with one idempotency key gives one coupon; the same redemption sent
40 times with one idempotency key answers the one redemption 40 times.

Run on PostgreSQL with `scripts/with-postgres.sh .venv/bin/pytest <this file>`. On SQLite the
test database is an in-memory shared cache, whose table locks fail at once instead of waiting,
so there the same races run against a file database in a child process (see
`run_on_sqlite_file`), as the production SQLite set-up (WAL, IMMEDIATE transactions) does.
"""

import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from kehu.core.errors import DomainError
from kehu.loyalty.coupons import services as coupons
from kehu.loyalty.coupons.services import issue_one, redeem_coupon
from kehu.loyalty.models import Coupon, CouponTemplate
from kehu.loyalty.tests.coupon_data import make_order, make_template
from tests.fixtures.records import make_customer

REDEMPTIONS = 50
IDENTICAL_REDEMPTIONS = 40
ISSUES = 20
BARRIER_SECONDS = 60
ROOT = Path(__file__).resolve().parents[3]
CHILD_PROGRAM = (
    "import json, sys, django; django.setup(); "
    "from kehu.loyalty.tests.test_coupons_concurrency import child_scenario; "
    "print(json.dumps(child_scenario(sys.argv[1])))"
)
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="threads need a server database; see the docstring"
)


def in_parallel(count: int, action: Callable[[int], str]) -> Counter[str]:
    """Run `action(index)` in `count` threads started together; count what each returned (or
    the code of the rule that refused it)."""
    barrier = threading.Barrier(count, timeout=BARRIER_SECONDS)

    def attempt(index: int) -> str:
        try:
            barrier.wait()
            return action(index)
        except DomainError as refusal:
            return refusal.code
        except threading.BrokenBarrierError:
            return "barrier_broken"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return Counter(pool.map(attempt, range(count)))


@contextmanager
def all_past(module: object, name: str, count: int) -> Iterator[None]:
    """Hold each thread after its first call of `module.name` until all `count` made it: the checks
    of every request then see the same unused coupon, so only the database statement that
    follows can decide (without this, threads that happen to start late would simply read the
    coupon as used and the race would not be tested)."""
    original = getattr(module, name)
    barrier = threading.Barrier(count, timeout=BARRIER_SECONDS)
    calls = itertools.count()  # only the first call of each thread is held

    def checked_then_held(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if next(calls) < count:
            barrier.wait()
        return result

    setattr(module, name, checked_then_held)
    try:
        yield
    finally:
        setattr(module, name, original)


def redemption_race(sales, marketer, channel) -> tuple[Counter[str], Coupon, list[int]]:
    holder = make_customer(sales, name="王芳")
    template = make_template(marketer, kind="fixed", amount_off=Decimal("20"))
    coupon = issue_one(marketer, template.pk, holder.pk).coupon
    orders = [make_order(holder, channel, "100.00").pk for _ in range(REDEMPTIONS)]

    def redeem(index: int) -> str:
        redeem_coupon(sales, coupon.code, orders[index], idempotency_key=f"pos-{index}")
        return "used"

    with all_past(coupons, "check_redeemable", REDEMPTIONS):
        return in_parallel(REDEMPTIONS, redeem), coupon, orders


def identical_redemptions(sales, marketer, channel) -> tuple[Counter[str], Coupon]:
    """One redemption a till sends 40 times at once with one key (a retry storm): every
    request read the coupon unused, so the checks of the late ones meet the order's coupon."""
    holder = make_customer(sales, name="赵敏")
    template = make_template(marketer, kind="fixed", amount_off=Decimal("20"))
    coupon = issue_one(marketer, template.pk, holder.pk).coupon
    order = make_order(holder, channel, "100.00")

    def redeem(_index: int) -> str:
        used = redeem_coupon(sales, coupon.code, order.pk, idempotency_key="till-7:receipt-1")
        return f"{used.status}:{used.order_id == order.pk}:{used.discount_amount}"

    with all_past(coupons, "coupon_by_code", IDENTICAL_REDEMPTIONS):
        return in_parallel(IDENTICAL_REDEMPTIONS, redeem), coupon


def issue_race(marketer, sales) -> tuple[Counter[str], CouponTemplate]:
    holder = make_customer(sales, name="李娜")
    template = make_template(marketer, total_limit=100)

    def issue(_index: int) -> str:
        result = issue_one(marketer, template.pk, holder.pk, idempotency_key="crm-campaign-7")
        return f"{'created' if result.created else 'replayed'}:{result.coupon.code}"

    with all_past(coupons, "check_issuable", ISSUES):
        return in_parallel(ISSUES, issue), template


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_redemptions_of_one_coupon_use_it_once(sales, marketer, channel):
    outcomes, coupon, orders = redemption_race(sales, marketer, channel)
    assert outcomes == Counter({"used": 1, "already_used": REDEMPTIONS - 1})
    used = Coupon.objects.get(pk=coupon.pk)
    assert used.status == "redeemed" and used.order_id in orders
    assert used.discount_amount == Decimal("20.00")
    assert Coupon.objects.filter(order__isnull=False).count() == 1
    assert used.redeem_key == f"pos-{orders.index(used.order_id)}"


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_redemption_sent_forty_times_at_once_answers_the_first_each_time(
    sales, marketer, channel
):
    outcomes, coupon = identical_redemptions(sales, marketer, channel)
    assert outcomes == Counter({"redeemed:True:20.00": IDENTICAL_REDEMPTIONS})
    used = Coupon.objects.get(pk=coupon.pk)
    assert (used.status, used.redeem_key) == ("redeemed", "till-7:receipt-1")
    assert Coupon.objects.filter(order__isnull=False).count() == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_issue_sent_twenty_times_in_parallel_gives_one_coupon(sales, marketer):
    outcomes, template = issue_race(marketer, sales)
    coupon = Coupon.objects.get()
    assert outcomes == Counter({f"created:{coupon.code}": 1, f"replayed:{coupon.code}": ISSUES - 1})
    template.refresh_from_db()
    assert template.issued_count == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_parallel_issues_never_pass_the_total_limit(sales, marketer):
    template = make_template(marketer, total_limit=7)
    customers = [make_customer(sales).pk for _ in range(30)]

    def issue(index: int) -> str:
        issue_one(marketer, template.pk, customers[index])
        return "issued"

    outcomes = in_parallel(len(customers), issue)
    assert outcomes == Counter({"issued": 7, "total_limit": 23})
    template.refresh_from_db()
    assert template.issued_count == 7 == Coupon.objects.count()


# --- the same races on an SQLite file ---------------------------------------------------------


def run_on_sqlite_file(scenario: str) -> dict[str, object]:
    """Migrate a fresh SQLite file database in a child process and run `scenario` there."""
    with tempfile.TemporaryDirectory(prefix="kehu-coupon-race-") as var_dir:
        environment = {
            **os.environ,
            "KEHU_VAR_DIR": var_dir,
            "DJANGO_SETTINGS_MODULE": "kehu.settings",
        }
        environment.pop("DATABASE_URL", None)
        completed = subprocess.run(
            [sys.executable, "-c", CHILD_PROGRAM, scenario],
            env=environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the PostgreSQL tests above run these")
def test_fifty_parallel_redemptions_on_an_sqlite_file():
    result = run_on_sqlite_file("redeem")
    assert result["outcomes"] == {"used": 1, "already_used": REDEMPTIONS - 1}
    assert result["used_on_orders"] == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the PostgreSQL tests above run these")
def test_the_same_redemption_forty_times_on_an_sqlite_file():
    result = run_on_sqlite_file("replay")
    assert result["outcomes"] == {"redeemed:True:20.00": IDENTICAL_REDEMPTIONS}
    assert result["used_on_orders"] == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the PostgreSQL tests above run these")
def test_the_same_issue_twenty_times_on_an_sqlite_file():
    result = run_on_sqlite_file("issue")
    assert result["coupons"] == 1 and result["issued_count"] == 1
    assert sorted(result["outcomes"].values()) == [1, ISSUES - 1]


def child_scenario(scenario: str) -> dict[str, object]:
    """In the child: the fixtures' people and records, then one race."""
    from django.core.management import call_command

    from kehu.accounts.roles import Role
    from kehu.commerce.models import ChannelKind, SalesChannel
    from tests.fixtures.people import make_user

    call_command("migrate", verbosity=0)
    sales = make_user("sales_north", Role.SALES)
    marketer = make_user("marketing", Role.MARKETING)
    if scenario in ("redeem", "replay"):
        channel = SalesChannel.objects.create(code="pos", name="门店收银", kind=ChannelKind.STORE)
        if scenario == "redeem":
            outcomes, _coupon, _orders = redemption_race(sales, marketer, channel)
        else:
            outcomes, _coupon = identical_redemptions(sales, marketer, channel)
        used = Coupon.objects.filter(order__isnull=False).count()
        return {"outcomes": dict(outcomes), "used_on_orders": used}
    outcomes, template = issue_race(marketer, sales)
    template.refresh_from_db()
    return {
        "outcomes": dict(outcomes),
        "coupons": Coupon.objects.count(),
        "issued_count": template.issued_count,
    }
