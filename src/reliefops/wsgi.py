"""WSGI entry point for gunicorn: `gunicorn reliefops.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reliefops.settings")
application = get_wsgi_application()
