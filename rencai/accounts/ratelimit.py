"""Per-address limits on login, SMS codes and registration (issue 8).

``rate_limit(action, request)`` counts one request of ``action`` from the client's
address in a fixed window and refuses, with a ServiceError coded ``too_soon`` (HTTP 429
in the pages and the API), once the window's count passes the limit. The login,
SMS-code and registration services call it, so the JSON API inherits it. Counts live in
the database (``RateCounter``): every server process sees the same numbers, at the cost
of one UPDATE and one SELECT per limited request (an INSERT at the start of a window).

Services that do not receive the request (``sms_code_send`` as the API calls it) find
the address in ``current_client_ip``, set by ``ClientAddressMiddleware``."""

import contextvars
import datetime
import math

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import ngettext

from rencai.accounts.models import RateCounter
from rencai.audit.services import client_ip
from rencai.errors import ServiceError

current_client_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "rencai_client_ip", default=None
)


class ClientAddressMiddleware:
    """Remember the client's address for the request's duration (see module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_client_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_client_ip.reset(token)


def _window(seconds: int, now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    stamp = int(now.timestamp())
    start = datetime.datetime.fromtimestamp(stamp - stamp % seconds, tz=datetime.UTC)
    return start, start + datetime.timedelta(seconds=seconds)


def _count(key: str, seconds: int) -> tuple[int, datetime.datetime]:
    now = timezone.now()
    start, end = _window(seconds, now)
    rows = RateCounter.objects.filter(key=key, window_start=start)
    with transaction.atomic():
        if not rows.update(count=F("count") + 1):
            # First request of this window for this key: tidy up ended windows, then start.
            RateCounter.objects.filter(expires_at__lt=now).delete()
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, window_start=start, expires_at=end, count=1)
            except IntegrityError:  # another process started it a moment ago
                rows.update(count=F("count") + 1)
        count = rows.values_list("count", flat=True).get()
    return count, end


def rate_limit(action: str, request=None) -> None:
    """Count a request of ``action`` ("login", "sms", "register") from the client's
    address; raise ServiceError(code="too_soon") past the limit. A limit of 0, or no
    known address (a call from a script), does not count."""
    limit, seconds = settings.RENCAI_RATE_LIMITS[action]
    ip = client_ip(request) if request is not None else current_client_ip.get()
    if not limit or not ip:
        return
    count, end = _count(f"{action}:ip:{ip}"[:120], seconds)
    if count > limit:
        minutes = max(1, math.ceil((end - timezone.now()).total_seconds() / 60))
        raise ServiceError(
            ngettext(
                "操作过于频繁，请%(m)d分钟后再试。",
                "操作过于频繁，请%(m)d分钟后再试。",
                minutes,
            )
            % {"m": minutes},
            code="too_soon",
        )
