"""Every write of the accounts context: one keyword-only function per use case, one
transaction each, a ServiceError with a Chinese message for every refusal, and an audit
row for every change (F01–F12)."""

import datetime
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rencai.accounts import totp
from rencai.accounts.closing import closure_blockers, erase_personal_data
from rencai.accounts.models import LegacyRecord, LoginLock, SmsCode, StaffTotp, User
from rencai.accounts.ratelimit import rate_limit
from rencai.accounts.sms_codes import sms_code_check, sms_code_use
from rencai.agency.catalog import clean_qualifications
from rencai.audit.services import audit_record
from rencai.city import city_setting
from rencai.errors import ServiceError
from rencai.identity import clean_login_name
from rencai.orgs.models import Employer, Membership, Region

# A hash to spend time on when the account does not exist, so that the answer takes about
# as long as a wrong password for a real account.
_DUMMY_PASSWORD_HASH = None


def _dummy_hash():
    global _DUMMY_PASSWORD_HASH
    if _DUMMY_PASSWORD_HASH is None:
        _DUMMY_PASSWORD_HASH = make_password("rencai-dummy-password")
    return _DUMMY_PASSWORD_HASH


def _password_errors(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field="password", code="weak") from None


# --------------------------------------------------------------------------- registration


@dataclass
class PersonRegistration:
    id_type: str
    id_number: str
    real_name: str
    phone: str
    sms_code: str
    password: str
    gender: str = ""
    birth_date: datetime.date | None = None
    login_name: str = ""
    email: str = ""
    employer: Employer | None = None
    accepted_notice: bool = False


def _check_employer_choosable(employer: Employer | None) -> None:
    if employer is None:
        if city_setting("person_registration_review"):
            raise ServiceError(_("请选择所在单位。"), field="employer")
        return
    if not employer.is_approved or employer.kind == Employer.Kind.VIRTUAL:
        raise ServiceError(_("该单位尚未通过所属区县人社部门审核，暂不能选择。"), field="employer")


def _check_login_name_format(login_name: str) -> None:
    try:
        clean_login_name(login_name)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field="login_name") from None


def generated_login_name() -> str:
    """The login name of a person who chose none: random, never the ID number (which is
    encrypted at rest, issue 8, and would otherwise sit in plain text in the login name
    column). Such a person logs in by ID number, phone (SMS) or this name."""
    return "p" + secrets.token_hex(6)


def _check_login_name_free(login_name: str) -> None:
    if login_name and User.objects.filter(username__iexact=login_name).exists():
        raise ServiceError(_("该登录名已被使用，请换一个。"), field="login_name", code="duplicate")


def _after_code(code_id: int, check) -> None:
    """Run a check that can tell whether an identifier is registered, only once the SMS
    code proved the phone (issue 8, no enumeration): the phone's owner alone learns the
    answer, and a refusal uses the code up, so each probe costs an SMS code (at most
    ``SMS_CODE_DAILY_LIMIT`` a day per phone, and per-address limits on top)."""
    try:
        check()
    except ServiceError:
        with transaction.atomic():
            SmsCode.objects.filter(pk=code_id, used_at__isnull=True).update(used_at=timezone.now())
        raise


def _check_unique_person(data: PersonRegistration) -> None:
    _check_login_name_free(data.login_name)
    open_users = User.objects.filter(closed_at__isnull=True)
    if open_users.filter(id_type=data.id_type, id_number=data.id_number).exists():
        raise ServiceError(
            _("该证件号码已注册。如忘记密码，请使用短信验证码登录或联系管理员。"),
            field="id_number",
            code="duplicate",
        )
    if open_users.filter(phone=data.phone).exists():
        raise ServiceError(_("该手机号码已被其他账号使用。"), field="phone", code="duplicate")


