"""`kehu api_schema --output FILE` writes the OpenAPI schema; `--check FILE` fails if stale.

It lives in kehu.core because it reads the whole API (every app's router), which the layer
rules do not let an app's own management commands import.
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation


def current_schema_text() -> str:
    """The schema as committed: English, sorted keys, two-space indent, trailing newline."""
    from kehu.api import api

    with translation.override("en"):
        schema = api.get_openapi_schema(path_prefix="/api/")
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Write the API's OpenAPI schema to a file, or check that the file is up to date."

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--output", metavar="FILE", help="Write the schema to FILE.")
        target.add_argument("--check", metavar="FILE", help="Fail if FILE differs from it.")

    def handle(self, *args: Any, **options: Any) -> None:
        text = current_schema_text()
        if options["output"]:
            path = Path(options["output"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            self.stdout.write(f"Wrote the OpenAPI schema to {path}.")
            return
        path = Path(options["check"])
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            raise CommandError(
                f"{path} is out of date with the API. Regenerate it with: "
                f"kehu api_schema --output {path}"
            )
        self.stdout.write(f"{path} is up to date.")
