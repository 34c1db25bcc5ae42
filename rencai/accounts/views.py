"""Thin views: parse the form, call one service, render. Business rules live in services."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from rencai.accounts import forms, services
from rencai.accounts import totp as totp_codes
from rencai.accounts.middleware import TOTP_VERIFIED
from rencai.accounts.models import StaffTotp, User
from rencai.accounts.sms_codes import sms_code_send
from rencai.agency.catalog import qualification_choices, qualification_names
from rencai.city import city_setting
from rencai.errors import ServiceError
from rencai.identity import clean_phone
from rencai.orgs import changes

BACKEND = "rencai.accounts.backends.IdentifierBackend"
LOGIN_METHOD = "_rencai_login_method"
ENROL_SECRET = "_rencai_totp_enrol"


def _safe_next(request) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if (
        nxt.startswith("/")
        and not nxt.startswith("//")
        and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()})
    ):
        return nxt
    return ""


def _status(exc: ServiceError) -> int:
    """A per-address limit (issue 8) answers 429 Too Many Requests; other refusals
    re-show the form."""
    return 429 if exc.code == "too_soon" else 200


def _login(request, user: User, method: str):
    auth_login(request, user, backend=BACKEND)  # rotates the session key
    nxt = _safe_next(request)
    if services.totp_required(user):
        # The password was right; the TOTP code comes next (StaffTwoFactorMiddleware keeps
        # the session on that page until then).
        request.session[LOGIN_METHOD] = method
        url = reverse("accounts:totp")
        return redirect(f"{url}?{urlencode({'next': nxt})}" if nxt else url)
    return _logged_in(request, user, method, nxt)


def _logged_in(request, user: User, method: str, nxt: str):
    services.login_succeeded(user=user, method=method, request=request)
    messages.success(request, _("登录成功，欢迎您，%(name)s。") % {"name": user.display_name})
    return redirect(nxt or "accounts:centre")


def login_password(request):
    form = forms.PasswordLoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_check_password(
                identifier=form.cleaned_data["identifier"],
                password=form.cleaned_data["password"],
                request=request,
            )
        except ServiceError as exc:
            form.add_service_error(exc)
            status = _status(exc)
        else:
            return _login(request, user, "password")
    return render(request, "accounts/login.html", {"form": form, "tab": "password"}, status=status)


def login_sms(request):
    form = forms.SmsLoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_check_sms(
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["sms_code"],
                request=request,
            )
        except ServiceError as exc:
            form.add_service_error(exc)
            status = _status(exc)
        else:
            return _login(request, user, "sms")
    return render(request, "accounts/login.html", {"form": form, "tab": "sms"}, status=status)


@never_cache
def totp(request):
    """The second step of a staff or administrator login (issue 8): enrol an
    authenticator app at the first login, then a TOTP code (or a recovery code) every
    time."""
    user = request.user
    if not user.is_authenticated:
        return redirect("accounts:login")
    nxt = _safe_next(request)
    if not services.totp_required(user) or request.session.get(TOTP_VERIFIED):
        return redirect(nxt or "accounts:centre")
    if not StaffTotp.objects.filter(user=user).exists():
        return _totp_enrol(request, user, nxt)
    form = forms.TotpForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            method = services.totp_verify(
                user=user, code=form.cleaned_data["code"], request=request
            )
        except ServiceError as exc:
            if exc.code == "locked":
                auth_logout(request)
                messages.error(request, exc.message)
                return redirect("accounts:login")
            form.add_service_error(exc)
            status = _status(exc)
        else:
            _second_factor_passed(request)
            if method == "recovery":
                left = user.totp.recovery_left
                messages.warning(
                    request,
                    ngettext(
                        "您使用了一个恢复码，还剩%(n)d个。手机找回后请继续使用动态口令。",
                        "您使用了一个恢复码，还剩%(n)d个。手机找回后请继续使用动态口令。",
                        left,
                    )
                    % {"n": left},
                )
            return _logged_in(request, user, _method_with(request, method), nxt)
    return render(request, "accounts/totp.html", {"form": form, "next": nxt}, status=status)


def _method_with(request, second: str) -> str:
    return f"{request.session.pop(LOGIN_METHOD, 'password')}+{second}"


def _second_factor_passed(request) -> None:
    request.session.cycle_key()  # the session gains privileges: a new key
    request.session[TOTP_VERIFIED] = True


def _totp_enrol(request, user: User, nxt: str):
    secret = request.session.get(ENROL_SECRET)
    if not secret:
        secret = request.session[ENROL_SECRET] = totp_codes.new_secret()
    form = forms.TotpEnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.totp_enrol(
                user=user, secret=secret, code=form.cleaned_data["code"], request=request
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            request.session.pop(ENROL_SECRET, None)
            _second_factor_passed(request)
            services.login_succeeded(
                user=user, method=_method_with(request, "totp_enrol"), request=request
            )
            return render(
                request,
                "accounts/totp_recovery.html",
                {"codes": codes, "next": nxt or reverse("accounts:centre")},
            )
    issuer = f"{_(city_setting('name'))}{_(city_setting('platform_name'))}"
    return render(
        request,
        "accounts/totp_enrol.html",
        {
            "form": form,
            "next": nxt,
            "secret": totp_codes.grouped(secret),
            "uri": totp_codes.provisioning_uri(secret, account=user.username, issuer=issuer),
        },
    )


@require_POST
def logout(request):
    auth_logout(request)
    messages.info(request, _("您已安全退出。"))
    return redirect("portal:home")


@require_POST
def sms_send(request):
    """Send a code (progressively enhanced: the page's script calls this with fetch)."""
    try:
        phone = clean_phone(request.POST.get("phone", ""))
    except ValidationError as exc:
        return JsonResponse({"ok": False, "message": " ".join(exc.messages)}, status=400)
    try:
        sms_code_send(
            phone=phone,
            purpose=request.POST.get("purpose", ""),
            user=request.user,
            request=request,
        )
    except ServiceError as exc:
        if exc.code == "login_required":
            return JsonResponse({"ok": False, "message": exc.message}, status=403)
        return JsonResponse(
            {"ok": False, "message": exc.message, "code": exc.code},
            status=429 if exc.code in {"too_soon", "daily_limit"} else 400,
        )
    return JsonResponse({"ok": True, "message": _("验证码已发送，请查看手机短信（5分钟内有效）。")})


def register_choose(request):
    return render(request, "accounts/register_choose.html")


def _apply_service_error(form, exc: ServiceError):
    form.add_service_error(exc)


def register_person(request):
    review = city_setting("person_registration_review")
    form = forms.PersonRegistrationForm(request.POST or None, employer_required=review)
    status = 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        data = services.PersonRegistration(
            id_type=d["id_type"],
            id_number=d["id_number"],
            real_name=d["real_name"],
            phone=d["phone"],
            sms_code=d["sms_code"],
            password=d["password"],
            gender=d.get("gender") or "",
            birth_date=d.get("birth_date"),
            login_name=d.get("login_name") or "",
            email=d.get("email") or "",
            employer=d.get("employer"),
            accepted_notice=d["accept_notice"],
        )
        try:
            user = services.person_register(data=data, request=request)
        except ServiceError as exc:
            _apply_service_error(form, exc)
            status = _status(exc)
        else:
            auth_login(request, user, backend=BACKEND)
            if user.registration_status == User.RegistrationStatus.PENDING:
                messages.success(
                    request, _("注册成功，已提交所在单位审核。审核期间您可以登录查看审核状态。")
                )
            else:
                messages.success(request, _("注册成功。"))
            return redirect("accounts:centre")
    return render(
        request,
        "accounts/register_person.html",
        {"form": form, "review": review},
        status=status,
    )


def _register_employer(request, agency: bool):
    form = forms.EmployerRegistrationForm(request.POST or None, agency=agency)
    status = 200
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        data = services.EmployerRegistration(
            name=d["name"].strip(),
            credit_code=d["credit_code"],
            kind=d["kind"],
            district=d["district"],
            contact_name=d["contact_name"],
            phone=d["phone"],
            sms_code=d["sms_code"],
            password=d["password"],
            licence_number=d.get("licence_number") or "",
            login_name=d.get("login_name") or "",
            email=d.get("email") or "",
            accepted_notice=d["accept_notice"],
            qualifications=d.get("qualifications") or [],
        )
        try:
            user = services.employer_register(data=data, request=request)
        except ServiceError as exc:
            _apply_service_error(form, exc)
            status = _status(exc)
        else:
            auth_login(request, user, backend=BACKEND)
            if city_setting("employer_registration_review"):
                messages.success(request, _("注册成功，已提交所属区县人社部门审核。"))
            else:
                messages.success(request, _("注册成功。"))
            return redirect("accounts:centre")
    return render(
        request,
        "accounts/register_employer.html",
        {"form": form, "agency": agency},
        status=status,
    )


def register_employer(request):
    return _register_employer(request, agency=False)


def register_agency(request):
    return _register_employer(request, agency=True)


@login_required
def centre(request):
    user = request.user
    employer = user.own_employer() if user.is_organisation_account else None
    ctx = {
        "employer": employer,
        "legacy_count": user.legacy_records.count() if user.is_person else 0,
    }
    if employer is not None:
        ctx["qualifications"] = qualification_names(employer.qualifications)
        ctx["pending_change"] = changes.pending_change(employer)
    return render(request, "accounts/centre.html", ctx)


@login_required
def registration_change(request):
    """注册信息变更 (F61): propose new details; they take effect once the district HR
    bureau approves. The pending request and every earlier one are shown."""
    user = request.user
    employer = user.own_employer() if user.is_organisation_account else None
    if employer is None:
        raise Http404
    form = forms.RegistrationChangeForm(
        request.POST or None,
        agency=changes.is_agency(employer),
        initial=changes.details_in_force(employer),
    )
    if request.method == "POST" and form.is_valid():
        try:
            changes.change_request(actor=user, data=form.cleaned_data, request=request)
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request,
                _("变更申请已提交，请等待所属区县人社部门审核；审核通过前原注册信息继续有效。"),
            )
            return redirect("accounts:registration_change")
    names = dict(qualification_choices())
    history = [(c, changes.change_rows(c, names)) for c in changes.history_of(employer)]
    return render(
        request,
        "accounts/registration_change.html",
        {
            "employer": employer,
            "form": form,
            "pending": next((c for c, _rows in history if c.is_pending), None),
            "history": history,
            "history_limited": len(history) >= changes.HISTORY_LIMIT,
            "menu": "registration_change",
        },
    )


