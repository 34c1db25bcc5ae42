"""Every denied access is logged (issue 8, part 7): a 403, or a 404 on a route that names
an object (``/applications/<pk>/``, ``/api/applications/<app_id>``…), appends an audit row
with who asked, for what and from where. The answer itself is not changed: "absent" and
"not yours" stay the same 404 to the person asking; only the log tells them apart for an
auditor (many 404s from one account or address over a range of ids is a probe)."""

from django.db import transaction

from rencai.audit.services import audit_record

DENIED = {403, 404}


class DeniedAccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in DENIED:
            match = getattr(request, "resolver_match", None)
            if response.status_code == 403 or (match is not None and match.kwargs):
                self._record(request, response.status_code, match)
        return response

    @staticmethod
    def _record(request, status: int, match) -> None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
        with transaction.atomic():
            audit_record(
                action="access.denied",
                actor=actor,
                object_type=(match.view_name if match is not None else "")[:60],
                object_id=_object_id(match),
                extra={
                    "method": request.method,
                    "path": request.path[:300],
                    "status": status,
                },
                request=request,
            )


def _object_id(match) -> str:
    if match is None or not match.kwargs:
        return ""
    return ",".join(f"{k}={v}" for k, v in sorted(match.kwargs.items()))[:40]
