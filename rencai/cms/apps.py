from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CmsConfig(AppConfig):
    name = "rencai.cms"
    verbose_name = _("门户内容")
