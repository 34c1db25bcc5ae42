from django.utils.translation import gettext as _

from rencai.city import city_config

# Names an operator configures are shown as configured; the demo defaults have English
# entries in the catalog, so gettext turns them into English for an English reader.
TRANSLATED_KEYS = ("name", "platform_name", "lockout_contact")


def city(request):
    config = dict(city_config())
    for key in TRANSLATED_KEYS:
        if config.get(key):
            config[key] = _(config[key])
    return {"city": config}
