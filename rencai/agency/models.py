"""An HR-service agency's grades (F59) and the reviewers' score adjustments (F58).

A grading application is an engine application (``grading: rating`` or ``keep``): its
data holds the year, the service category, the kind and the indicator answers. The final
approval grants an ``AgencyGrade``; a later grade in the same category supersedes it."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class GradingKind(models.TextChoices):
    RATING = "rating", _("评定")
    UPGRADE = "upgrade", _("升级")
    KEEP = "keep", _("保级")


class AgencyGrade(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("有效")
        SUPERSEDED = "superseded", _("已被新评定取代")

    agency = models.ForeignKey(
        "orgs.Employer", on_delete=models.PROTECT, related_name="grades", verbose_name=_("机构")
    )
    service_category = models.CharField(_("申报类别代码"), max_length=60)
    category_name = models.CharField(_("申报类别"), max_length=100)
    grade = models.CharField(_("评定等级"), max_length=10)
    grade_name = models.CharField(_("等级名称"), max_length=60)
    rank = models.PositiveSmallIntegerField(_("等级序位"))
    score = models.DecimalField(_("得分"), max_digits=8, decimal_places=2)
    year = models.PositiveSmallIntegerField(_("申报年度"))
    kind = models.CharField(_("分类"), max_length=10, choices=GradingKind.choices)
    application = models.OneToOneField(
        "applications.Application",
        on_delete=models.PROTECT,
        related_name="agency_grade",
        verbose_name=_("申报"),
    )
    reported_at = models.DateTimeField(_("申报时间"))
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("有效期至"))
    state = models.CharField(
        _("状态"), max_length=12, choices=State.choices, default=State.ACTIVE, db_index=True
    )
    expiry_notified_at = models.DateTimeField(_("到期提醒时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_from", "-id"]
        verbose_name = _("评定结果")
        verbose_name_plural = _("评定结果")
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "service_category"],
                condition=models.Q(state="active"),
                name="agency_grade_one_active_per_category",
            )
        ]
        indexes = [models.Index(fields=["state", "valid_until"])]

    def __str__(self):
        return f"{self.agency} {self.category_name} {self.grade}"


class ScoreAdjustment(models.Model):
    """A reviewer's score for one indicator instead of the computed one, with the reason.
    The latest adjustment of an indicator counts; earlier ones stay as history."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="score_adjustments"
    )
    indicator = models.CharField(_("指标"), max_length=60)
    computed = models.DecimalField(_("系统计分"), max_digits=8, decimal_places=2)
    points = models.DecimalField(_("调整后得分"), max_digits=8, decimal_places=2)
    reason = models.CharField(_("调整理由"), max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    authority = models.ForeignKey(
        "orgs.Authority", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("调整时间"), auto_now_add=True)

    class Meta:
        ordering = ["application", "indicator", "-id"]
        verbose_name = _("指标得分调整")
        verbose_name_plural = _("指标得分调整")

    def __str__(self):
        return f"{self.application_id} {self.indicator} {self.points}"