def person_register(*, data: PersonRegistration, request=None) -> User:
    """Register an individual (F01, F04, F07, F11, F12). Whether the ID number, phone or
    login name is taken is told only after the SMS code is checked (issue 8)."""
    rate_limit("register", request)
    if not data.accepted_notice:
        raise ServiceError(_("请阅读并同意用户须知和个人申请承诺。"), field="accept_notice")
    _check_employer_choosable(data.employer)
    _check_login_name_format(data.login_name)
    _password_errors(
        data.password,
        User(
            kind=User.Kind.PERSON,
            username=data.login_name or data.id_number,
            real_name=data.real_name,
        ),
    )
    code_id = sms_code_check(phone=data.phone, purpose=SmsCode.Purpose.REGISTER, code=data.sms_code)
    _after_code(code_id, lambda: _check_unique_person(data))
    review = city_setting("person_registration_review")
    try:
        with transaction.atomic():
            if data.employer is not None:
                # The employer may have been rejected a moment ago: read it again, locked.
                employer = Employer.objects.select_for_update().get(pk=data.employer.pk)
                _check_employer_choosable(employer)
            sms_code_use(code_id)
            now = timezone.now()
            user = User(
                kind=User.Kind.PERSON,
                username=data.login_name or generated_login_name(),
                real_name=data.real_name,
                id_type=data.id_type,
                id_number=data.id_number,
                gender=data.gender,
                birth_date=data.birth_date,
                phone=data.phone,
                email=data.email,
                employer=data.employer,
                registration_status=(
                    User.RegistrationStatus.PENDING if review else User.RegistrationStatus.APPROVED
                ),
                notice_accepted_at=now,
            )
            user.set_password(data.password)
            user.save()
            linked = LegacyRecord.objects.filter(
                id_number=data.id_number, user__isnull=True
            ).update(user=user, linked_at=now)
            audit_record(
                action="person.register",
                actor=user,
                obj=user,
                after={
                    "id_number": user.masked_id_number,
                    "employer": data.employer.pk if data.employer else None,
                    "status": user.registration_status,
                    "legacy_records_linked": linked,
                },
                request=request,
            )
    except IntegrityError:
        # Two registrations with the same number raced; the database let one through.
        raise ServiceError(
            _("该证件号码或手机号码已注册。"), field="id_number", code="duplicate"
        ) from None
    return user


@dataclass
class EmployerRegistration:
    name: str
    credit_code: str
    kind: str
    district: Region
    contact_name: str
    phone: str
    sms_code: str
    password: str
    licence_number: str = ""
    login_name: str = ""
    email: str = ""
    accepted_notice: bool = False
    qualifications: list[str] = field(default_factory=list)


def employer_register(*, data: EmployerRegistration, request=None) -> User:
    """Register an employer or HR agency with its administrator account (F02, F03, F61).
    Whether the credit code, phone or login name is taken is told only after the SMS code
    is checked (issue 8)."""
    rate_limit("register", request)
    if not data.accepted_notice:
        raise ServiceError(_("请阅读并同意用户须知。"), field="accept_notice")
    if data.kind not in {
        Employer.Kind.ENTERPRISE,
        Employer.Kind.INSTITUTION,
        Employer.Kind.DISPATCH,
        Employer.Kind.HR_AGENCY,
    }:
        raise ServiceError(_("请选择单位类型。"), field="kind")
    agency = data.kind == Employer.Kind.HR_AGENCY
    if agency and not data.licence_number.strip():
        raise ServiceError(_("人力资源服务机构请填写许可证编号。"), field="licence_number")
    qualifications = clean_qualifications(data.qualifications) if agency else []
    if data.district.level != Region.Level.DISTRICT:
        raise ServiceError(_("请选择单位所属区县。"), field="district")
    _check_login_name_format(data.login_name)
    _password_errors(
        data.password,
        User(kind=User.Kind.EMPLOYER, username=data.login_name or data.credit_code),
    )
    code_id = sms_code_check(phone=data.phone, purpose=SmsCode.Purpose.REGISTER, code=data.sms_code)
    _after_code(code_id, lambda: _check_unique_employer(data))
    review = city_setting("employer_registration_review")
    try:
        with transaction.atomic():
            sms_code_use(code_id)
            now = timezone.now()
            employer = Employer.objects.create(
                name=data.name,
                credit_code=data.credit_code,
                kind=data.kind,
                district=data.district,
                contact_name=data.contact_name,
                phone=data.phone,
                licence_number=data.licence_number.strip(),
                qualifications=qualifications,
                status=Employer.Status.PENDING if review else Employer.Status.APPROVED,
            )
            user = User(
                kind=User.Kind.AGENCY
                if data.kind == Employer.Kind.HR_AGENCY
                else User.Kind.EMPLOYER,
                username=data.login_name or data.credit_code,
                real_name=data.contact_name,
                phone=data.phone,
                email=data.email,
                notice_accepted_at=now,
            )
            user.set_password(data.password)
            user.save()
            Membership.objects.create(
                user=user, employer=employer, role=Membership.Role.EMPLOYER_ADMIN
            )
            audit_record(
                action="employer.register",
                actor=user,
                obj=employer,
                after={
                    "name": employer.name,
                    "credit_code": employer.credit_code,
                    "kind": employer.kind,
                    "district": data.district.code,
                    "qualifications": qualifications,
                    "status": employer.status,
                },
                request=request,
            )
    except IntegrityError:
        raise ServiceError(
            _("该统一社会信用代码或手机号码已注册。"), field="credit_code", code="duplicate"
        ) from None
    return user


