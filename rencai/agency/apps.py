from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgencyConfig(AppConfig):
    name = "rencai.agency"
    verbose_name = _("人力资源服务机构")
