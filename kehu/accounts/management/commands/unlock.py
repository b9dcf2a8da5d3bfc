"""`kehu unlock [USERNAME ...] [--address IP ...]`: lift a sign-in or API lock-out at once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kehu.accounts.services import unlock_sign_in


class Command(BaseCommand):
    help = (
        "Unlock accounts locked after wrong passwords, and addresses locked after wrong "
        "passwords or wrong API tokens, before their cool-off time ends."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("usernames", nargs="*", help="Accounts to unlock.")
        parser.add_argument(
            "--address", action="append", default=[], help="An IP address to unlock (repeatable)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["usernames"] and not options["address"]:
            raise CommandError("Name at least one username or --address.")
        cleared = unlock_sign_in(usernames=options["usernames"], addresses=options["address"])
        self.stdout.write(f"Unlocked; {cleared} failure record(s) cleared.")