def _check_unique_employer(data: EmployerRegistration) -> None:
    if Employer.objects.filter(credit_code=data.credit_code).exists():
        raise ServiceError(
            _("该统一社会信用代码已注册。如忘记密码，请使用短信验证码登录或联系管理员。"),
            field="credit_code",
            code="duplicate",
        )
    if User.objects.filter(phone=data.phone, closed_at__isnull=True).exists():
        raise ServiceError(_("该手机号码已被其他账号使用。"), field="phone", code="duplicate")
    _check_login_name_free(data.login_name)


def person_registration_resubmit(
    *, user: User, employer: Employer, real_name: str, request=None
) -> User:
    """A person whose registration the employer rejected corrects it and submits again (F04)."""
    if user.registration_status != User.RegistrationStatus.REJECTED:
        raise ServiceError(_("只有审核不通过的注册才能重新提交。"), code="state")
    _check_employer_choosable(employer)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.registration_status != User.RegistrationStatus.REJECTED:
            raise ServiceError(_("只有审核不通过的注册才能重新提交。"), code="state")
        before = {"employer": locked.employer_id, "real_name": locked.real_name}
        locked.employer = employer
        locked.real_name = real_name
        locked.registration_status = User.RegistrationStatus.PENDING
        locked.save(update_fields=["employer", "real_name", "registration_status"])
        audit_record(
            action="person.registration_resubmit",
            actor=locked,
            obj=locked,
            before=before,
            after={"employer": employer.pk, "real_name": real_name},
            request=request,
        )
    return locked


# --------------------------------------------------------------------------- reviews


def person_registration_review(
    *, actor: User, person_id: int, approve: bool, opinion: str, request=None
) -> User:
    """The chosen employer approves or rejects a person's registration (F04)."""
    from rencai.review.access import employer_roles_of

    opinion = (opinion or "").strip()
    if not approve and not opinion:
        raise ServiceError(_("审核不通过时请填写审核意见，申请人将看到这段意见。"), field="opinion")
    with transaction.atomic():
        person = (
            User.objects.select_for_update().filter(pk=person_id, kind=User.Kind.PERSON).first()
        )
        employers = employer_roles_of(actor)
        if person is None or person.employer_id not in employers:
            raise ServiceError(_("未找到该记录。"), code="not_found")
        if person.registration_status != User.RegistrationStatus.PENDING:
            raise ServiceError(
                _("该注册已由他人处理，当前状态：%(s)s。")
                % {"s": person.get_registration_status_display()},
                code="state",
            )
        person.registration_status = (
            User.RegistrationStatus.APPROVED if approve else User.RegistrationStatus.REJECTED
        )
        person.registration_opinion = opinion
        person.registration_reviewed_at = timezone.now()
        person.save(
            update_fields=[
                "registration_status",
                "registration_opinion",
                "registration_reviewed_at",
            ]
        )
        audit_record(
            action="person.registration_review",
            actor=actor,
            role="employer",
            obj=person,
            before={"status": "pending"},
            after={"status": person.registration_status, "opinion": opinion},
            request=request,
        )
    return person


