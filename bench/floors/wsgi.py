"""WSGI entry point of a floor: `gunicorn bench.floors.wsgi:application`, with
DJANGO_SETTINGS_MODULE naming the floor (bench.floors.plain_settings or framework_settings)."""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

if not os.environ.get("DJANGO_SETTINGS_MODULE", "").startswith("bench.floors."):
    # Inherited from a shell that runs Evently, the floor would silently be Evently.
    raise ImproperlyConfigured("DJANGO_SETTINGS_MODULE must name a floor's settings module")

application = get_wsgi_application()
