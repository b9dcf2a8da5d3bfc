"""`kehu api_token create USERNAME --name NAME | list [USERNAME] | revoke ID`: API tokens."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kehu.accounts.models import ApiToken, User
from kehu.accounts.services import create_api_token, revoke_api_token


class Command(BaseCommand):
    help = "Create, list or revoke API tokens (Authorization: Bearer <token>)."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a token; it is printed only once.")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="What the token is for, e.g. POS sync.")
        listing = actions.add_parser("list", help="List tokens (never their secret).")
        listing.add_argument("username", nargs="?", default="")
        revoke = actions.add_parser("revoke", help="Delete a token by its id.")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self.create(options["username"], options["name"])
        elif action == "list":
            self.list(options["username"])
        else:
            self.revoke(options["token_id"])

    def create(self, username: str, name: str) -> None:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        if not name.strip():
            raise CommandError("Give the token a --name.")
        token, raw_token = create_api_token(user, name)
        self.stderr.write(
            f"Token #{token.pk} “{token.name}” for {user.username}; it is shown only this once:"
        )
        self.stdout.write(raw_token)

    def list(self, username: str) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "pk")
        if username:
            tokens = tokens.filter(user__username=username)
        for token in tokens:
            last_used = token.last_used_at.isoformat() if token.last_used_at else "never"
            self.stdout.write(
                f"{token.pk}\t{token.user.username}\t{token.name}\t{token.prefix}…\t"
                f"created {token.created_at.isoformat()}\tlast used {last_used}"
            )

    def revoke(self, token_id: int) -> None:
        if not revoke_api_token(token_id):
            raise CommandError(f"No token with id {token_id}.")
        self.stdout.write(f"Token #{token_id} revoked.")
