"""Masking filters for templates (issue 8): ``{{ value|mask_id }}``, ``|mask_phone``,
``|mask_contact``, ``|mask_bank``. A page that must show the full value to a role that
needs it offers ``includes/reveal.html`` instead, which is audited."""

from django import template

from rencai import identity

register = template.Library()


@register.filter
def mask_id(value):
    return identity.mask_id_number(str(value or ""))


@register.filter
def mask_phone(value):
    return identity.mask_phone(str(value or ""))


@register.filter
def mask_contact(value):
    return identity.mask_contact(str(value or ""))


@register.filter
def mask_bank(value):
    return identity.mask_bank_account(str(value or ""))
