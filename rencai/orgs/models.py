"""Regions, authorities, employers (and HR agencies), and staff memberships."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        DISTRICT = "district", _("区/县")

    code = models.CharField(_("行政区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self):
        return self.name

    def ancestors(self):
        node, chain = self.parent, []
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def full_name(self):
        return "".join(r.name for r in reversed([self, *self.ancestors()]))


class Authority(models.Model):
    class Kind(models.TextChoices):
        HR_BUREAU = "hr_bureau", _("人力资源和社会保障局")
        ORG_DEPARTMENT = "org_department", _("组织部")
        FINANCE_BUREAU = "finance_bureau", _("财政局")
        TALENT_OFFICE = "talent_office", _("人才办")
        EXPERT_CENTRE = "expert_centre", _("专家服务中心")
        PARK_OFFICE = "park_office", _("园区管理机构")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name=_("所在区划"), on_delete=models.PROTECT)

    class Meta:
        ordering = ["region__code", "kind"]
        verbose_name = _("主管部门")
        verbose_name_plural = _("主管部门")
        constraints = [
            models.UniqueConstraint(fields=["region", "kind", "name"], name="authority_unique_name")
        ]

    def __str__(self):
        return self.name


class Employer(models.Model):
    """An employer (用人单位) or HR agency. Registration creates it in ``pending``; the
    district HR bureau approves it before individuals can choose it (F02, F03)."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业")
        INSTITUTION = "institution", _("事业单位")
        DISPATCH = "dispatch", _("劳务派遣公司")
        HR_AGENCY = "hr_agency", _("人力资源服务机构")
        VIRTUAL = "virtual", _("县区虚拟单位")

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("审核通过")
        REJECTED = "rejected", _("审核不通过")

    name = models.CharField(_("单位名称"), max_length=100)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, null=True, blank=True)
    kind = models.CharField(_("单位类型"), max_length=20, choices=Kind.choices)
    district = models.ForeignKey(Region, verbose_name=_("所属区县"), on_delete=models.PROTECT)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    licence_number = models.CharField(_("人力资源服务许可证编号"), max_length=50, blank=True)
    qualifications = models.JSONField(
        _("资质情况"),
        default=list,
        blank=True,
        help_text=_("人力资源服务机构的资质代码，取自政策包的 agency.qualifications（F61）。"),
    )
    park = models.ForeignKey(
        "Authority",
        verbose_name=_("所在园区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        limit_choices_to={"kind": "park_office"},
        related_name="park_employers",
        help_text=_("市管园区内的企业：其申报先由园区人才业务主管部门初审（F43）。"),
    )
    status = models.CharField(
        _("审核状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    review_opinion = models.TextField(_("审核意见"), blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("注册时间"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=Q(credit_code__isnull=False),
                name="employer_unique_credit_code",
            ),
            models.CheckConstraint(
                condition=Q(kind="virtual") | Q(credit_code__isnull=False),
                name="employer_credit_code_required",
            ),
        ]
        indexes = [models.Index(fields=["status", "district"])]

    def __str__(self):
        return self.name

    @property
    def is_approved(self):
        return self.status == self.Status.APPROVED


class Membership(models.Model):
    """Gives a user a role at exactly one authority or one employer."""

    class Role(models.TextChoices):
        REVIEWER = "reviewer", _("审核员")
        AUTHORITY_ADMIN = "authority_admin", _("部门管理员")
        FINANCE_OFFICER = "finance_officer", _("财务经办")
        EMPLOYER_ADMIN = "employer_admin", _("单位管理员")
        EMPLOYER_REVIEWER = "employer_reviewer", _("单位审核人")

    AUTHORITY_ROLES = {Role.REVIEWER, Role.AUTHORITY_ADMIN, Role.FINANCE_OFFICER}
    EMPLOYER_ROLES = {Role.EMPLOYER_ADMIN, Role.EMPLOYER_REVIEWER}

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    authority = models.ForeignKey(Authority, null=True, blank=True, on_delete=models.CASCADE)
    employer = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.CASCADE)
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(authority__isnull=False, employer__isnull=True)
                    & Q(role__in=["reviewer", "authority_admin", "finance_officer"])
                )
                | (
                    Q(authority__isnull=True, employer__isnull=False)
                    & Q(role__in=["employer_admin", "employer_reviewer"])
                ),
                name="membership_one_organisation",
            ),
            models.UniqueConstraint(
                fields=["user", "authority", "employer", "role"], name="membership_unique"
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.authority or self.employer} · {self.get_role_display()}"

    @property
    def organisation(self):
        return self.authority or self.employer


class RegistrationChange(models.Model):
    """An organisation asks to change its registration details (注册信息变更, F61). The
    values in force stay until the district HR bureau approves; ``before`` holds them as
    they were at request time, ``after`` the proposed ones. Every request is kept."""

    class State(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("审核通过")
        REJECTED = "rejected", _("审核不通过")

    employer = models.ForeignKey(
        Employer,
        verbose_name=_("单位"),
        on_delete=models.PROTECT,
        related_name="registration_changes",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    before = models.JSONField(_("变更前"))
    after = models.JSONField(_("变更后"))
    state = models.CharField(
        _("审核状态"), max_length=10, choices=State.choices, default=State.PENDING
    )
    opinion = models.TextField(_("审核意见"), blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("注册信息变更")
        verbose_name_plural = _("注册信息变更")
        constraints = [
            models.UniqueConstraint(
                fields=["employer"],
                condition=Q(state="pending"),
                name="registration_change_one_pending",
            )
        ]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self):
        return f"{self.employer} {self.created_at:%Y-%m-%d} {self.get_state_display()}"

    @property
    def is_pending(self):
        return self.state == self.State.PENDING
