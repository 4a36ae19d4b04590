"""WSGI entry point for the local demo (`make run`): development settings, served by gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspectorate.settings.development")
application = get_wsgi_application()
