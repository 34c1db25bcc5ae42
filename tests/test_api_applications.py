"""Item 10: the JSON API for programs, the applicant's profile and applications, and the
staff queue and decisions. The graduate living allowance is walked through its whole
chain by the named personas over HTTP; every refusal comes back in the one error shape.
The database is asserted after each write."""

import json

import pytest
from django.test import Client

from rencai.accounts.models import User
from rencai.applications.models import Application, ApplicationEvent, ApplicationMaterial
from rencai.profiles.models import Material
from tests.conftest import PASSWORD, make_id

S = Application.State
DATA = {"start_month": "2024-01", "end_month": "2024-12", "deducted_months": 0, "explanation": "无"}


def api_client(user=None):
    """A client with CSRF enforced, signed in as ``user``, that sends JSON with the token."""
    c = Client(enforce_csrf_checks=True)
    if user is not None:
        c.force_login(user)
    c.get("/api/auth/csrf")

    def send(method, path, data=None, *, token=True):
        extra = {"HTTP_X_CSRFTOKEN": c.cookies["csrftoken"].value} if token else {}
        body = json.dumps(data) if data is not None else ""
        return c.generic(method, path, body, content_type="application/json", **extra)

    c.send = send
    return c


def assert_refusal(response, status, *, code=None, field=None):
    assert response.status_code == status, response.content.decode()
    body = response.json()
    assert set(body) == {"detail", "field", "code"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert body["field"] == field, body
    return body


def materials_of(user, *types):
    return {
        mt: list(Material.objects.filter(owner=user, material_type=mt).values_list("pk", flat=True))
        for mt in types
    }


def other_person(city):
    return User.objects.create_user(
        username="lisi",
        password=PASSWORD,
        kind=User.Kind.PERSON,
        real_name="李四",
        id_type=User.IdType.RESIDENT_ID,
        id_number=make_id("99010219960606002"),
        phone="13900000077",
        employer=city.tech,
    )


def start_draft(client, user, data=None, materials=("diploma", "labour_contract")):
    assert client.get("/api/programs/grad_living").status_code == 200  # reads the notice
    response = client.send(
        "POST",
        "/api/applications",
        {
            "program": "grad_living",
            "data": data if data is not None else DATA,
            "materials": materials_of(user, *materials),
        },
    )
    assert response.status_code == 201, response.content.decode()
    return response.json()


def decide(client, app_id, action, opinion=""):
    app = client.get(f"/api/review/applications/{app_id}").json()
    return client.send(
        "POST",
        f"/api/review/applications/{app_id}/decision",
        {"action": action, "opinion": opinion, "version": app["version"]},
    )


def submitted(ready_applicant):
    applicant = api_client(ready_applicant)
    app = start_draft(applicant, ready_applicant)
    response = applicant.send(
        "POST",
        f"/api/applications/{app['id']}/submit",
        {"commitment_accepted": True, "version": app["version"]},
    )
    assert response.status_code == 200, response.content.decode()
    return applicant, response.json()


def test_graduate_living_allowance_walked_through_the_api(city, ready_applicant):
    applicant = api_client(ready_applicant)

    programs = applicant.get("/api/programs").json()
    assert "grad_living" in {p["code"] for p in programs}
    assert {p["applicant_kind"] for p in programs} == {"person"}
    program = applicant.get("/api/programs/grad_living").json()
    assert program["name"] == "高校毕业生生活补助" and program["commitment"]
    assert [f["code"] for f in program["fields"]] == list(DATA)
    assert {m["type"]: m["required"] for m in program["materials"]} == {
        "diploma": True,
        "degree": False,
        "labour_contract": True,
    }
    assert [s["name"] for s in program["chains"][0]["stages"]] == [
        "单位审核",
        "区县人社部门审核",
        "市人社局审核",
    ]

    # Create the draft (暂存).
    app = start_draft(applicant, ready_applicant)
    row = Application.objects.get(pk=app["id"])
    assert (row.state, row.applicant, row.months, str(row.amount)) == (
        S.DRAFT,
        ready_applicant,
        12,
        "6000.00",
    )
    assert row.data == DATA
    assert (app["state"], app["state_display"], app["amount"], app["months"]) == (
        "draft",
        "暂存",
        "6000.00",
        12,
    )
    assert app["program_code"] == "grad_living" and app["claim_kind"] == "new"
    assert app["materials"] == materials_of(ready_applicant, "diploma", "labour_contract")
    assert ApplicationMaterial.objects.filter(application=row).count() == 2

    # Pre-check: every rule passes.
    check = applicant.get(f"/api/applications/{app['id']}/precheck").json()
    assert check["all_ok"] and check["editable"], check
    assert {"opening", "fields", "period"} <= {r["code"] for r in check["results"]}

    # Submit: without the commitment refused, then accepted.
    no_commitment = applicant.send(
        "POST", f"/api/applications/{app['id']}/submit", {"version": app["version"]}
    )
    assert_refusal(no_commitment, 400, field="commitment")
    assert Application.objects.get(pk=app["id"]).state == S.DRAFT
    response = applicant.send(
        "POST",
        f"/api/applications/{app['id']}/submit",
        {"commitment_accepted": True, "version": app["version"]},
    )
    assert response.status_code == 200, response.content.decode()
    app = response.json()
    row.refresh_from_db()
    assert row.state == S.SUBMITTED and row.stage_employer == city.tech and row.number
    assert (app["state"], app["stage_name"], app["number"]) == ("submitted", "单位审核", row.number)

    # The employer approves through the review API; its queue masks the ID number.
    employer = api_client(city.employer_admin)
    queue = employer.get("/api/review/queue").json()
    item = next(i for i in queue["items"] if i["id"] == app["id"])
    assert item["can_act"] and item["applicant"]["name"] == "张晓明"
    assert item["applicant"]["masked_id_number"] == ready_applicant.masked_id_number
    detail = employer.get(f"/api/review/applications/{app['id']}")
    assert ready_applicant.id_number not in detail.content.decode()
    assert detail.json()["can_act"] and detail.json()["profile"]["real_name"] == "张晓明"
    response = decide(employer, app["id"], "approve", "属实")
    assert response.status_code == 200, response.content.decode()
    assert response.json()["stage_name"] == "区县人社部门审核"
    row.refresh_from_db()
    assert (row.state, row.stage, row.stage_authority.region) == (S.IN_REVIEW, 1, city.dongcheng)
    assert row.last_opinion == "属实"

    # Too late to withdraw once the employer acted.
    version = applicant.get(f"/api/applications/{app['id']}").json()["version"]
    late = applicant.send("POST", f"/api/applications/{app['id']}/withdraw", {"version": version})
    assert "审核已开始" in assert_refusal(late, 409, code="state")["detail"]
    row.refresh_from_db()
    assert row.state == S.IN_REVIEW and row.version == version

    # The district returns with a reason (a reason is required).
    district = api_client(city.district_reviewer)
    assert_refusal(decide(district, app["id"], "return", "  "), 400, field="opinion")
    assert Application.objects.get(pk=app["id"]).state == S.IN_REVIEW
    response = decide(district, app["id"], "return", "请补充劳动合同")
    assert response.status_code == 200, response.content.decode()
    row.refresh_from_db()
    assert row.state == S.RETURNED and row.last_opinion == "请补充劳动合同"

    # The applicant sees the reason, edits and resubmits.
    app = applicant.get(f"/api/applications/{app['id']}").json()
    assert (app["state"], app["last_opinion"], app["editable"]) == (
        "returned",
        "请补充劳动合同",
        True,
    )
    response = applicant.send(
        "PUT",
        f"/api/applications/{app['id']}",
        {
            "data": {**DATA, "end_month": "2024-10"},
            "materials": materials_of(ready_applicant, "diploma", "labour_contract"),
            "version": app["version"],
        },
    )
    assert response.status_code == 200, response.content.decode()
    app = response.json()
    row.refresh_from_db()
    assert (row.state, row.months, row.data["end_month"]) == (S.RETURNED, 10, "2024-10")
    assert app["months"] == 10 and app["amount"] == "5000.00"
    response = applicant.send(
        "POST",
        f"/api/applications/{app['id']}/submit",
        {"commitment_accepted": True, "version": app["version"]},
    )
    assert response.status_code == 200, response.content.decode()
    row.refresh_from_db()
    assert (row.state, row.stage) == (S.IN_REVIEW, 1)  # back at the district

    # District and city approve.
    assert decide(district, app["id"], "approve").status_code == 200
    row.refresh_from_db()
    assert row.stage == 2 and row.stage_authority.region.level == "city"
    city_hr = api_client(city.city_reviewer)
    response = decide(city_hr, app["id"], "approve", "同意拨付")
    assert response.status_code == 200, response.content.decode()
    assert response.json()["state"] == "approved" and response.json()["can_act"] is False
    row.refresh_from_db()
    assert row.state == S.APPROVED and row.decided_at and row.last_opinion == "同意拨付"

    # The timeline has every event.
    timeline = applicant.get(f"/api/applications/{app['id']}/timeline").json()
    assert [e["action"] for e in timeline] == [
        "create",
        "submit",
        "approve",
        "return",
        "resubmit",
        "approve",
        "approve",
    ]
    assert list(ApplicationEvent.objects.filter(application=row).values_list("action", flat=True))
    returned = timeline[3]
    assert (returned["action_display"], returned["opinion"], returned["stage_name"]) == (
        "回退",
        "请补充劳动合同",
        "区县人社部门审核",
    )
    assert timeline[2]["organisation"] == city.tech.name
    mine = applicant.get("/api/applications").json()
    assert mine["count"] == 1 and mine["items"][0]["state_display"] == "审核通过"
    handled = district.get("/api/review/queue?status=handled").json()
    assert [i["id"] for i in handled["items"]] == [app["id"]]


def test_a_bad_month_is_refused_on_its_field_and_nothing_is_created(city, ready_applicant):
    applicant = api_client(ready_applicant)
    applicant.get("/api/programs/grad_living")
    response = applicant.send(
        "POST",
        "/api/applications",
        {"program": "grad_living", "data": {**DATA, "start_month": "2024-13"}},
    )
    body = assert_refusal(response, 400, code="invalid", field="start_month")
    assert "年-月" in body["detail"] and "申请开始时间" in body["detail"]
    # The same rules as the page's form: the end before the start; an unknown field.
    response = applicant.send(
        "POST",
        "/api/applications",
        {"program": "grad_living", "data": {**DATA, "end_month": "2023-12"}},
    )
    assert "不能早于" in assert_refusal(response, 400, field="end_month")["detail"]
    response = applicant.send(
        "POST", "/api/applications", {"program": "grad_living", "data": {"salary": "1"}}
    )
    assert_refusal(response, 400, field="salary")
    # Materials must be the applicant's own, of a type the program asks for.
    stranger = Material.objects.exclude(material_type="diploma").first()
    response = applicant.send(
        "POST",
        "/api/applications",
        {"program": "grad_living", "data": DATA, "materials": {"diploma": [stranger.pk]}},
    )
    assert_refusal(response, 400, field="materials")
    response = applicant.send(
        "POST",
        "/api/applications",
        {"program": "grad_living", "data": DATA, "materials": {"passport": []}},
    )
    assert_refusal(response, 400, field="materials")
    # A request that does not match the schema: 422, same shape.
    response = applicant.send("POST", "/api/applications", {"data": DATA})
    assert_refusal(response, 422, code="malformed", field="program")
    response = applicant.send("POST", "/api/applications", {"program": "nope", "data": DATA})
    assert_refusal(response, 404, field="program")
    assert not Application.objects.exists()


def test_a_draft_is_started_only_after_the_notice_was_read(city, ready_applicant):
    applicant = api_client(ready_applicant)
    response = applicant.send("POST", "/api/applications", {"program": "grad_living", "data": DATA})
    assert "申请须知" in assert_refusal(response, 409, code="notice", field="program")["detail"]
    assert not Application.objects.exists()
    app = start_draft(applicant, ready_applicant, data={"start_month": "2024-01"})
    # Missing fields take the program's defaults, as the blank form shows them.
    assert app["data"] == {"start_month": "2024-01", "deducted_months": 0, "explanation": "无"}


def test_someone_elses_application_is_not_found(city, ready_applicant):
    _applicant, app = submitted(ready_applicant)
    row = Application.objects.get(pk=app["id"])

    stranger = api_client(other_person(city))
    for path in ("", "/precheck", "/timeline"):
        assert_refusal(stranger.get(f"/api/applications/{app['id']}{path}"), 404, code="not_found")
    response = stranger.send(
        "PUT", f"/api/applications/{app['id']}", {"data": DATA, "version": app["version"]}
    )
    assert_refusal(response, 404, code="not_found")
    response = stranger.send(
        "POST", f"/api/applications/{app['id']}/withdraw", {"version": app["version"]}
    )
    assert_refusal(response, 404, code="not_found")
    assert stranger.get("/api/applications").json()["count"] == 0
    # A person is not staff: the review API does not exist for them.
    assert_refusal(stranger.get("/api/review/queue"), 404)
    assert_refusal(stranger.get(f"/api/review/applications/{app['id']}"), 404)

    outsider = api_client(city.outsider_reviewer)
    assert outsider.get("/api/review/queue").json()["count"] == 0
    assert_refusal(outsider.get(f"/api/review/applications/{app['id']}"), 404, code="not_found")
    response = outsider.send(
        "POST",
        f"/api/review/applications/{app['id']}/decision",
        {"action": "reject", "opinion": "不符合", "version": app["version"]},
    )
    assert_refusal(response, 404, code="not_found")
    # The district does not see it before it reaches its stage.
    district = api_client(city.district_reviewer)
    assert_refusal(district.get(f"/api/review/applications/{app['id']}"), 404)
    row.refresh_from_db()
    assert (row.state, row.version) == (S.SUBMITTED, app["version"])
    assert not ApplicationEvent.objects.filter(application=row, action="approve").exists()


def test_a_stale_version_is_refused(city, ready_applicant):
    _applicant, app = submitted(ready_applicant)
    employer = api_client(city.employer_admin)
    seen = employer.get(f"/api/review/applications/{app['id']}").json()["version"]
    ok = employer.send(
        "POST",
        f"/api/review/applications/{app['id']}/decision",
        {"action": "approve", "opinion": "", "version": seen},
    )
    assert ok.status_code == 200 and ok.json()["last_opinion"] == "同意"
    again = employer.send(
        "POST",
        f"/api/review/applications/{app['id']}/decision",
        {"action": "reject", "opinion": "不符合", "version": seen},
    )
    assert "已被他人处理" in assert_refusal(again, 409, code="state")["detail"]
    row = Application.objects.get(pk=app["id"])
    assert row.state == S.IN_REVIEW and row.version == seen + 1
    assert ApplicationEvent.objects.filter(application=row, action="reject").count() == 0


def test_stale_edit_and_withdraw_before_review(city, ready_applicant):
    applicant = api_client(ready_applicant)
    app = start_draft(applicant, ready_applicant)
    response = applicant.send(
        "PUT",
        f"/api/applications/{app['id']}",
        {"data": {**DATA, "end_month": "2024-06"}, "version": app["version"]},
    )
    assert response.status_code == 200 and response.json()["months"] == 6
    stale = applicant.send(
        "PUT",
        f"/api/applications/{app['id']}",
        {"data": {**DATA, "end_month": "2024-03"}, "version": app["version"]},
    )
    assert_refusal(stale, 409, code="state")
    row = Application.objects.get(pk=app["id"])
    assert row.months == 6 and row.data["end_month"] == "2024-06"
    # Materials are kept when omitted.
    assert ApplicationMaterial.objects.filter(application=row).count() == 2

    version = response.json()["version"]
    submitted_app = applicant.send(
        "POST",
        f"/api/applications/{app['id']}/submit",
        {"commitment_accepted": True, "version": version},
    ).json()
    response = applicant.send(
        "POST", f"/api/applications/{app['id']}/withdraw", {"version": submitted_app["version"]}
    )
    assert response.status_code == 200 and response.json()["state"] == "draft"
    row.refresh_from_db()
    assert row.state == S.DRAFT and row.stage_employer is None


def test_ineligible_submission_and_delete_draft(city, ready_applicant):
    applicant = api_client(ready_applicant)
    app = start_draft(applicant, ready_applicant, materials=())
    check = applicant.get(f"/api/applications/{app['id']}/precheck").json()
    assert not check["all_ok"]
    assert not next(r for r in check["results"] if r["code"] == "materials_required")["ok"]
    response = applicant.send(
        "POST",
        f"/api/applications/{app['id']}/submit",
        {"commitment_accepted": True, "version": app["version"]},
    )
    assert "暂不能提交" in assert_refusal(response, 422, code="ineligible")["detail"]
    row = Application.objects.get(pk=app["id"])
    assert row.state == S.DRAFT and row.number is None

    response = applicant.send("DELETE", f"/api/applications/{app['id']}")
    assert response.status_code == 204, response.content.decode()
    row.refresh_from_db()
    assert row.deleted_at is not None
    assert row.events.filter(action="delete").exists()
    assert_refusal(applicant.get(f"/api/applications/{app['id']}"), 404)
    assert applicant.get("/api/applications").json()["count"] == 0


def test_rejected_application_is_applied_for_again(city, ready_applicant):
    applicant, app = submitted(ready_applicant)
    employer = api_client(city.employer_admin)
    assert_refusal(decide(employer, app["id"], "reject"), 400, field="opinion")
    # The review page's form decides what an opinion may be: at most 500 characters.
    assert_refusal(decide(employer, app["id"], "reject", "长" * 501), 400, field="opinion")
    assert Application.objects.get(pk=app["id"]).state == S.SUBMITTED
    assert decide(employer, app["id"], "reject", "不在本单位工作").status_code == 200
    row = Application.objects.get(pk=app["id"])
    assert row.state == S.REJECTED and row.decided_at
    response = applicant.send("POST", f"/api/applications/{app['id']}/reapply")
    assert response.status_code == 201, response.content.decode()
    again = response.json()
    assert (again["state"], again["previous_id"], again["data"]) == ("draft", row.pk, DATA)
    assert Application.objects.get(pk=again["id"]).previous == row
    # Only a rejection can be applied for again.
    response = applicant.send("POST", f"/api/applications/{again['id']}/reapply")
    assert_refusal(response, 409, code="state")
    assert Application.objects.filter(applicant=ready_applicant).count() == 2
    mine = applicant.get("/api/applications?limit=1").json()
    assert mine["count"] == 2 and [i["id"] for i in mine["items"]] == [again["id"]]  # newest
    assert applicant.get("/api/applications?limit=1&offset=1").json()["items"][0]["id"] == row.pk
    assert_refusal(applicant.get("/api/applications?limit=0"), 422, field="limit")


def test_anonymous_gets_401_and_programs_are_public(city, ready_applicant):
    anonymous = api_client()
    for path in ("/api/applications", "/api/me/profile", "/api/review/queue"):
        assert_refusal(anonymous.get(path), 401, code="login_required")
    response = anonymous.send("POST", "/api/applications", {"program": "grad_living", "data": {}})
    assert_refusal(response, 401, code="login_required")
    assert not Application.objects.exists()
    employer_programs = anonymous.get("/api/programs?applicant_kind=employer").json()
    assert {p["applicant_kind"] for p in employer_programs} == {"employer"}
    assert "grad_living" in {p["code"] for p in anonymous.get("/api/programs").json()}
    assert anonymous.get("/api/programs/grad_living").json()["notice"]["text"]
    assert_refusal(anonymous.get("/api/programs/nope"), 404, code="not_found")
    # An employer does not see programs for persons.
    employer = api_client(city.employer_admin)
    assert "grad_living" not in {p["code"] for p in employer.get("/api/programs").json()}
    assert_refusal(employer.get("/api/programs/grad_living"), 404)


def test_writes_need_the_csrf_token(city, ready_applicant):
    applicant = api_client(ready_applicant)
    applicant.get("/api/programs/grad_living")
    response = applicant.send(
        "POST", "/api/applications", {"program": "grad_living", "data": DATA}, token=False
    )
    assert "CSRF" in assert_refusal(response, 403, code="csrf")["detail"]
    assert not Application.objects.exists()


def test_profile_is_for_persons(city, ready_applicant):
    profile = api_client(ready_applicant).get("/api/me/profile")
    assert profile.status_code == 200, profile.content.decode()
    body = profile.json()
    assert body["real_name"] == "张晓明" and body["profile"]["complete"]
    assert body["highest_education"]["level"] == "bachelor"
    assert body["highest_education"]["graduation_date"] == "2020-06-30"
    assert {m["material_type"] for m in body["materials"]} == {
        "diploma",
        "degree",
        "labour_contract",
        "rental_contract",
    }
    assert_refusal(api_client(city.employer_admin).get("/api/me/profile"), 404)
    assert_refusal(api_client(city.district_reviewer).get("/api/me/profile"), 404)


NEW_PATHS = {
    "/api/programs": {"get"},
    "/api/programs/{code}": {"get"},
    "/api/me/profile": {"get"},
    "/api/applications": {"get", "post"},
    "/api/applications/{app_id}": {"get", "put", "delete"},
    "/api/applications/{app_id}/precheck": {"get"},
    "/api/applications/{app_id}/submit": {"post"},
    "/api/applications/{app_id}/withdraw": {"post"},
    "/api/applications/{app_id}/reapply": {"post"},
    "/api/applications/{app_id}/timeline": {"get"},
    "/api/review/queue": {"get"},
    "/api/review/applications/{app_id}": {"get"},
    "/api/review/applications/{app_id}/decision": {"post"},
}


@pytest.mark.parametrize("path", sorted(NEW_PATHS))
def test_openapi_lists_every_new_path_with_its_refusals(client, db, path):
    spec = client.get("/api/openapi.json").json()
    assert set(spec["paths"][path]) == NEW_PATHS[path]
    for method, operation in spec["paths"][path].items():
        assert operation["tags"][0] in {"applications", "programs", "profile", "review"}
        responses = set(operation["responses"])
        assert responses & {"200", "201", "204"}, (method, responses)
        if method != "get":
            assert {"401", "403", "404", "409", "422"} <= responses, (method, responses)
        if operation.get("security"):
            assert "401" in responses
        if "{app_id}" in path or "{code}" in path:
            assert "404" in responses
        for status in responses - {"200", "201", "204"}:
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/Error")


def test_a_page_offset_past_a_64_bit_integer_is_a_422_not_a_server_error(city, ready_applicant):
    """Found by the fuzz (tests/security/test_api_fuzz.py): the database adds offset and
    limit in a 64-bit integer, so a larger offset was a 500."""
    from rencai.api.applications import MAX_OFFSET

    applicant = api_client(ready_applicant)
    district = api_client(city.district_reviewer)
    for client, path in ((applicant, "/api/applications"), (district, "/api/review/queue")):
        for offset in (MAX_OFFSET + 1, 2**63, 2**64):
            response = client.get(f"{path}?offset={offset}&limit=100")
            assert "超出允许范围" in assert_refusal(response, 422, field="offset")["detail"]
        last = client.get(f"{path}?offset={MAX_OFFSET}&limit=100")
        assert last.status_code == 200, last.content.decode()
        assert last.json()["items"] == []


def test_a_program_code_holding_a_slash_is_the_apis_404_not_an_html_page(city, ready_applicant):
    """Found probing what the fuzz checks (every answer of GET /api/programs/{code} is JSON
    of the documented shape): a code with a slash, sent encoded or not, fell outside the
    route and got Django's HTML "Not Found"; with Django's ``path`` converter the fuzz
    then found the same for a line break in the code."""
    applicant = api_client(ready_applicant)
    for path in (
        "/api/programs/grad%2Fliving",
        "/api/programs/grad/living",
        "/api/programs/a/",
        "/api/programs/grad%0Aliving",
        "/api/programs/%0A",
    ):
        assert_refusal(applicant.get(path), 404, code="not_found")
    assert applicant.get("/api/programs/grad_living").status_code == 200
    spec = applicant.get("/api/openapi.json").json()
    assert "/api/programs/{code}" in spec["paths"]


@pytest.mark.parametrize("state", ["to_confirm", "confirmed", "cancelled"])
def test_an_application_in_a_late_state_is_answered_not_a_server_error(
    city, ready_applicant, state
):
    applicant, app = submitted(ready_applicant)
    Application.objects.filter(pk=app["id"]).update(state=state)
    one = applicant.get(f"/api/applications/{app['id']}")
    assert one.status_code == 200 and one.json()["state"] == state
    listed = applicant.get("/api/applications")
    assert listed.status_code == 200
    assert state in {item["state"] for item in listed.json()["items"]}
