"""`kehu scheduler`: enqueue the periodic jobs when they are due (run beside `kehu db_worker`)."""

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from kehu.core.schedule import enqueue_due_jobs


class Command(BaseCommand):
    help = "Enqueue periodic jobs (automatic return to the pool, ...) when they are due."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Enqueue what is due and exit.")
        parser.add_argument("--tick", type=int, default=60, help="Seconds between checks.")

    def handle(self, *args, **options):
        last_runs: dict = {}
        while True:
            for name in enqueue_due_jobs(last_runs, timezone.now()):
                self.stdout.write(f"{timezone.localtime():%Y-%m-%d %H:%M:%S} enqueued {name}")
            if options["once"]:
                return
            time.sleep(options["tick"])
