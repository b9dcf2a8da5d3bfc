"""The `kehu` console command: Django's management commands with friendlier names."""

import os
import sys

ALIASES = {
    "serve": "runserver",
    "import": "kehu_import",
    "export": "kehu_export",
    "pool": "kehu_pool",
}


def run_django_command(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


def main() -> None:
    argv = list(sys.argv)
    if len(argv) > 1:
        argv[1] = ALIASES.get(argv[1], argv[1])
    run_django_command(argv)
