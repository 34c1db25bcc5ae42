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
    # The same ID number again, from another phone with a code of its own (a code is used once).
    api.post_json("/api/sms/codes", {"phone": "13900000034", "purpose": "register"})
    again = api.post_json(
        "/api/register/person",
        {
            **payload,
            "phone": "13900000034",
            "sms_code": latest_sms_code("13900000034"),
            **captcha(api),
        },
    )
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


NUL_PAYLOADS = {
    "/api/auth/login": {"identifier": "13800000001", "password": "Rencai@Demo2026"},
    "/api/register/person": {
        "id_number": make_id("99010219950505003"),
        "real_name": "王小川",
        "phone": "13900000031",
        "sms_code": "123456",
        "password": "Xiaochuan#2026",
        "accept_notice": True,
    },
    "/api/register/employer": {
        "name": "示范市远山物流有限公司",
        "credit_code": make_credit_code("91990103MA0000055"),
        "kind": "enterprise",
        "district_code": "990103",
        "contact_name": "远山",
        "phone": "13900000032",
        "sms_code": "123456",
        "password": "Yuanshan#2026",
        "accept_notice": True,
    },
}


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/auth/login", "captcha_key"),
        ("/api/auth/login", "identifier"),
        ("/api/register/person", "sms_code"),
        ("/api/register/employer", "district_code"),
    ],
)
def test_text_holding_a_nul_character_is_a_422_on_its_field_not_a_server_error(
    api, city, path, field
):
    """Found by the fuzz (tests/security/test_api_fuzz.py) on PostgreSQL, which cannot
    compare a text with a NUL in it: these were 500s there."""
    payload = {**NUL_PAYLOADS[path], **captcha(api), field: "99\x000"}
    response = api.post_json(path, payload)
    assert response.status_code == 422, response.content
    assert response.json() == {
        "detail": f"“{field}”不能包含空字符（\\x00）。",
        "field": field,
        "code": "malformed",
    }
    assert api.get("/api/me").status_code == 401
    assert not User.objects.filter(phone__in=["13900000031", "13900000032"]).exists()


def test_every_operation_that_reads_a_body_documents_its_400_and_422(client, city):
    """Found by the fuzz: login, SMS codes and both registrations answered 422 to a body
    that does not fit the schema, and withdraw 400 to one that is not JSON, without the
    schema saying so."""
    spec = client.get("/api/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert {"400", "422"} <= set(operation["responses"]), (method, path)
    applicant = Client(enforce_csrf_checks=True)
    applicant.force_login(city.applicant)
    applicant.get("/api/auth/csrf")
    response = applicant.post(
        "/api/applications/1/withdraw",
        "{not json",
        content_type="application/json",
        HTTP_X_CSRFTOKEN=applicant.cookies["csrftoken"].value,
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "malformed"


@pytest.mark.parametrize(
    ("language", "detail"),
    [("zh-hans", "缺少必填项“identifier”。"), ("en", "“identifier” is required.")],
)
def test_a_schema_refusal_is_said_in_the_callers_language(api, city, language, detail):
    """The schema messages were marked for translation under a name makemessages does not
    know, so an English caller got them in Chinese."""
    api.cookies["django_language"] = language
    response = api.post_json("/api/auth/login", {"password": "x", **captcha(api)})
    assert response.status_code == 422
    assert response.json() == {"detail": detail, "field": "identifier", "code": "malformed"}
