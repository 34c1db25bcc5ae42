"""The JSON API (B4): session login, registration, "who am I"; programs, the applicant's
profile and applications, and the staff queue (``rencai.api.applications``). Every
refusal has one shape, ``{"detail": message, "field": name|null, "code": code}``, turned
from a ServiceError, a 404, a missing login or a request that does not parse in one
place. Writes check CSRF (fetch the token from ``/api/auth/csrf``)."""

import datetime

from captcha.helpers import captcha_image_url
from captcha.models import CaptchaStore
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.core.exceptions import ValidationError
from django.http import Http404
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError
from ninja.security import django_auth

from rencai.accounts import services
from rencai.accounts.models import User
from rencai.accounts.sms_codes import sms_code_send
from rencai.api.applications import router as applications_router
from rencai.api.common import In, csrf_message, errors
from rencai.api.common import require_csrf as _csrf
from rencai.city import city_setting
from rencai.errors import ServiceError, refusal
from rencai.identity import clean_credit_code, clean_phone, clean_real_name, clean_resident_id
from rencai.orgs.models import Employer, Region

api = NinjaAPI(title="Rencai API", version="1.0.0", urls_namespace="api-1.0.0", docs_url="/docs")

BACKEND = "rencai.accounts.backends.IdentifierBackend"

# Programs, the applicant's profile and applications, the staff queue and its actions.
api.add_router("", applications_router)


# The HTTP status of each ServiceError code; any other code is a 400.
STATUS_OF_CODE = {
    "not_found": 404,
    "state": 409,
    "duplicate": 409,
    "blocked": 409,
    "notice": 409,
    "ineligible": 422,
    "locked": 403,
    "forbidden": 403,
    "pending": 403,
    "too_soon": 429,
    "login_required": 401,
    "bad_credentials": 401,
    "daily_limit": 429,
    "csrf": 403,
}


def _refusal(request, detail: str, *, status: int, code: str, field: str | None = None):
    return api.create_response(request, refusal(detail, code=code, field=field), status=status)


@api.exception_handler(ServiceError)
def service_error(request, exc: ServiceError):
    return _refusal(
        request,
        exc.message,
        status=STATUS_OF_CODE.get(exc.code, 400),
        code=exc.code,
        field=exc.field,
    )


@api.exception_handler(Http404)
def not_found(request, exc: Http404):
    return _refusal(request, _("未找到该记录，或您无权查看。"), status=404, code="not_found")


@api.exception_handler(AuthenticationError)
def not_logged_in(request, exc: AuthenticationError):
    return _refusal(request, _("请先登录。"), status=401, code="login_required")


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    """Ninja's own refusals: a failed CSRF check of the session login, a body that is
    not JSON, throttling."""
    if exc.status_code == 403 and "csrf" in str(exc).lower():
        return _refusal(request, csrf_message(), status=403, code="csrf")
    if exc.status_code == 400:
        return _refusal(request, _("请求内容不是有效的 JSON。"), status=400, code="malformed")
    if exc.status_code == 429:
        return _refusal(request, _("操作过于频繁，请稍后再试。"), status=429, code="too_soon")
    return _refusal(request, str(exc), status=exc.status_code, code="error")


# Pydantic's error types, said in plain Chinese.
_SCHEMA_MESSAGES = {
    "missing": gettext_noop("缺少必填项“%(f)s”。"),
    "int_parsing": gettext_noop("“%(f)s”应为整数。"),
    "int_type": gettext_noop("“%(f)s”应为整数。"),
    "int_from_float": gettext_noop("“%(f)s”应为整数。"),
    "bool_parsing": gettext_noop("“%(f)s”应为 true 或 false。"),
    "bool_type": gettext_noop("“%(f)s”应为 true 或 false。"),
    "string_type": gettext_noop("“%(f)s”应为文本。"),
    "string_too_long": gettext_noop("“%(f)s”过长。"),
    "nul_character": gettext_noop("“%(f)s”不能包含空字符（\\x00）。"),
    "dict_type": gettext_noop("“%(f)s”应为对象。"),
    "list_type": gettext_noop("“%(f)s”应为列表。"),
    "literal_error": gettext_noop("“%(f)s”的取值无效。"),
    "enum": gettext_noop("“%(f)s”的取值无效。"),
    "greater_than_equal": gettext_noop("“%(f)s”超出允许范围。"),
    "less_than_equal": gettext_noop("“%(f)s”超出允许范围。"),
}