def employer_registration_review(
    *, actor: User, employer_id: int, approve: bool, opinion: str, request=None
) -> Employer:
    """The district HR bureau approves or rejects an employer's registration (F03)."""
    from rencai.review.access import reviewable_districts_of

    opinion = (opinion or "").strip()
    if not approve and not opinion:
        raise ServiceError(_("审核不通过时请填写审核意见，单位将看到这段意见。"), field="opinion")
    with transaction.atomic():
        employer = Employer.objects.select_for_update().filter(pk=employer_id).first()
        if employer is None or employer.district_id not in reviewable_districts_of(actor):
            raise ServiceError(_("未找到该记录。"), code="not_found")
        if employer.status != Employer.Status.PENDING:
            raise ServiceError(
                _("该单位已由他人审核，当前状态：%(s)s。") % {"s": employer.get_status_display()},
                code="state",
            )
        employer.status = Employer.Status.APPROVED if approve else Employer.Status.REJECTED
        employer.review_opinion = opinion
        employer.reviewed_at = timezone.now()
        employer.reviewed_by = actor
        employer.save(update_fields=["status", "review_opinion", "reviewed_at", "reviewed_by"])
        audit_record(
            action="employer.registration_review",
            actor=actor,
            role="hr_bureau",
            obj=employer,
            before={"status": "pending"},
            after={"status": employer.status, "opinion": opinion},
            request=request,
        )
    return employer


def employer_registration_resubmit(
    *, actor: User, name: str, contact_name: str, request=None
) -> Employer:
    """A rejected employer corrects its data and asks for review again."""
    employer = actor.own_employer()
    if employer is None or employer.status != Employer.Status.REJECTED:
        raise ServiceError(_("只有审核不通过的单位注册才能重新提交。"), code="state")
    with transaction.atomic():
        employer = Employer.objects.select_for_update().get(pk=employer.pk)
        if employer.status != Employer.Status.REJECTED:
            raise ServiceError(_("只有审核不通过的单位注册才能重新提交。"), code="state")
        before = {"name": employer.name, "contact_name": employer.contact_name}
        employer.name, employer.contact_name = name, contact_name
        employer.status = Employer.Status.PENDING
        employer.save(update_fields=["name", "contact_name", "status"])
        audit_record(
            action="employer.registration_resubmit",
            actor=actor,
            obj=employer,
            before=before,
            after={"name": name, "contact_name": contact_name},
            request=request,
        )
    return employer


# --------------------------------------------------------------------------- login


def find_user_by_identifier(identifier: str) -> User | None:
    """ID number, credit code or login name (F05). Closed accounts never match."""
    ident = (identifier or "").strip()
    if not ident:
        return None
    open_users = User.objects.filter(closed_at__isnull=True, is_active=True)
    user = open_users.filter(username__iexact=ident).first()
    if user:
        return user
    upper = ident.upper()
    user = open_users.filter(id_number=upper).first()
    if user:
        return user
    membership = (
        Membership.objects.filter(
            employer__credit_code=upper,
            role=Membership.Role.EMPLOYER_ADMIN,
            user__closed_at__isnull=True,
            user__is_active=True,
        )
        .select_related("user")
        .order_by("id")
        .first()
    )
    return membership.user if membership else None


def _lock_key(user: User | None, identifier: str) -> str:
    if user is not None:
        return f"user:{user.pk}"
    return "unknown:" + (identifier or "").strip().upper()[:140]


def _locked_message() -> str:
    return ngettext(
        "密码连续输错%(n)d次，账号已锁定。%(contact)s。",
        "密码连续输错%(n)d次，账号已锁定。%(contact)s。",
        city_setting("lockout_failures"),
    ) % {
        "n": city_setting("lockout_failures"),
        "contact": _(city_setting("lockout_contact")),
    }


def _bad_credentials(remaining: int) -> ServiceError:
    if remaining <= 3:
        return ServiceError(
            ngettext(
                "账号或密码错误。再错%(n)d次账号将被锁定。",
                "账号或密码错误。再错%(n)d次账号将被锁定。",
                remaining,
            )
            % {"n": remaining},
            code="bad_credentials",
        )
    return ServiceError(_("账号或密码错误。"), code="bad_credentials")


