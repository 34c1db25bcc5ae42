import time

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import resolve
from django.urls.exceptions import Resolver404
from django.utils.translation import gettext as _

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
                    return JsonResponse(
                        {
                            "detail": _("注册尚未审核通过，暂不能办理此业务。"),
                            "field": None,
                            "code": "pending",
                        },
                        status=403,
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
