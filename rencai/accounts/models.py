"""Users, SMS codes, login locks and records imported from an earlier system."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from rencai.fields import EncryptedCharField, EncryptedFieldsMixin
from rencai.identity import mask_id_number, mask_phone


class User(EncryptedFieldsMixin, AbstractUser):
    class Kind(models.TextChoices):
        PERSON = "person", _("个人")
        EMPLOYER = "employer", _("单位")
        AGENCY = "agency", _("人力资源服务机构")
        STAFF = "staff", _("工作人员")

    class IdType(models.TextChoices):
        RESIDENT_ID = "resident_id", _("居民身份证")
        HK_MACAU = "hk_macau", _("港澳居民居住证")
        TAIWAN = "taiwan", _("台湾居民居住证")
        PASSPORT = "passport", _("护照")
        FOREIGN_PR = "foreign_pr", _("外国人永久居留身份证")

    class Gender(models.TextChoices):
        MALE = "M", _("男")
        FEMALE = "F", _("女")

    class RegistrationStatus(models.TextChoices):
        PENDING = "pending", _("待单位审核")
        APPROVED = "approved", _("审核通过")
        REJECTED = "rejected", _("审核不通过")

    kind = models.CharField(_("用户类型"), max_length=10, choices=Kind.choices, default=Kind.STAFF)
    real_name = models.CharField(_("姓名"), max_length=50, blank=True)
    id_type = models.CharField(_("证件类型"), max_length=12, choices=IdType.choices, blank=True)
    # Encrypted at rest, looked up through a keyed hash (rencai/fields.py, issue 8).
    id_number = EncryptedCharField(
        _("证件号码"), max_length=30, null=True, blank=True, index_field="id_number_index"
    )
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    phone = EncryptedCharField(
        _("手机号码"), max_length=20, null=True, blank=True, index_field="phone_index"
    )
    employer = models.ForeignKey(
        "orgs.Employer",
        verbose_name=_("所在单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="people",
    )
    registration_status = models.CharField(
        _("注册审核状态"),
        max_length=10,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.APPROVED,
    )
    registration_opinion = models.TextField(_("审核意见"), blank=True)
    registration_reviewed_at = models.DateTimeField(null=True, blank=True)
    notice_accepted_at = models.DateTimeField(_("同意用户须知时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("注销时间"), null=True, blank=True)
    # Mixed into the session hash: raising it ends every session of the user at their
    # next request (lockout, closure), with no scan of the session table.
    session_epoch = models.PositiveIntegerField(default=0, editable=False)
    # The blind indexes of the encrypted fields above (declared after them: save fills
    # them from those fields' pre_save).
    id_number_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    phone_index = models.CharField(max_length=64, null=True, blank=True, editable=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(
                fields=["id_type", "id_number_index"],
                condition=Q(id_number_index__isnull=False, closed_at__isnull=True),
                name="user_unique_open_id_number",
            ),
            models.UniqueConstraint(
                fields=["phone_index"],
                condition=Q(phone_index__isnull=False, closed_at__isnull=True),
                name="user_unique_open_phone",
            ),
        ]
        indexes = [
            models.Index(fields=["employer", "registration_status"]),
            models.Index(fields=["id_number_index"], name="user_id_number_index"),
            models.Index(fields=["phone_index"], name="user_phone_index"),
        ]

    def __str__(self):
        return self.real_name or self.username

    @property
    def display_name(self):
        return self.real_name or self.username

    @property
    def masked_id_number(self):
        return mask_id_number(self.id_number or "")

    @property
    def masked_phone(self):
        return mask_phone(self.phone or "")

    @property
    def is_person(self):
        return self.kind == self.Kind.PERSON

    @property
    def is_staff_kind(self):
        return self.kind == self.Kind.STAFF

    @property
    def is_privileged(self) -> bool:
        """Government staff and administrators: the stricter password rule, the second
        factor and the shorter idle timeout apply (issue 8)."""
        return self.kind == self.Kind.STAFF or self.is_staff or self.is_superuser

    def _get_session_auth_hash(self, secret=None):
        # Django's hash is an HMAC of the password hash; the epoch joins it once raised,
        # so the sessions of users whose epoch is still 0 stay valid across the upgrade.
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        value = self.password if not self.session_epoch else f"{self.password}:{self.session_epoch}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    @property
    def is_organisation_account(self):
        return self.kind in (self.Kind.EMPLOYER, self.Kind.AGENCY)

    def own_employer(self):
        """For an employer or agency account: the organisation it administers."""
        from rencai.review.access import memberships_of

        membership = next((m for m in memberships_of(self) if m.role == "employer_admin"), None)
        return membership.employer if membership else None

    @property
    def has_roles(self) -> bool:
        """Has a role at an authority or employer: the 工作台 link shows."""
        from rencai.review.access import memberships_of

        return bool(memberships_of(self))

    @property
    def registration_approved(self) -> bool:
        if self.is_person:
            return self.registration_status == self.RegistrationStatus.APPROVED
        if self.is_organisation_account:
            # the administrator's organisation, or for a reviewer account (单位审核人, made
            # by the administrator of an approved organisation) the one it reviews for
            from rencai.review.access import memberships_of

            return any(
                m.employer is not None and m.employer.is_approved for m in memberships_of(self)
            )
        return True


class SmsCode(models.Model):
    class Purpose(models.TextChoices):
        REGISTER = "register", _("注册")
        LOGIN = "login", _("登录")
        CHANGE_PHONE = "change_phone", _("更换手机号")

    phone = EncryptedCharField(max_length=20, index_field="phone_index")
    phone_index = models.CharField(max_length=64, null=True, editable=False)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["phone_index", "created_at"])]
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")

    def __str__(self):
        return f"{mask_phone(self.phone)} {self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class LoginLock(models.Model):
    """Consecutive password failures per account (or per unknown identifier, so that a
    lock looks the same whether or not the account exists)."""

    key = models.CharField(max_length=160, unique=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE)
    failures = models.PositiveIntegerField(default=0)
    locked_at = models.DateTimeField(_("锁定时间"), null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("登录锁定")
        verbose_name_plural = _("登录锁定")

    def __str__(self):
        return self.key


class LegacyRecord(models.Model):
    """A record from an earlier system, matched to an account by ID number (F11)."""

    id_number = EncryptedCharField(_("证件号码"), max_length=30, index_field="id_number_index")
    id_number_index = models.CharField(max_length=64, null=True, editable=False, db_index=True)
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    source = models.CharField(_("来源"), max_length=100, blank=True)
    data = models.JSONField(_("内容"), default=dict)
    imported_at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="legacy_records"
    )
    linked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("历史记录")
        verbose_name_plural = _("历史记录")

    def __str__(self):
        return f"{self.name} {self.source}"


class RateCounter(models.Model):
    """Requests of one kind from one client address in one fixed window (issue 8): the
    per-address limits of login, SMS codes and registration, counted in the database so
    that every server process sees the same count."""

    key = models.CharField(max_length=120)
    window_start = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("访问频率计数")
        verbose_name_plural = _("访问频率计数")
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="ratecounter_one_window")
        ]

    def __str__(self):
        return f"{self.key} {self.window_start:%Y-%m-%d %H:%M} {self.count}"


class StaffTotp(models.Model):
    """The second factor of a staff or administrator account (TOTP, RFC 6238). The secret
    is stored encrypted and never shown after enrolment; recovery codes only as hashes."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp")
    secret_encrypted = models.CharField(max_length=200)
    confirmed_at = models.DateTimeField(_("启用时间"))
    last_step = models.BigIntegerField(default=0)
    recovery_hashes = models.JSONField(default=list)

    class Meta:
        verbose_name = _("动态口令")
        verbose_name_plural = _("动态口令")

    def __str__(self):
        return str(self.user)

    @property
    def recovery_left(self) -> int:
        return len(self.recovery_hashes)