def login_check_password(*, identifier: str, password: str, request=None) -> User:
    """Check a password login. Ten failures in a row (``lockout_failures``) lock the
    account; a correct password does not unlock it (F08). The answer never reveals
    whether the account exists: unknown identifiers are counted and locked alike, and
    cost one password hash like a wrong password does. Every attempt counts towards the
    per-address limit (issue 8). For an account that needs the second factor the count
    of failures starts again only once the TOTP code is right too."""
    rate_limit("login", request)
    user = find_user_by_identifier(identifier)
    key = _lock_key(user, identifier)
    limit = city_setting("lockout_failures")
    with transaction.atomic():
        lock, _created = LoginLock.objects.select_for_update().get_or_create(
            key=key, defaults={"user": user}
        )
        if lock.locked_at is not None:
            # Recorded, then refused after the commit (raising here would roll it back).
            audit_record(
                action="login.refused_locked",
                actor=user,
                object_type="login",
                object_id=key,
                request=request,
            )
            error = ServiceError(_locked_message(), code="locked")
        elif user is not None and user.check_password(password):
            if lock.failures and not totp_required(user):
                lock.failures = 0
                lock.save(update_fields=["failures"])
            return user
        else:
            _count_failure(lock, user, key, password, limit, request)
            error = (
                ServiceError(_locked_message(), code="locked")
                if lock.locked_at is not None
                else _bad_credentials(limit - lock.failures)
            )
    raise error


def _count_failure(lock, user, key, password, limit, request) -> None:
    if user is None:
        check_password(password, _dummy_hash())  # similar timing for unknown accounts
    lock.failures = F("failures") + 1
    lock.last_failure_at = timezone.now()
    lock.save(update_fields=["failures", "last_failure_at"])
    lock.refresh_from_db(fields=["failures"])
    if lock.failures >= limit:
        lock.locked_at = timezone.now()
        lock.save(update_fields=["locked_at"])
        audit_record(
            action="login.locked",
            actor=user,
            object_type="login",
            object_id=key,
            extra={"failures": lock.failures},
            request=request,
        )
        if user is not None:
            sessions_end_for(user)
    else:
        audit_record(
            action="login.failed",
            actor=user,
            object_type="login",
            object_id=key,
            extra={"failures": lock.failures},
            request=request,
        )


def login_check_sms(*, phone: str, code: str, request=None) -> User:
    """SMS-code login (F06). A locked account stays locked here too."""
    rate_limit("login", request)
    generic = ServiceError(_("手机号码或验证码不正确。"), field="sms_code", code="bad_credentials")
    user = User.objects.filter(phone=phone, closed_at__isnull=True, is_active=True).first()
    try:
        code_id = sms_code_check(phone=phone, purpose=SmsCode.Purpose.LOGIN, code=code)
    except ServiceError as exc:
        if exc.code in {"expired", "used", "too_many", "required"}:
            raise
        raise generic from None
    if user is None:
        raise generic
    with transaction.atomic():
        if LoginLock.objects.filter(key=_lock_key(user, ""), locked_at__isnull=False).exists():
            raise ServiceError(_locked_message(), code="locked")
        sms_code_use(code_id)
    return user


def login_succeeded(*, user: User, method: str, request) -> None:
    audit_record(
        action="login.success", actor=user, obj=user, extra={"method": method}, request=request
    )


def account_unlock(*, actor: User, user: User, request=None) -> int:
    """An administrator unlocks an account (F08, F62)."""
    with transaction.atomic():
        count = LoginLock.objects.filter(user=user).update(failures=0, locked_at=None)
        audit_record(
            action="login.unlock",
            actor=actor,
            role="admin",
            obj=user,
            extra={"locks_cleared": count},
            request=request,
        )
    return count


def lock_unlock(*, actor: User, lock: LoginLock, request=None) -> None:
    with transaction.atomic():
        LoginLock.objects.filter(pk=lock.pk).update(failures=0, locked_at=None)
        audit_record(
            action="login.unlock",
            actor=actor,
            role="admin",
            object_type="login",
            object_id=lock.key,
            request=request,
        )


def user_is_locked(user: User) -> bool:
    return LoginLock.objects.filter(user=user, locked_at__isnull=False).exists()


