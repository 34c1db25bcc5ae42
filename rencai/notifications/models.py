from django.db import models
from django.utils.translation import gettext_lazy as _


class SmsMessage(models.Model):
    """The SMS outbox: every message is written here first, then handed to the backend."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    phone = models.CharField(_("手机号"), max_length=20, db_index=True)
    purpose = models.CharField(_("用途"), max_length=30)
    body = models.TextField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("短信发件箱")
        verbose_name_plural = _("短信发件箱")

    def __str__(self):
        return f"{self.phone} {self.purpose}"
