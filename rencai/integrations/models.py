"""Copies of other agencies' data (ARCHITECTURE.md "Outside systems"): the social-insurance
register and pension contributions (F21, F22) and the education ministry's certificates (F23).
An administrator imports them from CSV/XLSX (``rencai.integrations.services.import_file``);
the local adapters read them. Nobody edits them by hand: a correction is a new import."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rencai.fields import EncryptedCharField
from rencai.identity import mask_id_number
from rencai.profiles.models import Education


class ImportBatch(models.Model):
    class Kind(models.TextChoices):
        INSURED = "insured", _("参保人员")
        CONTRIBUTIONS = "contributions", _("养老保险缴费记录")
        CERTIFICATES = "certificates", _("学历学位证书")

    kind = models.CharField(_("导入内容"), max_length=20, choices=Kind.choices)
    file_name = models.CharField(_("文件名"), max_length=255)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    imported_at = models.DateTimeField(_("导入时间"), auto_now_add=True)
    accepted_count = models.PositiveIntegerField(_("导入行数"), default=0)
    replaced_count = models.PositiveIntegerField(
        _("其中替换已有记录"), default=0, help_text=_("导入的行中与已有记录相同而被替换的行数")
    )
    rejected_count = models.PositiveIntegerField(_("拒绝行数"), default=0)
    # [{"line": 7, "reason": "..."}, ...] in line order
    rejected_rows = models.JSONField(_("被拒绝的行"), default=list, blank=True)

    class Meta:
        ordering = ["-imported_at", "-id"]
        verbose_name = _("外部数据导入批次")
        verbose_name_plural = _("外部数据导入批次")

    def __str__(self):
        return f"{self.get_kind_display()} {self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"


class InsuredPerson(models.Model):
    class Status(models.TextChoices):
        NORMAL = "normal", _("正常参保")
        SUSPENDED = "suspended", _("暂停")
        TERMINATED = "terminated", _("终止")

    # Encrypted at rest; looked up and kept unique through its keyed hash (issue 8).
    id_number = EncryptedCharField(_("身份证号码"), max_length=18, index_field="id_number_index")
    name = models.CharField(_("姓名"), max_length=50)
    status = models.CharField(_("参保状态"), max_length=12, choices=Status.choices)
    bank_name = models.CharField(_("社保卡开户银行"), max_length=100, blank=True)
    bank_account = EncryptedCharField(_("社保卡金融账号"), max_length=32, blank=True)
    imported_at = models.DateTimeField(_("导入时间"))
    batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("导入批次"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    id_number_index = models.CharField(max_length=64, unique=True, null=True, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("参保人员")
        verbose_name_plural = _("参保人员")

    def __str__(self):
        return f"{self.name} {mask_id_number(self.id_number)}"


class PensionContribution(models.Model):
    id_number = EncryptedCharField(_("身份证号码"), max_length=18, index_field="id_number_index")
    month = models.DateField(_("缴费年月"), help_text=_("当月1日"))
    employer_name = models.CharField(_("缴费单位"), max_length=200, blank=True)
    amount = models.DecimalField(_("缴费金额（元）"), max_digits=12, decimal_places=2)
    imported_at = models.DateTimeField(_("导入时间"))
    batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("导入批次"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    id_number_index = models.CharField(max_length=64, null=True, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("养老保险缴费记录")
        verbose_name_plural = _("养老保险缴费记录")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_index", "month"], name="pension_contribution_one_per_month"
            )
        ]

    def __str__(self):
        return f"{mask_id_number(self.id_number)} {self.month:%Y-%m} {self.amount}"


class EducationCertificate(models.Model):
    class Kind(models.TextChoices):
        DIPLOMA = "diploma", _("学历证书")
        DEGREE = "degree", _("学位证书")

    number = models.CharField(_("证书编号"), max_length=40, unique=True)
    kind = models.CharField(_("证书类型"), max_length=10, choices=Kind.choices)
    holder_name = models.CharField(_("持证人姓名"), max_length=50)
    holder_id_number = EncryptedCharField(_("持证人身份证号码"), max_length=18, blank=True)
    school_name = models.CharField(_("学校名称"), max_length=100)
    level = models.CharField(_("学历层次"), max_length=10, choices=Education.Level.choices)
    awarded_on = models.DateField(_("发证日期"))
    imported_at = models.DateTimeField(_("导入时间"))
    batch = models.ForeignKey(
        ImportBatch,
        verbose_name=_("导入批次"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["number"]
        verbose_name = _("学历学位证书")
        verbose_name_plural = _("学历学位证书")

    def __str__(self):
        return f"{self.get_kind_display()} {self.number} {self.holder_name}"
