# Evently's production image: one image for every role. The default command serves the API
# with gunicorn (gunicorn.conf.py); docker-compose.yml runs the same image as the offer-expiry
# worker and the mailer with the management commands. Configured only by the environment
# (.env.example lists every variable; SECRET_KEY and DATABASE_URL are required).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The dependencies first, read from pyproject.toml, so a code change does not reinstall them.
# Every one ships a binary wheel for this image (psycopg[binary], argon2-cffi): no compiler.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# Static files (admin, API docs, dashboard) collected into STATIC_ROOT for WhiteNoise. The
# build needs no database and no real key: settings are only read, nothing is served.
RUN DEBUG=false SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

# The code belongs to root and is only readable by the server's own unprivileged user.
RUN useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin evently
USER evently

# gunicorn listens on the container's loopback unless GUNICORN_BIND says otherwise: its sync
# workers belong behind a buffering proxy. docker-compose.yml binds 0.0.0.0:8080 on the compose
# network, where only its nginx reaches it.
EXPOSE 8080
# gunicorn stops gracefully on SIGTERM (GUNICORN_GRACEFUL_TIMEOUT, 30 s): give it that long.
STOPSIGNAL SIGTERM
CMD ["gunicorn", "-c", "gunicorn.conf.py", "evently.wsgi:application"]
