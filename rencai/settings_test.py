"""Settings for the test suite only: the captcha accepts the answer "PASSED" so that
tests can register and log in. Production never imports this module."""

from rencai.settings import *

CAPTCHA_TEST_MODE = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
SMS_BACKEND = "rencai.notifications.sms.MemoryBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
WHITENOISE_USE_FINDERS = True
RENCAI_CITY_CACHE_SECONDS = 0  # tests change packs between cases: always read
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
