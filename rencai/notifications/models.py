from django.db import models
from django.utils.translation import gettext_lazy as _

from rencai.fields import EncryptedCharField
from rencai.identity import mask_phone


class SmsMessage(models.Model):
    """The SMS outbox: every message is written here first, then handed to the backend."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    phone = EncryptedCharField(_("手机号"), max_length=20, index_field="phone_index")
    purpose = models.CharField(_("用途"), max_length=30)
    body = models.TextField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    # The phone is encrypted at rest (issue 8); its keyed hash finds a phone's messages.
    phone_index = models.CharField(max_length=64, null=True, editable=False, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("短信发件箱")
        verbose_name_plural = _("短信发件箱")

    def __str__(self):
        return f"{mask_phone(self.phone)} {self.purpose}"  # shown in admin lists


class Message(models.Model):
    """An in-app message (F38): shown with an unread badge in the header and as a pop-up
    in the page corner until read."""

    user = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="messages_received"
    )
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"))
    link = models.CharField(_("链接"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return self.title
