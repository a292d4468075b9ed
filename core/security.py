from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def refuse_insecure_settings() -> None:
    """Stop a server from starting in production mode with the public development key.

    Called by the WSGI and ASGI entry points (so gunicorn and runserver both refuse); management
    commands such as `migrate` keep working so an operator can prepare the database first.
    """
    if not settings.DEBUG and settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(
            "Refusing to start: DEBUG is off and SECRET_KEY is the built-in development key. "
            "Set SECRET_KEY to a long random value (python -c 'import secrets; "
            "print(secrets.token_urlsafe(50))'), or set DEBUG=true for local development."
        )
