"""Error answers in Chinese (English by the language cookie), in the site's own page, and
under /api/ in the API's JSON shape: a mistyped address, a refused action, an expired
form, a server error. Django's defaults were bare English pages."""

import json

import pytest
from django.test import Client, RequestFactory

from rencai.portal import errors
from tests.conftest import build_city


def test_a_missing_page_is_a_chinese_page_with_the_way_back(db):
    response = Client().get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "<h1>页面不存在</h1>" in page and "请检查地址，或从首页重新进入" in page
    assert 'href="/"' in page and "主导航" in page  # the site's header and a way home
    assert "Not Found" not in page


def test_the_missing_page_in_english(db):
    c = Client()
    c.cookies["django_language"] = "en"
    page = c.get("/no-such-page/").content.decode()
    assert "<h1>Page not found</h1>" in page and "页面不存在" not in page


def test_an_unknown_api_address_answers_in_the_api_shape(db):
    response = Client().get("/api/no-such-thing")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {
        "detail": "您访问的页面或记录不存在，或您无权查看。请检查地址，或从首页重新进入。",
        "field": None,
        "code": "not_found",
    }


def test_a_form_sent_after_its_page_expired_says_what_to_do_and_changes_nothing(db):
    from rencai.accounts.models import User

    build_city()
    users = User.objects.count()
    c = Client(enforce_csrf_checks=True)
    response = c.post("/accounts/register/person/", {"real_name": "张三"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "<h1>页面已过期</h1>" in page and "刷新后再提交一次" in page
    assert "CSRF" not in page
    assert User.objects.count() == users


@pytest.mark.parametrize(
    ("handler", "status", "heading"),
    [(errors.bad_request, 400, "请求有误"), (errors.permission_denied, 403, "无权访问")],
)
def test_bad_requests_and_refusals_are_chinese_pages(db, handler, status, heading):
    request = RequestFactory().get("/somewhere/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = handler(request)
    assert response.status_code == status and f"<h1>{heading}</h1>" in response.content.decode()


def test_a_server_error_page_needs_nothing_that_may_have_failed():
    """No database here (pytest-django refuses any query without the db fixture): the
    page is rendered without the request's context, which may be what failed."""
    request = RequestFactory().get("/applications/1/")
    response = errors.server_error(request)
    page = response.content.decode()
    assert response.status_code == 500
    assert "<h1>系统出现错误</h1>" in page and "已经提交成功的内容不会丢失" in page
    api = errors.server_error(RequestFactory().get("/api/applications"))
    assert api.status_code == 500 and json.loads(api.content)["code"] == "error"
