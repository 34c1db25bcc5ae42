"""SMS verification codes: 6 digits, valid 5 minutes, single use; at most one per phone
per 60 seconds and 10 per phone per day (F06, F07, F09)."""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rencai.accounts.models import SmsCode, User
from rencai.errors import ServiceError
from rencai.notifications.sms import sms_enqueue


def _hash(phone: str, purpose: str, code: str) -> str:
    msg = f"{phone}:{purpose}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), msg, hashlib.sha256).hexdigest()


def _local_midnight(now: datetime.datetime) -> datetime.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _phone_in_use(phone: str) -> bool:
    return User.objects.filter(phone=phone, closed_at__isnull=True).exists()


def sms_code_send(*, phone: str, purpose: str, user=None, request=None) -> None:
    """Create and send a code. The answer is the same whether or not the phone belongs to
    an account, so that nobody learns which phones are registered. A code for changing
    the phone needs a logged-in ``user``. Every request counts towards the per-address
    limit (issue 8), whether or not a code goes out."""
    from rencai.accounts.ratelimit import rate_limit

    if purpose not in SmsCode.Purpose.values:
        raise ServiceError(_("验证码用途无效。"), field="purpose")
    if purpose == SmsCode.Purpose.CHANGE_PHONE and not getattr(user, "is_authenticated", False):
        raise ServiceError(_("请先登录。"), field="purpose", code="login_required")
    rate_limit("sms", request)
    _send(phone=phone, purpose=purpose)


@transaction.atomic
def _send(*, phone: str, purpose: str) -> None:
    now = timezone.now()
    # Serialise senders for this phone: on PostgreSQL lock its earlier rows; on SQLite the
    # IMMEDIATE transaction holds the write lock already.
    recent = list(
        SmsCode.objects.select_for_update()
        .filter(phone=phone, created_at__gte=_local_midnight(now))
        .order_by("-created_at")
        .values_list("created_at", flat=True)
    )
    if recent and (now - recent[0]).total_seconds() < settings.SMS_CODE_INTERVAL_SECONDS:
        wait = settings.SMS_CODE_INTERVAL_SECONDS - int((now - recent[0]).total_seconds())
        raise ServiceError(
            ngettext(
                "验证码发送过于频繁，请%(s)d秒后再试。",
                "验证码发送过于频繁，请%(s)d秒后再试。",
                max(wait, 1),
            )
            % {"s": max(wait, 1)},
            field="phone",
            code="too_soon",
        )
    if len(recent) >= settings.SMS_CODE_DAILY_LIMIT:
        raise ServiceError(
            _("该手机号今日获取验证码已达%(n)d次上限，请明天再试。")
            % {"n": settings.SMS_CODE_DAILY_LIMIT},
            field="phone",
            code="daily_limit",
        )
    code = f"{secrets.randbelow(10**6):06d}"
    SmsCode.objects.create(
        phone=phone,
        purpose=purpose,
        code_hash=_hash(phone, purpose, code),
        created_at=now,
        expires_at=now + datetime.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
    )
    minutes = settings.SMS_CODE_TTL_SECONDS // 60
    in_use = _phone_in_use(phone)
    if purpose == SmsCode.Purpose.LOGIN and not in_use:
        return  # nothing to log in to; the requester sees the same answer
    if purpose in (SmsCode.Purpose.REGISTER, SmsCode.Purpose.CHANGE_PHONE) and in_use:
        sms_enqueue(
            phone=phone,
            purpose=purpose,
            body=_(
                "【人才平台】有人尝试用本手机号注册或绑定账号，但该号码已注册。如非本人操作请忽略。"
            ),
        )
        return
    sms_enqueue(
        phone=phone,
        purpose=purpose,
        body=_("【人才平台】您的验证码是%(code)s，%(m)d分钟内有效，请勿告诉他人。")
        % {"code": code, "m": minutes},
    )


def sms_code_check(*, phone: str, purpose: str, code: str, field: str = "sms_code") -> int:
    """Check a code without using it up; return its id for ``sms_code_use``. A wrong code
    is counted (in its own transaction) and five wrong tries void the code. Call this
    before the service's transaction, and ``sms_code_use`` inside it, so that a code is
    used up only when the change it confirms is stored."""
    code = (code or "").strip()
    if not code:
        raise ServiceError(_("请填写短信验证码。"), field=field, code="required")
    latest = (
        SmsCode.objects.filter(phone=phone, purpose=purpose).order_by("-created_at", "-id").first()
    )
    if latest is None:
        raise ServiceError(_("请先获取短信验证码。"), field=field, code="none")
    now = timezone.now()
    if latest.used_at is not None:
        raise ServiceError(_("该验证码已使用或已失效，请重新获取。"), field=field, code="used")
    if latest.expires_at <= now:
        raise ServiceError(
            _("验证码已过期（有效期5分钟），请重新获取。"), field=field, code="expired"
        )
    if not hmac.compare_digest(latest.code_hash, _hash(phone, purpose, code)):
        attempts = latest.attempts + 1
        voided = attempts >= settings.SMS_CODE_MAX_ATTEMPTS
        with transaction.atomic():
            SmsCode.objects.filter(pk=latest.pk).update(
                attempts=attempts, used_at=now if voided else None
            )
        if voided:
            raise ServiceError(
                _("验证码错误次数过多，已失效，请重新获取。"), field=field, code="too_many"
            )
        raise ServiceError(_("短信验证码不正确。"), field=field, code="wrong")
    return latest.pk


def sms_code_use(code_id: int, *, field: str = "sms_code") -> None:
    """Use up a checked code. A conditional update: of two requests racing with the same
    code, exactly one wins."""
    used = SmsCode.objects.filter(pk=code_id, used_at__isnull=True).update(used_at=timezone.now())
    if used != 1:
        raise ServiceError(_("该验证码已使用或已失效，请重新获取。"), field=field, code="used")
