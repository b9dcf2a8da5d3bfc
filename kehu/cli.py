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

    if argv[1:2] == ["runserver"]:
        refuse_insecure_runserver()
    execute_from_command_line(argv)


def refuse_insecure_runserver() -> None:
    """Stop at once, as kehu/wsgi.py would: runserver's reloader would otherwise print the
    refusal and then wait for file changes instead of exiting."""
    import django
    from django.core.exceptions import ImproperlyConfigured

    from kehu.core.production import refuse_insecure_start

    django.setup()
    try:
        refuse_insecure_start()
    except ImproperlyConfigured as refusal:
        sys.exit(str(refusal))


def main() -> None:
    argv = list(sys.argv)
    if len(argv) > 1:
        argv[1] = ALIASES.get(argv[1], argv[1])
    run_django_command(argv)
