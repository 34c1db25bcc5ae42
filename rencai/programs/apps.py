from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "rencai.programs"
    verbose_name = _("申报项目")
