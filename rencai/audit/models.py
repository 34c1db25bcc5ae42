"""The append-only, hash-chained audit log (B3). Each row's hash covers its own fields and
the previous row's hash, so editing or deleting any row breaks the chain from there on.
On PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE."""

import hashlib
import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS = "0" * 64


class AuditEntry(models.Model):
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_repr = models.CharField(_("操作人"), max_length=100, blank=True)
    role = models.CharField(_("角色"), max_length=100, blank=True)
    action = models.CharField(_("操作"), max_length=60)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=40, blank=True)
    summary = models.JSONField(_("变更摘要"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        # Plain indexes and a unique constraint: actions and hashes are matched whole, so
        # no varchar_pattern_ops copies (db_index / unique=True would add them on PostgreSQL).
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["action"], name="audit_action"),
        ]
        constraints = [models.UniqueConstraint(fields=["hash"], name="audit_unique_hash")]

    def __str__(self):
        return f"#{self.pk} {self.action} {self.object_type}:{self.object_id}"

    def payload(self) -> str:
        return json.dumps(
            {
                "at": self.at.isoformat(timespec="microseconds"),
                "actor": self.actor_id,
                "actor_repr": self.actor_repr,
                "role": self.role,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "summary": self.summary,
                "ip": self.ip,
            },
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + self.payload()).encode()).hexdigest()
