"""WSGI entry point: `gunicorn evently.wsgi:application`.

Django's application, with the waiting room's join and poll answered in front of it when
Redis holds the queues (waitingroom.fastpath): every other request, and every join or poll
that is not the plain one, reaches Django as it came.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evently.settings")

django_application = get_wsgi_application()

from core.security import refuse_insecure_settings  # noqa: E402  (needs settings loaded)
from waitingroom.fastpath import QueueFastPath  # noqa: E402

refuse_insecure_settings()

application = QueueFastPath(django_application)
