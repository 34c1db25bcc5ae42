"""A person's talent category (人才类型, F46, F48): granted by the final approval of a
classification application, valid for the pack's validity period. A change of
classification is a new application through the same review; the old category stays in
force until the new one is approved. A 容缺 gap left open past its deadline cancels it
(F47)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class TalentCategory(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("有效")
        SUPERSEDED = "superseded", _("已变更")
        CANCELLED = "cancelled", _("已取消")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="talent_categories"
    )
    level = models.CharField(_("人才类型代码"), max_length=40)
    level_name = models.CharField(_("人才类型"), max_length=100)
    # Higher is higher: A has the highest rank. Gates compare ranks (F49).
    rank = models.PositiveSmallIntegerField(_("等级"))
    criteria = models.JSONField(_("认定条件"), default=list)
    application = models.OneToOneField(
        "applications.Application",
        on_delete=models.PROTECT,
        related_name="talent_category",
        verbose_name=_("认定申请"),
    )
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("有效期至"))
    state = models.CharField(
        _("状态"), max_length=12, choices=State.choices, default=State.ACTIVE, db_index=True
    )
    ended_at = models.DateTimeField(_("失效时间"), null=True, blank=True)
    end_reason = models.CharField(_("失效原因"), max_length=300, blank=True)

    class Meta:
        ordering = ["person", "-id"]
        verbose_name = _("人才类型")
        verbose_name_plural = _("人才类型")
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=models.Q(state="active"),
                name="talent_category_one_active",
            )
        ]

    def __str__(self):
        return f"{self.person} {self.level_name}"
