from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "rencai.integrations"
    verbose_name = _("外部数据")
