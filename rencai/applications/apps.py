from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "rencai.applications"
    verbose_name = _("申报")

    def ready(self):
        from rencai.applications import checks  # noqa: F401  (registers the F10 closure check)
