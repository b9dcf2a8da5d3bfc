"""`kehu events dispatch [--loop]`: run the outbox's due deliveries (once, or until stopped)."""

import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kehu.events.dispatch import StopFlag, dispatch, dispatch_forever


class Command(BaseCommand):
    help = "Dispatch the domain events in the outbox to their handlers."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="job", required=True)
        run = subcommands.add_parser("dispatch", help="Run every due delivery.")
        run.add_argument(
            "--loop", action="store_true", help="Keep dispatching until stopped (SIGTERM, ^C)."
        )
        run.add_argument(
            "--idle-seconds", type=float, default=1.0, help="Sleep this long when idle."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["loop"]:
            stop = StopFlag()

            def on_signal(signum: int, frame: Any) -> None:
                stop.is_set = True

            signal.signal(signal.SIGTERM, on_signal)
            signal.signal(signal.SIGINT, on_signal)
            dispatch_forever(idle_seconds=options["idle_seconds"], stop=stop)
            return
        report = dispatch()
        self.stdout.write(
            f"done {report.done}, failed {report.failed}, dead letters {report.dead}, "
            f"{report.seconds:.1f} s"
        )
