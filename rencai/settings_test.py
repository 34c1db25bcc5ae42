"""Settings for the test suite only: the captcha accepts the answer "PASSED" so that
tests can register and log in. Production never imports this module."""

import os
from pathlib import Path

from rencai.settings import *

CAPTCHA_TEST_MODE = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
SMS_BACKEND = "rencai.notifications.sms.MemoryBackend"
RENCAI_STAFF_TOTP = False  # staff tests use force_login; the TOTP tests turn it on
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
WHITENOISE_USE_FINDERS = True
RENCAI_CITY_CACHE_SECONDS = 0  # tests change packs between cases: always read
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# Two test runs on one checkout never share a test database: each run's is named after
# its process (SQLite file or PostgreSQL database), and pytest-django drops it at the end.
_run = os.getpid()
for _alias, _db in DATABASES.items():
    if _db["ENGINE"].endswith("sqlite3"):
        _path = Path(_db["NAME"])
        _name = f"{_path.stem}_test_{_run}.sqlite3"
        _db.setdefault("TEST", {})["NAME"] = str(_path.with_name(_name))
    elif "MIRROR" not in _db.get("TEST", {}):
        _db.setdefault("TEST", {})["NAME"] = f"test_{_db['NAME']}_{_run}"
