"""B4: the JSON API: CSRF-protected session login, registration, who am I."""

import json

import pytest
from django.test import Client

from rencai.accounts.models import User
from rencai.orgs.models import Employer
from tests.conftest import latest_sms_code, make_credit_code, make_id


@pytest.fixture
def api():
    c = Client(enforce_csrf_checks=True)
    c.get("/api/auth/csrf")

    def post(path, data):
        # The token rotates at login: always send the current cookie's value.
        return c.post(
            path,
            json.dumps(data),
            content_type="application/json",
            HTTP_X_CSRFTOKEN=c.cookies["csrftoken"].value,
        )

    c.post_json = post
    return c


def captcha(api):
    response = api.post_json("/api/captcha", {})
    assert response.status_code == 201 and response.json()["image_url"].startswith("/captcha/")
    return {"captcha_key": response.json()["key"], "captcha_value": "PASSED"}


def test_openapi_describes_the_operations_and_their_errors(client, db):
    spec = client.get("/api/openapi.json").json()
    assert {"/api/auth/login", "/api/me", "/api/register/person", "/api/register/employer"} <= set(
        spec["paths"]
    )
    assert {"200", "400", "401", "403"} <= set(
        spec["paths"]["/api/auth/login"]["post"]["responses"]
    )
    docs = client.get("/api/docs").content.decode()
    assert "cdn." not in docs and "/static/ninja/" in docs  # all assets local


def test_login_and_me(api, city):
    assert api.get("/api/me").status_code == 401
    response = api.post_json(
        "/api/auth/login",
        {"identifier": city.applicant.id_number, "password": "Rencai@Demo2026", **captcha(api)},
    )
    assert response.status_code == 200, response.content
    me = api.get("/api/me").json()
    assert me["kind"] == "person" and me["real_name"] == "张晓明"
    assert me["masked_id_number"] != city.applicant.id_number  # never the full number
    assert me["organisation_name"] == "示范市星河科技有限公司"


def test_login_without_csrf_token_refused(city):
    c = Client(enforce_csrf_checks=True)
    response = c.post(
        "/api/auth/login",
        json.dumps(
            {
                "identifier": city.applicant.id_number,
                "password": "Rencai@Demo2026",
                "captcha_key": "x",
                "captcha_value": "PASSED",
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def test_bad_login_answers_401_in_chinese(api, city):
    response = api.post_json(
        "/api/auth/login",
        {"identifier": city.applicant.id_number, "password": "nope", **captcha(api)},
    )
    assert response.status_code == 401 and response.json()["detail"] == "账号或密码错误。"


def test_register_person_through_the_api(api, city):
    assert (
        api.post_json("/api/sms/codes", {"phone": "13900000031", "purpose": "register"}).status_code
        == 202
    )
    payload = {
        "id_number": make_id("99010219950505003").lower(),
        "real_name": "王小川",
        "phone": "13900000031",
        "sms_code": latest_sms_code("13900000031"),
        "password": "Xiaochuan#2026",
        "employer_id": city.tech.pk,
        "accept_notice": True,
        **captcha(api),
    }
    bad = api.post_json("/api/register/person", {**payload, "id_number": "123"})
    assert bad.status_code == 400 and bad.json()["field"] == "id_number"
    assert "18位" in bad.json()["detail"]
    response = api.post_json("/api/register/person", {**payload, **captcha(api)})
    assert response.status_code == 201, response.content
    assert response.json()["registration_status"] == "pending"
    assert User.objects.get(phone="13900000031").id_number.endswith(
        payload["id_number"][-1].upper()
    )
    # While pending, the new account cannot use other operations.
    pending = api.post_json("/api/register/employer", {})
    assert pending.status_code == 403 and pending.json()["code"] == "pending"
    assert api.post_json("/api/auth/logout", {}).status_code == 204
    again = api.post_json("/api/register/person", {**payload, **captcha(api)})
    assert again.status_code == 409 and again.json()["field"] == "id_number"


def test_register_employer_through_the_api(api, city):
    api.post_json("/api/sms/codes", {"phone": "13900000032", "purpose": "register"})
    payload = {
        "name": "示范市远山物流有限公司",
        "credit_code": make_credit_code("91990103MA0000055"),
        "kind": "enterprise",
        "district_code": "990103",
        "contact_name": "远山",
        "phone": "13900000032",
        "sms_code": latest_sms_code("13900000032"),
        "password": "Yuanshan#2026",
        "accept_notice": True,
        **captcha(api),
    }
    response = api.post_json("/api/register/employer", {**payload, "credit_code": "123"})
    assert response.status_code == 400 and response.json()["field"] == "credit_code"
    assert not Employer.objects.filter(name="示范市远山物流有限公司").exists()
    response = api.post_json("/api/register/employer", {**payload, **captcha(api)})
    assert response.status_code == 201, response.content
    assert Employer.objects.get(name="示范市远山物流有限公司").status == "pending"


def test_change_phone_code_needs_a_login_through_the_api_too(api, db):
    response = api.post_json("/api/sms/codes", {"phone": "13900000033", "purpose": "change_phone"})
    assert response.status_code == 401 and response.json()["detail"] == "请先登录。"
    bad = api.post_json("/api/sms/codes", {"phone": "13900000033", "purpose": "other"})
    assert bad.status_code == 400 and bad.json()["field"] == "purpose"
