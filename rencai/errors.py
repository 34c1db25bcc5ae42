from django.http import JsonResponse


def refusal(detail, *, code: str, field: str | None = None) -> dict:
    """The JSON API's one shape of a refusal (``rencai.api.common.Error``): the message,
    the form field it is about or None, and a code a client can act on."""
    return {"detail": str(detail), "field": field, "code": code}


def json_refusal(detail, *, code: str, status: int, field: str | None = None) -> JsonResponse:
    """A refusal in that shape from outside the API's own handlers (a middleware, an
    error view) to a request under ``/api/``."""
    return JsonResponse(refusal(detail, code=code, field=field), status=status)


class ServiceError(Exception):
    """A domain error with a message for the user (Chinese by default, translated through
    gettext) and, where it belongs to one, the form field it is about."""

    def __init__(self, message, *, field: str | None = None, code: str = "invalid"):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        self.code = code
