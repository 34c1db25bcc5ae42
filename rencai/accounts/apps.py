from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "rencai.accounts"
    verbose_name = _("账号")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from rencai.accounts.middleware import on_login

        user_logged_in.connect(on_login, dispatch_uid="rencai.accounts.on_login")
