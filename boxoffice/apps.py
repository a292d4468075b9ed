from django.apps import AppConfig


class BoxofficeConfig(AppConfig):
    """Staff operations and pages that span the domain apps (docs/architecture.md)."""

    name = "boxoffice"
    verbose_name = "Box office"
