"""The city's configuration. Today it lives in settings (``RENCAI_CITY``); the policy packs
of the program engine take it over, and this accessor is the one place that changes."""

from django.conf import settings


def city_config() -> dict:
    return settings.RENCAI_CITY


def city_setting(name: str):
    return settings.RENCAI_CITY[name]
