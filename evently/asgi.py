"""ASGI entry point, for servers that speak ASGI."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evently.settings")

application = get_asgi_application()

from core.security import refuse_insecure_settings  # noqa: E402  (needs settings loaded)

refuse_insecure_settings()
