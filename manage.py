#!/usr/bin/env python
"""Django's command-line utility; `kehu` is the friendlier front door."""

import sys

from kehu.cli import run_django_command

if __name__ == "__main__":
    run_django_command(sys.argv)
