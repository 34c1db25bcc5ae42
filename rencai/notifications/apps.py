from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "rencai.notifications"
    verbose_name = _("消息通知")

    def ready(self):
        # Closing an account erases this app's personal data (issue 8).
        from rencai.notifications import erasure  # noqa: F401
