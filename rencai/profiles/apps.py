from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProfilesConfig(AppConfig):
    name = "rencai.profiles"
    verbose_name = _("个人情况")

    def ready(self):
        # Closing an account erases this app's personal data (issue 8).
        from rencai.profiles import erasure  # noqa: F401