@api.exception_handler(RequestValidationError)
def request_invalid(request, exc: RequestValidationError):
    """A request whose parameters do not match the schema (a missing or mistyped
    value): 422, with the first problem and the name of the parameter it is about."""
    error = exc.errors[0] if exc.errors else {}
    loc = [str(part) for part in error.get("loc", ())]
    # ("body", "payload", "version") → "version"; ("query", "limit") → "limit"
    parts = loc[2:] if loc[:1] == ["body"] else loc[1:]
    field = ".".join(parts) or None
    template = _SCHEMA_MESSAGES.get(error.get("type", ""), gettext_noop("“%(f)s”的值无效。"))
    detail = _(template) % {"f": field or _("请求内容")}
    return _refusal(request, detail, status=422, code="malformed", field=field)


def _valid(fn, value, field):
    try:
        return fn(value)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field=field) from None


def _captcha(key: str, value: str):
    value = (value or "").strip().lower()
    if settings.CAPTCHA_TEST_MODE and value == "passed":
        CaptchaStore.objects.filter(hashkey=key).delete()
        return
    store = CaptchaStore.objects.filter(hashkey=key, expiration__gt=timezone.now()).first()
    CaptchaStore.objects.filter(hashkey=key).delete()  # one attempt per captcha
    if store is None or store.response != value:
        raise ServiceError(_("图形验证码不正确，请重新获取。"), field="captcha_value")


class MeOut(Schema):
    id: int
    kind: str
    username: str
    real_name: str
    masked_id_number: str
    masked_phone: str
    registration_approved: bool
    registration_status: str
    registration_opinion: str
    employer_id: int | None
    organisation_name: str | None


def _me(user: User) -> dict:
    org = user.own_employer() if user.is_organisation_account else user.employer
    return {
        "id": user.pk,
        "kind": user.kind,
        "username": user.username,
        "real_name": user.real_name,
        "masked_id_number": user.masked_id_number,
        "masked_phone": user.masked_phone,
        "registration_approved": user.registration_approved,
        "registration_status": (
            user.registration_status if user.is_person else (org.status if org else "approved")
        ),
        "registration_opinion": (
            user.registration_opinion if user.is_person else (org.review_opinion if org else "")
        ),
        "employer_id": org.pk if org else None,
        "organisation_name": org.name if org else None,
    }


class CsrfOut(Schema):
    csrf_token: str


@api.get("/auth/csrf", response=CsrfOut, tags=["auth"])
def csrf(request):
    return {"csrf_token": get_token(request)}


class CaptchaOut(Schema):
    key: str
    image_url: str


@api.post("/captcha", response={201: CaptchaOut}, tags=["auth"])
def new_captcha(request):
    key = CaptchaStore.generate_key()
    return Status(201, {"key": key, "image_url": captcha_image_url(key)})


class LoginIn(In):
    identifier: str
    password: str
    captcha_key: str
    captcha_value: str


@api.post(
    "/auth/login",
    response={200: MeOut, **errors(400, 401, 403, 422, 429)},
    tags=["auth"],
)
def login(request, payload: LoginIn):
    _csrf(request)
    _captcha(payload.captcha_key, payload.captcha_value)
    user = services.login_check_password(
        identifier=payload.identifier, password=payload.password, request=request
    )
    auth_login(request, user, backend=BACKEND)
    services.login_succeeded(user=user, method="api-password", request=request)
    return _me(user)


@api.post("/auth/logout", response={204: None, **errors(401, 403)}, auth=django_auth, tags=["auth"])
def logout(request):
    auth_logout(request)
    return Status(204, None)


@api.get("/me", response={200: MeOut, **errors(401)}, auth=django_auth, tags=["auth"])
def me(request):
    return _me(request.auth)


class SmsIn(In):
    phone: str
    purpose: str


class Ok(Schema):
    detail: str


@api.post("/sms/codes", response={202: Ok, **errors(400, 401, 403, 422, 429)}, tags=["auth"])
def sms_codes(request, payload: SmsIn):
    _csrf(request)
    phone = _valid(clean_phone, payload.phone, "phone")
    sms_code_send(phone=phone, purpose=payload.purpose, user=request.user)
    return Status(202, {"detail": _("验证码已发送，请查看手机短信（5分钟内有效）。")})


