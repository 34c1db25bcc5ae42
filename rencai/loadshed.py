"""Load shedding (issue 7): a bounded number of requests in flight per server process.

On a deadline day a busy server must answer at once with "busy, try again" and a
``Retry-After`` instead of letting requests queue until they time out: a fast 503 keeps
the machine responsive for the requests it does take, and the applicant's browser (or
API client) knows when to come back. A request waits at most
``RENCAI_BUSY_WAIT_SECONDS`` for a slot among ``RENCAI_MAX_IN_FLIGHT``; static files and
nothing under ``/static/`` is shed. Nothing is written for a shed request, so a retried
submission is safe (submissions are idempotent, see ``transitions.submit``)."""

import functools
import logging
import threading
import time

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from rencai.errors import json_refusal

NEVER_SHED = ("/static/",)
REPORT_EVERY = 10.0  # seconds between two log lines counting the busy answers

log = logging.getLogger(__name__)


def busy_response(request) -> HttpResponse:
    """In the language the person chose (the cookie ``CookieLanguageMiddleware`` reads,
    which runs after this one), Chinese otherwise."""
    retry_after = str(settings.RENCAI_RETRY_AFTER_SECONDS)
    language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        message = _(
            "系统繁忙，请 %(s)s 秒后再试。您填写的内容没有丢失：返回上一页重新提交即可。"
        ) % {"s": retry_after}
        if request.path.startswith("/api/"):
            response = json_refusal(message, code="busy", status=503)
        else:
            # reloading is safe for a page, not for a form that was sent
            html = _busy_page(language, message, retry_after, request.method == "GET")
            response = HttpResponse(html, status=503)
        response["Content-Language"] = translation.get_language()
    response["Retry-After"] = retry_after
    response["Cache-Control"] = "no-store"
    return response


@functools.lru_cache(maxsize=16)
def _busy_page(language: str, message: str, retry_after: str, reload: bool) -> str:
    """The busy page, rendered once per language and kind: when the server is overloaded
    its answers must cost as little as possible. No request context: a busy page must not
    touch the database or the session."""
    return render_to_string(
        "busy.html", {"message": message, "retry_after": retry_after, "reload": reload}
    )


class ConcurrencyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        limit = int(getattr(settings, "RENCAI_MAX_IN_FLIGHT", 0) or 0)
        self.slots = threading.BoundedSemaphore(limit) if limit > 0 else None
        self.wait = float(getattr(settings, "RENCAI_BUSY_WAIT_SECONDS", 1.0))
        self.shed = 0  # how many requests this process turned away (the log reports it)
        self._reported = 0  # ``shed`` at the last log line
        self._report_at = 0.0  # the earliest moment of the next log line
        self._lock = threading.Lock()

    def __call__(self, request):
        if request.META.get("rencai.shed"):  # turned away by the server (rencai.server)
            return self._turn_away(request)
        if self.slots is None or request.path.startswith(NEVER_SHED):
            return self.get_response(request)
        if not self.slots.acquire(timeout=self.wait):
            return self._turn_away(request)
        try:
            return self.get_response(request)
        finally:
            self.slots.release()

    def _turn_away(self, request) -> HttpResponse:
        """The busy answer, counted. Django logs every 5xx answer as an error; on a busy
        day that would be an error line per turned-away request (most of the answers at
        three times the capacity; writing the line made each one half again as costly).
        Instead the log gets one warning with the count, at most every ``REPORT_EVERY``
        seconds."""
        response = busy_response(request)
        response._has_been_logged = True  # read by django.utils.log.log_response
        with self._lock:
            self.shed += 1
            now = time.monotonic()
            if now < self._report_at:
                return response
            count, self._reported = self.shed - self._reported, self.shed
            self._report_at = now + REPORT_EVERY
        log.warning(
            "Server busy: %d request(s) answered 503 with Retry-After since the last report",
            count,
        )
        return response
