"""The exception list (异常名单, F55): a person who made a false declaration is barred from
registering and applying for a period (one year by default). Entries are never deleted;
an entry lifted early keeps who lifted it and why."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from rencai.fields import EncryptedCharField
from rencai.identity import mask_id_number


class ExceptionEntry(models.Model):
    class Source(models.TextChoices):
        FALSE_DECLARATION = "false_declaration", _("虚假申报")
        FORGED_MATERIALS = "forged_materials", _("伪造材料")
        MISSED_DEADLINE = "missed_deadline", _("容缺资料逾期未补")
        OTHER = "other", _("其他")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exception_entries",
    )
    # Copied from the account when the entry is made: a closed account's holder who registers
    # again under the same ID number is still barred.
    id_type = models.CharField(_("证件类型"), max_length=12, blank=True)
    id_number = EncryptedCharField(
        _("证件号码"), max_length=30, blank=True, index_field="id_number_index"
    )
    id_number_index = models.CharField(max_length=64, null=True, editable=False, db_index=True)
    reason = models.TextField(_("列入原因"))
    source = models.CharField(
        _("类型"), max_length=20, choices=Source.choices, default=Source.FALSE_DECLARATION
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("截止日期"), help_text=_("当天起不再限制。"))
    lifted_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("解除人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lift_reason = models.TextField(_("解除原因"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("列入人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("列入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("异常名单")
        verbose_name_plural = _("异常名单")
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["person", "ends_on"], name="integrity_person_ends")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="integrity_ends_after_start"
            )
        ]

    def __str__(self):
        who = self.person or self.masked_id_number
        return f"{who} · {self.starts_on:%Y-%m-%d}–{self.ends_on:%Y-%m-%d}"

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number or "")

    def is_active(self, today) -> bool:
        return self.lifted_at is None and self.starts_on <= today < self.ends_on
