from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "rencai.orgs"
    verbose_name = "组织机构"
