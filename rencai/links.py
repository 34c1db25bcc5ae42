"""Addresses of a record's pages, built from a pattern resolved once per process (issue 7:
every submission writes two links and answers with a redirect to a third; a batch of
10,000 approvals writes 10,000)."""

import functools

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import reverse

_MARK = "987654321"  # stands for the record's id in the resolved pattern


@functools.cache
def _pattern(name: str) -> str:
    return reverse(name, args=[int(_MARK)])


def url(name: str, pk: int) -> str:
    """``reverse(name, args=[pk])`` for a view that takes one record id."""
    return _pattern(name).replace(_MARK, str(int(pk)))


@receiver(setting_changed)
def _forget(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _pattern.cache_clear()
