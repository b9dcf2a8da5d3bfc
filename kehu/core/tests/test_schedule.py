from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from kehu.core.schedule import PERIODIC_JOBS, enqueue_due_jobs
from kehu.customers.models import Customer
from tests.fixtures.records import make_customer


def test_jobs_are_due_once_per_interval():
    enqueued = []
    last_runs: dict = {}
    now = timezone.now()
    assert enqueue_due_jobs(last_runs, now, enqueued.append) == [PERIODIC_JOBS[0].name]
    assert enqueue_due_jobs(last_runs, now + timedelta(minutes=5), enqueued.append) == []
    later = now + PERIODIC_JOBS[0].interval
    assert enqueue_due_jobs(last_runs, later, enqueued.append) == [PERIODIC_JOBS[0].name]
    assert len(enqueued) == 2


@pytest.mark.django_db
def test_scheduler_once_runs_the_auto_return(sales, capsys):
    long_ago = timezone.now() - timedelta(days=90)
    customer = make_customer(owner=sales, owned_since=long_ago)
    call_command("scheduler", "--once")
    customer.refresh_from_db()
    assert customer.owner is None
    assert "return_neglected_customers" in capsys.readouterr().out


@pytest.mark.django_db
def test_pool_command_returns_neglected_customers(sales, capsys):
    make_customer(owner=sales, owned_since=timezone.now() - timedelta(days=90))
    call_command("kehu_pool", "return-neglected")
    assert "1 customers returned" in capsys.readouterr().out
    assert Customer.objects.filter(owner__isnull=True).count() == 1
