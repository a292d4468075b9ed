"""Template tags of the console's own templates."""

from django import template
from django.conf import settings

from core import admin_tools

register = template.Library()


@register.simple_tag
def meter(part, held, total, wide=False):
    """`{% meter sold held capacity %}`: `admin_tools.meter` in a template."""
    return admin_tools.meter(part, held, total, wide=wide)


@register.filter
def money(amount) -> str:
    """`{{ amount|money }}`: "EUR 1,250.00"."""
    return admin_tools.money(amount)


@register.simple_tag
def currency() -> str:
    """`{% currency %}`: the code of the currency of every price, for a column's heading."""
    return settings.CURRENCY
