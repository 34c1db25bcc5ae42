from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "rencai.portal"
    verbose_name = "门户"
