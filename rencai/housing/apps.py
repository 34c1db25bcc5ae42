from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HousingConfig(AppConfig):
    name = "rencai.housing"
    verbose_name = _("人才安居")
