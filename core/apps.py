from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The foundation every app may use: problems, locks, throttles, Idempotency-Key, CSV.

    It imports no app and not the root (tests/test_import_cycles.py holds it to that).
    """

    name = "core"
    verbose_name = "Evently foundation"
