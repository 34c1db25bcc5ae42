"""What every part of the JSON API shares: the one refusal shape and the CSRF check.
``rencai.api.api`` turns each refusal (a ServiceError, a 404, a missing login, a request
that does not parse) into ``{"detail": message, "field": name|null, "code": code}``."""

from django.utils.translation import gettext as _
from ninja import Schema
from ninja.utils import check_csrf

from rencai.errors import ServiceError


class Error(Schema):
    detail: str
    field: str | None = None
    code: str = "invalid"


def errors(*statuses: int) -> dict[int, type[Error]]:
    """The refusals an operation can answer with, for its ``response={...}``."""
    return dict.fromkeys(statuses, Error)


def csrf_message() -> str:
    return _("CSRF 校验失败，请先请求 /api/auth/csrf 获取令牌。")


def require_csrf(request) -> None:
    if check_csrf(request) is not None:
        raise ServiceError(csrf_message(), code="csrf")
