from django import template

from rencai.applications.models import ACTION_NAMES, VERSION_REASONS

register = template.Library()


@register.filter
def action_name(code):
    return ACTION_NAMES.get(code, code)


@register.filter
def version_reason(code):
    return VERSION_REASONS.get(code, code)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
