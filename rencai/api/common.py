"""What every part of the JSON API shares: the one refusal shape, the base of what a
client sends, and the CSRF check. ``rencai.api.api`` turns each refusal (a ServiceError, a
404, a missing login, a request that does not parse) into ``{"detail": message, "field":
name|null, "code": code}``."""

from django.utils.translation import gettext as _
from ninja import Schema
from ninja.utils import check_csrf
from pydantic import field_validator
from pydantic_core import PydanticCustomError

from rencai.errors import ServiceError


class Error(Schema):
    detail: str
    field: str | None = None
    code: str = "invalid"


class In(Schema):
    """A request body. No text in it may hold a NUL character: no name, number, code or
    password has one, and PostgreSQL cannot store or even compare one (it answered a
    login, a registration or a captcha key holding one with a server error). Such a value
    is a 422 on its field, before any handler reads it."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value):
        if isinstance(value, str) and "\x00" in value:
            raise PydanticCustomError("nul_character", "text holds a NUL character")
        return value


def errors(*statuses: int) -> dict[int, type[Error]]:
    """The refusals an operation can answer with, for its ``response={...}``."""
    return dict.fromkeys(statuses, Error)


def csrf_message() -> str:
    return _("CSRF 校验失败，请先请求 /api/auth/csrf 获取令牌。")


def require_csrf(request) -> None:
    if check_csrf(request) is not None:
        raise ServiceError(csrf_message(), code="csrf")
