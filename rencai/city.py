"""The city's configuration: ``settings.RENCAI_CITY`` gives the defaults, and the active
policy packs (``policies/*.yaml``, their ``city:`` section) override them, the pack loaded
last winning. Read often (every page), so it is cached for ``RENCAI_CITY_CACHE_SECONDS``;
``load_policy`` clears the cache of its own process."""

import time

from django.conf import settings

_cache: dict = {"at": None, "config": None}


def city_config_clear() -> None:
    _cache["at"] = None
    _cache["config"] = None


def city_config() -> dict:
    ttl = getattr(settings, "RENCAI_CITY_CACHE_SECONDS", 30)
    now = time.monotonic()
    if _cache["config"] is None or _cache["at"] is None or now - _cache["at"] >= ttl:
        config = dict(settings.RENCAI_CITY)
        from rencai.programs.models import Pack

        for city in (
            Pack.objects.filter(active=True).order_by("loaded_at").values_list("city", flat=True)
        ):
            config.update(city or {})
        _cache["config"], _cache["at"] = config, now
    return _cache["config"]


def city_setting(name: str):
    return city_config()[name]
