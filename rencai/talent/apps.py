from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TalentConfig(AppConfig):
    name = "rencai.talent"
    verbose_name = _("人才分类")