class PersonIn(In):
    id_type: str = "resident_id"
    id_number: str
    real_name: str
    gender: str = ""
    birth_date: datetime.date | None = None
    phone: str
    sms_code: str
    password: str
    login_name: str = ""
    email: str = ""
    employer_id: int | None = None
    accept_notice: bool
    captcha_key: str
    captcha_value: str


@api.post(
    "/register/person",
    response={201: MeOut, **errors(400, 403, 409, 422)},
    tags=["registration"],
)
def register_person(request, payload: PersonIn):
    _csrf(request)
    if payload.id_type not in User.IdType.values:
        raise ServiceError(_("证件类型无效。"), field="id_type")
    gender, birth = payload.gender, payload.birth_date
    if payload.id_type == User.IdType.RESIDENT_ID:
        rid = _valid(clean_resident_id, payload.id_number, "id_number")
        number, gender, birth = rid.number, rid.gender, rid.birth_date
    else:
        number = payload.id_number.strip().upper()
        if not number.isalnum() or not 6 <= len(number) <= 30:
            raise ServiceError(_("证件号码只能包含字母和数字（6–30位）。"), field="id_number")
        if gender not in ("M", "F") or birth is None:
            raise ServiceError(_("非居民身份证请填写性别和出生日期。"), field="gender")
    employer = None
    if payload.employer_id is not None:
        employer = Employer.objects.filter(pk=payload.employer_id).first()
        if employer is None:
            raise ServiceError(
                _("该单位尚未通过所属区县人社部门审核，暂不能选择。"), field="employer"
            )
    _captcha(payload.captcha_key, payload.captcha_value)
    user = services.person_register(
        request=request,
        data=services.PersonRegistration(
            id_type=payload.id_type,
            id_number=number,
            real_name=_valid(clean_real_name, payload.real_name, "real_name"),
            phone=_valid(clean_phone, payload.phone, "phone"),
            sms_code=payload.sms_code,
            password=payload.password,
            gender=gender,
            birth_date=birth,
            login_name=payload.login_name.strip(),
            email=payload.email.strip(),
            employer=employer,
            accepted_notice=payload.accept_notice,
        ),
    )
    auth_login(request, user, backend=BACKEND)
    return Status(201, _me(user))


class EmployerIn(In):
    name: str
    credit_code: str
    kind: str
    district_code: str
    contact_name: str
    phone: str
    sms_code: str
    password: str
    licence_number: str = ""
    login_name: str = ""
    email: str = ""
    accept_notice: bool
    captcha_key: str
    captcha_value: str


@api.post(
    "/register/employer",
    response={201: MeOut, **errors(400, 403, 409, 422)},
    tags=["registration"],
)
def register_employer(request, payload: EmployerIn):
    _csrf(request)
    district = Region.objects.filter(code=payload.district_code, level="district").first()
    if district is None:
        raise ServiceError(_("请选择单位所属区县。"), field="district_code")
    if not payload.name.strip():
        raise ServiceError(_("请填写单位名称。"), field="name")
    _captcha(payload.captcha_key, payload.captcha_value)
    user = services.employer_register(
        request=request,
        data=services.EmployerRegistration(
            name=payload.name.strip()[:100],
            credit_code=_valid(clean_credit_code, payload.credit_code, "credit_code"),
            kind=payload.kind,
            district=district,
            contact_name=_valid(clean_real_name, payload.contact_name, "contact_name"),
            phone=_valid(clean_phone, payload.phone, "phone"),
            sms_code=payload.sms_code,
            password=payload.password,
            licence_number=payload.licence_number,
            login_name=payload.login_name.strip(),
            email=payload.email.strip(),
            accepted_notice=payload.accept_notice,
        ),
    )
    auth_login(request, user, backend=BACKEND)
    return Status(201, _me(user))


class CityOut(Schema):
    name: str
    employer_registration_review: bool
    person_registration_review: bool


@api.get("/city", response=CityOut, tags=["portal"])
def city(request):
    return {
        k: city_setting(k)
        for k in ("name", "employer_registration_review", "person_registration_review")
    }
