"""Error answers in the platform's language and look (Django's defaults are bare English
pages): 400, 403, 404, 500 and a failed CSRF check. Under ``/api/`` they have the API's
one shape, ``{"detail", "field", "code"}``, so that a client never has to parse HTML.
A 404 says the same for "absent" and "not yours" (issue 8). The 500 page is rendered
without the request's context: whatever failed must not be needed to say so."""

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from rencai.errors import json_refusal


def _refusal(request, status: int, code: str, heading: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_refusal(message, code=code, status=status)
    return render(
        request, "errors/error.html", {"heading": heading, "message": message}, status=status
    )


def bad_request(request, exception=None):
    return _refusal(
        request,
        400,
        "bad_request",
        _("请求有误"),
        _("浏览器发来的请求无法处理。请返回上一页刷新后重试；仍不行请联系技术支持。"),
    )


def permission_denied(request, exception=None):
    return _refusal(
        request,
        403,
        "forbidden",
        _("无权访问"),
        _("您的账号不能办理此事项。如需办理，请用有权限的账号登录。"),
    )


def page_not_found(request, exception=None):
    return _refusal(
        request,
        404,
        "not_found",
        _("页面不存在"),
        _("您访问的页面或记录不存在，或您无权查看。请检查地址，或从首页重新进入。"),
    )


def csrf_failure(request, reason=""):
    return _refusal(
        request,
        403,
        "csrf",
        _("页面已过期"),
        _(
            "为保护您的账号，表单提交前要核对页面来源。页面打开太久、或在别的窗口退出或重新登录后"
            "会出现此提示：请返回上一页，刷新后再提交一次。"
        ),
    )


def server_error(request):
    if request.path.startswith("/api/"):
        return json_refusal(_("系统出现错误，请稍后再试。"), code="error", status=500)
    return HttpResponse(render_to_string("errors/500.html"), status=500)
