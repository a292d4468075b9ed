from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class EventlyConfig(AppConfig):
    # Named the default: this module holds two AppConfigs, and "evently" in INSTALLED_APPS
    # means this one.
    default = True
    name = "evently"
    verbose_name = "Evently"


class EventlyAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Evently's site (a throttled login), installed the documented
    way: "evently.apps.EventlyAdminConfig" replaces "django.contrib.admin" in INSTALLED_APPS."""

    default = False
    default_site = "evently.admin_site.EventlyAdminSite"