@login_required
def registration(request):
    """A rejected registration: see the opinion, correct and resubmit (F04)."""
    user = request.user
    if user.is_person:
        if user.registration_status != User.RegistrationStatus.REJECTED:
            return redirect("accounts:centre")
        form = forms.RegistrationResubmitForm(
            request.POST or None,
            initial={"real_name": user.real_name, "employer": user.employer_id},
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.person_registration_resubmit(
                    user=user,
                    employer=form.cleaned_data["employer"],
                    real_name=form.cleaned_data["real_name"],
                    request=request,
                )
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, _("已重新提交，请等待单位审核。"))
                return redirect("accounts:centre")
        return render(request, "accounts/registration.html", {"form": form})
    employer = user.own_employer()
    if employer is None or employer.status != "rejected":
        return redirect("accounts:centre")
    form = forms.EmployerResubmitForm(
        request.POST or None,
        initial={"name": employer.name, "contact_name": employer.contact_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.employer_registration_resubmit(
                actor=user,
                name=form.cleaned_data["name"].strip(),
                contact_name=form.cleaned_data["contact_name"],
                request=request,
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("已重新提交，请等待区县人社部门审核。"))
            return redirect("accounts:centre")
    return render(request, "accounts/registration.html", {"form": form, "employer": employer})


@login_required
def account_info(request):
    user = request.user
    form = forms.AccountInfoForm(
        request.POST or None, initial={"real_name": user.real_name, "email": user.email}
    )
    if request.method == "POST" and form.is_valid():
        services.account_update(
            user=user,
            real_name=form.cleaned_data["real_name"],
            email=form.cleaned_data["email"],
            request=request,
        )
        messages.success(request, _("账号信息已保存。"))
        return redirect("accounts:info")
    return render(request, "accounts/account_info.html", {"form": form, "menu": "info"})


@login_required
def password_change(request):
    form = forms.PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
                request=request,
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            auth_logout(request)
            messages.success(request, _("密码已修改，所有设备已退出登录，请用新密码重新登录。"))
            return redirect("accounts:login")
    return render(request, "accounts/password_change.html", {"form": form, "menu": "password"})


@login_required
def phone_change(request):
    form = forms.PhoneChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.phone_change(
                user=request.user,
                new_phone=form.cleaned_data["phone"],
                code=form.cleaned_data["sms_code"],
                request=request,
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, _("手机号码已修改。"))
            return redirect("accounts:centre")
    return render(request, "accounts/phone_change.html", {"form": form, "menu": "phone"})


@login_required
def account_close(request):
    form = forms.AccountCloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_close(
                user=request.user, password=form.cleaned_data["password"], request=request
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            auth_logout(request)
            messages.success(request, _("账号已注销。"))
            return redirect("portal:home")
    return render(request, "accounts/account_close.html", {"form": form, "menu": "close"})
