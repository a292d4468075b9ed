"""WSGI entry point: `gunicorn evently.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evently.settings")

application = get_wsgi_application()

from core.security import refuse_insecure_settings  # noqa: E402  (needs settings loaded)

refuse_insecure_settings()
