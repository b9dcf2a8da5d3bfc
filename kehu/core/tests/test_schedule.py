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
    every_job = [job.name for job in PERIODIC_JOBS]
    assert enqueue_due_jobs(last_runs, now, enqueued.append) == every_job
    assert enqueue_due_jobs(last_runs, now + timedelta(seconds=30), enqueued.append) == []
    hourly = PERIODIC_JOBS[0]
    later = now + hourly.interval
    due_again = [job.name for job in PERIODIC_JOBS if job.interval <= hourly.interval]
    assert hourly.name in due_again and "refresh_segmentation" not in due_again
    assert enqueue_due_jobs(last_runs, later, enqueued.append) == due_again
    assert len(enqueued) == len(every_job) + len(due_again)


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
