"""Programs as data (B1). A policy pack (one YAML file per city, ``policies/``) is loaded
into these tables by ``manage.py load_policy``. A program's definition is stored as a
version: an application keeps the version it was filed under, so changing a pack never
changes what an applicant already saw and signed."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Pack(models.Model):
    code = models.SlugField(_("政策包代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    source = models.CharField(_("来源文件"), max_length=255)
    sha256 = models.CharField(max_length=64)
    city = models.JSONField(_("城市设置"), default=dict)
    # TALENT (F46): categories A–F with their criteria, or null for a pack without them
    talent = models.JSONField(_("人才分类"), null=True, blank=True)
    # AGENCY (F57, F61): qualifications, service categories with their indicator trees
    agency = models.JSONField(_("人力资源服务机构分类分级"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    loaded_at = models.DateTimeField(_("加载时间"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("政策包")
        verbose_name_plural = _("政策包")

    def __str__(self):
        return f"{self.name} ({self.code})"


class Program(models.Model):
    class ApplicantKind(models.TextChoices):
        PERSON = "person", _("个人")
        EMPLOYER = "employer", _("单位")
        AGENCY = "agency", _("人力资源服务机构")

    pack = models.ForeignKey(Pack, on_delete=models.PROTECT, related_name="programs")
    code = models.SlugField(_("项目代码"), max_length=60, unique=True)
    name = models.CharField(_("项目名称"), max_length=100)
    category = models.CharField(_("类别代码"), max_length=40)
    category_name = models.CharField(_("类别"), max_length=60)
    applicant_kind = models.CharField(_("申请人类型"), max_length=10, choices=ApplicantKind.choices)
    order = models.PositiveIntegerField(default=0)
    active = models.BooleanField(_("启用"), default=True)
    current_version = models.ForeignKey(
        "ProgramVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["pack", "order", "code"]
        verbose_name = _("申报项目")
        verbose_name_plural = _("申报项目")

    def __str__(self):
        return self.name

    @property
    def definition(self) -> dict:
        return self.current_version.definition if self.current_version else {}


class ProgramVersion(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    definition = models.JSONField(_("定义"))
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["program", "-number"]
        verbose_name = _("项目版本")
        verbose_name_plural = _("项目版本")
        constraints = [
            models.UniqueConstraint(fields=["program", "number"], name="program_version_unique")
        ]

    def __str__(self):
        return f"{self.program.code} v{self.number}"