# --------------------------------------------------------------------------- account management


def password_change(*, user: User, old_password: str, new_password: str, request=None) -> None:
    """Change the password (F09). Every session of the user ends, this one included: the
    session hash changes with the password, and the view logs the user out."""
    if not user.check_password(old_password):
        raise ServiceError(_("原密码不正确。"), field="old_password")
    if old_password == new_password:
        raise ServiceError(_("新密码不能与原密码相同。"), field="new_password")
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field="new_password") from None
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(action="account.password_change", actor=user, obj=user, request=request)


def phone_change(*, user: User, new_phone: str, code: str, request=None) -> None:
    """Change the phone with a code sent to the new phone (F09). Whether the new phone
    belongs to another account is told only with a valid code for it (issue 8): a code
    is never sent to a phone in use (its owner gets a warning instead), so nobody can
    probe which phones are registered."""
    if new_phone == user.phone:
        raise ServiceError(_("新手机号码与当前号码相同。"), field="phone")
    code_id = sms_code_check(phone=new_phone, purpose=SmsCode.Purpose.CHANGE_PHONE, code=code)
    taken = User.objects.filter(phone=new_phone, closed_at__isnull=True).exclude(pk=user.pk)
    if taken.exists():
        raise ServiceError(_("该手机号码已被其他账号使用。"), field="phone", code="duplicate")
    try:
        with transaction.atomic():
            sms_code_use(code_id)
            before = {"phone": user.masked_phone}
            user.phone = new_phone
            user.save(update_fields=["phone"])
            audit_record(
                action="account.phone_change",
                actor=user,
                obj=user,
                before=before,
                after={"phone": user.masked_phone},
                request=request,
            )
    except IntegrityError:
        raise ServiceError(_("该手机号码已被其他账号使用。"), field="phone") from None


def account_update(*, user: User, real_name: str, email: str, request=None) -> None:
    """Edit account information (F09). A person's name must match the ID card, so the
    inner-space rule applies here as at registration."""
    with transaction.atomic():
        before = {"real_name": user.real_name, "email": user.email}
        user.real_name, user.email = real_name, email
        user.save(update_fields=["real_name", "email"])
        audit_record(
            action="account.update",
            actor=user,
            obj=user,
            before=before,
            after={"real_name": real_name, "email": email},
            request=request,
        )


def _blocked_message(blockers: list[str]) -> str:
    # The separator is translatable too: "；" in Chinese, "; " in English.
    return _("暂不能注销：%(reasons)s") % {"reasons": _("；").join(blockers)}


def account_close(*, user: User, password: str, request=None) -> None:
    """Close the account (F10). Refused while a check registered in
    ``rencai.accounts.closing`` names a reason."""
    if not user.check_password(password):
        raise ServiceError(_("密码不正确。"), field="password")
    blockers = closure_blockers(user)
    if blockers:
        raise ServiceError(_blocked_message(blockers), code="blocked")
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.closed_at is not None:
            raise ServiceError(_("该账号已注销。"), code="state")
        blockers = closure_blockers(user)
        if blockers:
            raise ServiceError(_blocked_message(blockers), code="blocked")
        now = timezone.now()
        old_username = user.username
        user.closed_at = now
        user.is_active = False
        # Free the login name; the name and ID number stay on the closed record (the
        # applications are public-money records), and the partial unique constraints let
        # the number register again. The rest of the personal data is erased (issue 8).
        user.username = f"closed-{user.pk}-{int(now.timestamp())}"
        user.set_unusable_password()
        user.save(update_fields=["closed_at", "is_active", "username", "password"])
        sessions_end_for(user)
        erased = erase_personal_data(user)
        audit_record(
            action="account.close",
            actor=user,
            obj=user,
            before={"username": old_username},
            extra={"erased": erased},
            request=request,
        )


