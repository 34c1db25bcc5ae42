"""Settings come from the environment and a malformed value stops start-up."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from rencai.env import env_bool, env_int, parse_database_url


def test_database_url_sqlite_relative_and_postgres():
    sqlite = parse_database_url("sqlite:///var/x.sqlite3", base_dir=Path("/srv/app"))
    assert sqlite["NAME"] == "/srv/app/var/x.sqlite3"
    assert sqlite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    pg = parse_database_url("postgres://u:p%40ss@db.local:6543/rencai", base_dir=Path("/"))
    assert (pg["ENGINE"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "django.db.backends.postgresql",
        "u",
        "p@ss",
        "db.local",
        "6543",
        "rencai",
    )


@pytest.mark.parametrize(
    "url", ["mysql://x/y", "postgres://host:99999/db", "postgres://host/", "sqlite:///"]
)
def test_bad_database_urls_refused(url):
    with pytest.raises(ImproperlyConfigured):
        parse_database_url(url, base_dir=Path("/"))


def test_strict_booleans_and_integers(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG")
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_NUM"):
        env_int("X_NUM", 1)


def test_production_settings_hash_with_argon2_and_keep_captcha_real():
    import importlib

    prod = importlib.import_module("rencai.settings")
    assert prod.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert prod.CAPTCHA_TEST_MODE is False
    assert prod.LANGUAGE_CODE == "zh-hans" and prod.TIME_ZONE == "Asia/Shanghai"
