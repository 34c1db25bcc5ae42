from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "rencai.notifications"
    verbose_name = "消息通知"
