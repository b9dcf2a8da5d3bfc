"""`kehu scheduler`: enqueue the periodic jobs when they are due (run beside `kehu db_worker`).

The state is in the database (kehu/core/schedule.py): a restart does not re-run what already
ran, and two schedulers running at once enqueue each job once."""

import time

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from kehu.core.schedule import enqueue_due_jobs, job_states


class Command(BaseCommand):
    help = "Enqueue periodic jobs (automatic return to the pool, ...) when they are due."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Enqueue what is due and exit.")
        parser.add_argument("--tick", type=int, default=60, help="Seconds between checks.")
        parser.add_argument(
            "--list", action="store_true", help="Show each job's last and next run, and exit."
        )

    def handle(self, *args, **options):
        try:
            self.run(options)
        except ImproperlyConfigured as error:  # a bad KEHU_SCHEDULE: say so, without a traceback
            raise CommandError(str(error)) from error

    def run(self, options):
        if options["list"]:
            self.list_jobs()
            return
        while True:
            for name in enqueue_due_jobs(timezone.now()):
                self.stdout.write(f"{timezone.localtime():%Y-%m-%d %H:%M:%S} enqueued {name}")
            if options["once"]:
                return
            time.sleep(options["tick"])
            close_old_connections()  # a long-running process: drop a dead or too old connection

    def list_jobs(self):
        for state in job_states():
            when = f"every {state.every}" if state.every else f"daily at {state.at:%H:%M}"
            self.stdout.write(
                f"{state.name:32} {when:20} last {moment(state.last_run_at):19} "
                f"next {moment(state.next_run_at):19} {state.status or '-'} {state.error}".rstrip()
            )


def moment(value):
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "-"
