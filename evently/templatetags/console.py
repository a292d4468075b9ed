"""Template tags of the console's own templates."""

from django import template

from evently import admin_tools

register = template.Library()


@register.simple_tag
def meter(part, held, total, wide=False):
    """`{% meter sold held capacity %}`: `admin_tools.meter` in a template."""
    return admin_tools.meter(part, held, total, wide=wide)
