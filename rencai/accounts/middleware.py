import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth import logout as auth_logout
from django.shortcuts import redirect
from django.urls import resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils.translation import gettext as _

from rencai.errors import json_refusal

# What a person (or employer) whose registration is not yet approved may open: the
# status page, resubmission, logout, the public portal and the API's "who am I" (F04).
ALLOWED_WHILE_PENDING = {
    "accounts:centre",
    "accounts:registration",
    "accounts:logout",
    "accounts:sms_send",
    "portal:home",
    "set_language",
    "javascript-catalog",
    "api-1.0.0:me",
    "api-1.0.0:logout",
    "api-1.0.0:csrf",
    "api-1.0.0:new_captcha",
    "api-1.0.0:city",
}


class PendingRegistrationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_superuser
            and (user.is_person or user.is_organisation_account)
            and not user.registration_approved
        ):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            name = match.view_name if match else ""
            if name not in ALLOWED_WHILE_PENDING and not request.path_info.startswith(
                ("/static/", "/captcha/")
            ):
                if request.path_info.startswith("/api/"):
                    return json_refusal(
                        _("注册尚未审核通过，暂不能办理此业务。"), code="pending", status=403
                    )
                return redirect("accounts:centre")
        return self.get_response(request)


class SessionTouchMiddleware:
    """The idle timeout (``SESSION_COOKIE_AGE``) restarts with activity: a signed-in
    session is saved again at most every ``SESSION_TOUCH_SECONDS`` (60) instead of on
    every request, which spared three queries per page (issue 7). Place it after
    ``SessionMiddleware``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty():
            return response  # no session of its own: nothing to keep alive
        now = int(time.time())
        if now - int(session.get("_touched", 0)) >= settings.SESSION_TOUCH_SECONDS:
            session["_touched"] = now  # saved, with a new expiry, by SessionMiddleware
        return response


# Set in the session once the staff member's TOTP code is right (issue 8).
TOTP_VERIFIED = "_rencai_totp_ok"

# What a staff or administrator session may open before the TOTP code is confirmed.
ALLOWED_BEFORE_SECOND_FACTOR = {
    "accounts:totp",
    "accounts:logout",
    "admin:logout",
    "set_language",
    "javascript-catalog",
}


def _view_name(request) -> str:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return ""


class StaffTwoFactorMiddleware:
    """Until the TOTP code is confirmed, a staff or administrator session reaches only
    the TOTP page (and logout): the pages and /admin/ redirect there, the API answers
    403. Whatever logged the session in (the login page, /admin/login/, the API) the
    second factor is still asked. A session the API itself just logged in is ended at
    once: the second factor is entered in the web pages only. Place it after
    AuthenticationMiddleware. Costs nothing for sessions without a login, and reads only
    the session for logins that have passed it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._unverified(request) and _view_name(request) not in ALLOWED_BEFORE_SECOND_FACTOR:
            if request.path_info.startswith(("/static/", "/captcha/")):
                return self.get_response(request)
            if request.path_info.startswith("/api/"):
                return self._api_refusal()
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('accounts:totp')}?{query}")
        response = self.get_response(request)
        if request.path_info.startswith("/api/") and self._unverified(request):
            auth_logout(request)  # logged in by the API's password login just now
            return self._api_refusal()
        return response

    @staticmethod
    def _unverified(request) -> bool:
        from rencai.accounts.services import totp_required

        session = getattr(request, "session", None)
        if not settings.RENCAI_STAFF_TOTP or session is None:
            return False
        if not session.get(SESSION_KEY) or session.get(TOTP_VERIFIED):
            return False
        return totp_required(request.user)

    @staticmethod
    def _api_refusal():
        return json_refusal(
            _("工作人员和管理员账号须在网页登录并输入动态口令。"),
            code="totp_required",
            status=403,
        )


def on_login(sender, request, user, **kwargs):
    """Every login asks the second factor afresh; staff and administrators get the
    shorter idle timeout (SESSION_STAFF_IDLE_SECONDS)."""
    session = getattr(request, "session", None)
    if session is None:
        return
    session.pop(TOTP_VERIFIED, None)
    if user.is_privileged:
        session.set_expiry(settings.SESSION_STAFF_IDLE_SECONDS)