def sessions_end_for(user: User) -> None:
    """End every session of the user (lockout, closure): the session epoch joins the
    session hash that Django checks on every request, so raising it logs out every
    browser at its next request. One UPDATE, whatever the number of sessions."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


# --------------------------------------------------------------------------- second factor


def totp_required(user) -> bool:
    """Staff and administrators confirm a TOTP code after the password (issue 8)."""
    return bool(
        settings.RENCAI_STAFF_TOTP
        and getattr(user, "is_authenticated", False)
        and user.is_privileged
    )


def totp_enrol(*, user: User, secret: str, code: str, request=None) -> list[str]:
    """Store the second factor once the user proves the app shows the right code; return
    the one-time recovery codes (shown once, stored hashed)."""
    step = totp.matching_step(secret, code)
    if step is None:
        raise ServiceError(
            _("动态口令不正确，请核对手机时间准确后重新输入。"), field="code", code="wrong"
        )
    codes = totp.new_recovery_codes()
    try:
        with transaction.atomic():
            StaffTotp.objects.create(
                user=user,
                secret_encrypted=totp.encrypt_secret(secret),
                confirmed_at=timezone.now(),
                last_step=step,
                recovery_hashes=[totp.hash_recovery_code(c) for c in codes],
            )
            LoginLock.objects.filter(key=_lock_key(user, "")).update(failures=0)
            audit_record(action="account.totp_enrol", actor=user, obj=user, request=request)
    except IntegrityError:
        raise ServiceError(
            _("该账号已绑定动态口令，请输入动态口令。"), field="code", code="state"
        ) from None
    return codes


def _bad_code(remaining: int, reused: bool) -> ServiceError:
    text = (
        _("该动态口令已使用过，请等手机上出现新的口令后再输入。")
        if reused
        else _("动态口令不正确。")
    )
    if remaining <= 3:
        text += ngettext("再错%(n)d次账号将被锁定。", "再错%(n)d次账号将被锁定。", remaining) % {
            "n": remaining
        }
    return ServiceError(text, field="code", code="bad_credentials")


def _accept_code(record: StaffTotp, code: str) -> str | None:
    """ "totp" or "recovery" when the code is accepted (and recorded as used), "reused"
    for a TOTP code of a step already used, None when wrong."""
    if totp.looks_like_recovery_code(code):
        digest = totp.hash_recovery_code(code)
        if digest not in record.recovery_hashes:
            return None
        record.recovery_hashes = [h for h in record.recovery_hashes if h != digest]
        record.save(update_fields=["recovery_hashes"])
        return "recovery"
    try:
        secret = totp.decrypt_secret(record.secret_encrypted)
    except ValueError:  # SECRET_KEY changed without SECRET_KEY_FALLBACKS
        raise ServiceError(
            _("动态口令绑定已失效，请联系系统管理员重置后重新绑定。"), code="state"
        ) from None
    step = totp.matching_step(secret, code)
    if step is None:
        return None
    if step <= record.last_step:
        return "reused"
    record.last_step = step
    record.save(update_fields=["last_step"])
    return "totp"


def totp_verify(*, user: User, code: str, request=None) -> str:
    """The second step of a staff or administrator login: a TOTP code (one step of clock
    drift either way, each step once) or an unused recovery code. Wrong codes count
    towards the account's lockout like wrong passwords. Returns "totp" or "recovery"."""
    rate_limit("login", request)
    key = _lock_key(user, "")
    limit = city_setting("lockout_failures")
    with transaction.atomic():
        lock, _created = LoginLock.objects.select_for_update().get_or_create(
            key=key, defaults={"user": user}
        )
        record = StaffTotp.objects.select_for_update().filter(user=user).first()
        if lock.locked_at is not None:
            error = ServiceError(_locked_message(), code="locked")
        elif record is None:
            raise ServiceError(_("该账号尚未绑定动态口令。"), code="state")
        else:
            method = _accept_code(record, code)
            if method in ("totp", "recovery"):
                if lock.failures:
                    lock.failures = 0
                    lock.save(update_fields=["failures"])
                audit_record(
                    action="login.second_factor",
                    actor=user,
                    obj=user,
                    extra={"method": method, "recovery_left": record.recovery_left},
                    request=request,
                )
                return method
            _count_failure(lock, user, key, "", limit, request)
            error = (
                ServiceError(_locked_message(), code="locked")
                if lock.locked_at is not None
                else _bad_code(limit - lock.failures, reused=method == "reused")
            )
    raise error
