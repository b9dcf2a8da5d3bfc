"""WSGI entry point for production servers (gunicorn, uwsgi, waitress) and for runserver.

Every web server kehu runs under loads this module, so it is where kehu refuses to serve with
development-only settings outside development.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
application = get_wsgi_application()

from kehu.core.production import refuse_insecure_start  # noqa: E402 (needs the settings loaded)

refuse_insecure_start()
