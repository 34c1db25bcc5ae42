from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rencai.accounts"
    verbose_name = "账号"
