"""What both floors' settings share: the database Evently uses and how it holds connections.

Nothing else comes from evently.settings: Evently's own choices (middleware, apps, logging,
connection health checks, lock timeouts) are what the floors measure it against.
"""

import os

import dj_database_url

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
# Persistent connections, as Evently keeps them (CONN_MAX_AGE); a floor that reconnected on
# every request would measure the connection, not the booking.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["DATABASE_URL"], conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60"))
    )
}
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
