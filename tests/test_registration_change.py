"""F61: an HR-service agency registers with its qualifications, and an organisation asks
to change its registration details (注册信息变更); the district HR bureau approves or
rejects. The values in force stay until the approval; every request is kept."""

import re
import textwrap
from types import SimpleNamespace

import pytest

from rencai.accounts.models import User
from rencai.accounts.services import employer_registration_review, find_user_by_identifier
from rencai.audit.models import AuditEntry
from rencai.errors import ServiceError
from rencai.notifications.models import Message
from rencai.orgs import changes
from rencai.orgs.models import Employer, Membership, RegistrationChange
from rencai.programs.loader import load_pack
from rencai.programs.models import Pack
from tests.conftest import PASSWORD, make_credit_code

AGENCY_PACK = """
pack: agency_test
name: 测试人力资源服务机构政策包
categories: [{code: graduate, name: 高校毕业生}]
agency:
  qualifications:
    - {code: hr_licence, name: 人力资源服务许可证}
    - {code: dispatch_licence, name: 劳务派遣经营许可证}
    - {code: overseas, name: 出国劳务资质}
  service_categories:
    - code: recruitment
      name: 招聘服务
      tree:
        - name: 基础条件
          children:
            - name: 经营场所
              children:
                - {code: office, name: 固定经营场所, kind: bool, points: 10}
      grades:
        - {code: A, min_score: 5}
programs:
  - code: agency_test_living
    name: 生活补助
    category: graduate
    applicant: person
    fields:
      - {code: start_month, label: 开始, type: month, required: true}
      - {code: end_month, label: 结束, type: month, required: true}
    period: {start: start_month, end: end_month}
    amount: {kind: per_month, standard: "100"}
    chains:
      - stages:
          - {code: employer, name: 单位审核, actor: employer}
"""

AGENCY_CODE = make_credit_code("91990102MA0000088")
AGENCY_PHONE = "13900000088"
NEW_CODE = make_credit_code("91990102MA0000089")
NEW_PHONE = "13900000089"
PAGE = "/accounts/registration-change/"


@pytest.fixture
def agency_pack(db, tmp_path):
    path = tmp_path / "agency.yaml"
    path.write_text(textwrap.dedent(AGENCY_PACK), encoding="utf-8")
    load_pack(path)
    # this pack's qualifications, not the demo city's (policies/agency.yaml)
    Pack.objects.filter(agency__isnull=False).exclude(code="agency_test").update(active=False)
    return path


def agency_form(city, **overrides):
    data = {
        "name": "示范市青山人力资源服务有限公司",
        "credit_code": AGENCY_CODE,
        "kind": "hr_agency",
        "qualifications": ["overseas", "hr_licence"],
        "licence_number": "(示)人服证字[2026]001号",
        "district": city.dongcheng.pk,
        "contact_name": "周青山",
        "phone": AGENCY_PHONE,
        "sms_code": "",
        "password": "Qingshan#2026",
        "password2": "Qingshan#2026",
        "captcha_0": "k",
        "captcha_1": "PASSED",
        "accept_notice": "on",
    }
    data.update(overrides)
    return data


def register_agency(client, send_code, city, **overrides):
    code = send_code(overrides.get("phone", AGENCY_PHONE), "register")
    return client.post("/accounts/register/agency/", agency_form(city, sms_code=code, **overrides))


@pytest.fixture
def agency(client, city, send_code, agency_pack):
    """A registered HR-service agency the Dongcheng HR bureau approved, and its admin."""
    assert register_agency(client, send_code, city).status_code == 302
    employer = Employer.objects.get(credit_code=AGENCY_CODE)
    employer_registration_review(
        actor=city.district_reviewer, employer_id=employer.pk, approve=True, opinion=""
    )
    employer.refresh_from_db()
    admin = Membership.objects.get(employer=employer, role="employer_admin").user
    return SimpleNamespace(employer=employer, admin=admin)


def change_form(**overrides):
    data = {
        "name": "示范市青山人力资源集团有限公司",
        "credit_code": NEW_CODE,
        "qualifications": ["hr_licence", "dispatch_licence"],
        "licence_number": "(示)人服证字[2026]002号",
        "contact_name": "吴经办",
        "phone": NEW_PHONE,
    }
    data.update(overrides)
    return data


def in_force(employer):
    employer.refresh_from_db()
    return changes.details_in_force(employer)


def test_agency_registers_with_its_qualifications_shown_to_reviewer_and_itself(
    client, city, send_code, agency_pack
):
    page = client.get("/accounts/register/agency/").content.decode()
    assert "资质情况" in page and "出国劳务资质" in page and 'type="checkbox"' in page

    data = agency_form(city, sms_code=send_code(AGENCY_PHONE, "register"))
    response = client.post("/accounts/register/agency/", {**data, "qualifications": []})
    assert "请至少选择一项资质情况" in response.content.decode()
    assert not Employer.objects.filter(credit_code=AGENCY_CODE).exists()

    response = client.post("/accounts/register/agency/", data)
    assert response.status_code == 302
    employer = Employer.objects.get(credit_code=AGENCY_CODE)
    assert employer.qualifications == ["hr_licence", "overseas"]  # in the pack's order
    centre = client.get("/accounts/me/").content.decode()
    assert "人力资源服务许可证" in centre and "出国劳务资质" in centre
    assert "劳务派遣经营许可证" not in centre

    client.force_login(city.district_reviewer)
    review = client.get(f"/staff/employers/{employer.pk}/").content.decode()
    assert "人力资源服务许可证" in review and "出国劳务资质" in review


def test_without_an_agency_pack_the_form_asks_for_no_qualifications(client, city):
    Pack.objects.filter(agency__isnull=False).update(active=False)
    assert "资质情况" not in client.get("/accounts/register/agency/").content.decode()


def test_change_waits_for_the_district_then_applies_and_stays_in_history(client, city, agency):
    before = in_force(agency.employer)
    client.force_login(agency.admin)
    assert "注册信息变更" in client.get("/accounts/me/").content.decode()  # in the menu
    page = client.get(PAGE).content.decode()
    assert "示范市青山人力资源服务有限公司" in page and AGENCY_PHONE in page  # prefilled
    assert "用于接收短信通知及找回密码" in page and "审核通过后才生效" in page

    response = client.post(PAGE, change_form())
    assert response.status_code == 302
    change = RegistrationChange.objects.get(employer=agency.employer)
    assert change.state == "pending" and change.requested_by == agency.admin
    assert change.before == before
    # The old values stay in force, for the organisation and its login.
    assert in_force(agency.employer) == before
    agency.admin.refresh_from_db()
    assert agency.admin.phone == AGENCY_PHONE
    page = client.get(PAGE).content.decode()
    assert "变更申请待审核" in page and "提交变更申请" not in page
    assert "示范市青山人力资源集团有限公司" in page  # the proposal, in the history

    client.force_login(city.district_reviewer)
    assert "1</strong> 件待审核" in client.get("/staff/").content.decode()
    assert "示范市青山人力资源服务有限公司" in client.get("/staff/changes/").content.decode()
    detail = client.get(f"/staff/changes/{change.pk}/").content.decode()
    assert "劳务派遣经营许可证" in detail and "出国劳务资质" in detail  # by name
    assert detail.count('class="changed"') == 6  # every detail changed
    response = client.post(f"/staff/changes/{change.pk}/", {"decision": "approve"})
    assert response.status_code == 302

    change.refresh_from_db()
    assert change.state == "approved" and change.reviewer == city.district_reviewer
    assert change.decided_at is not None
    employer = agency.employer
    employer.refresh_from_db()
    assert employer.name == "示范市青山人力资源集团有限公司"
    assert employer.credit_code == NEW_CODE
    assert employer.qualifications == ["hr_licence", "dispatch_licence"]
    assert employer.licence_number == "(示)人服证字[2026]002号"
    assert (employer.contact_name, employer.phone) == ("吴经办", NEW_PHONE)
    # The handler's phone receives the SMS and password resets from now on, and the
    # organisation logs in with its new credit code.
    agency.admin.refresh_from_db()
    assert agency.admin.phone == NEW_PHONE
    assert find_user_by_identifier(NEW_CODE) == agency.admin
    assert find_user_by_identifier(AGENCY_CODE) is None
    assert Message.objects.filter(user=agency.admin, title="注册信息变更已通过").exists()
    for action in ("employer.change_request", "employer.change_review"):
        assert AuditEntry.objects.filter(action=action, object_id=str(employer.pk)).exists()

    client.force_login(agency.admin)
    page = client.get(PAGE).content.decode()
    assert "审核通过" in page and "示范市青山人力资源服务有限公司" in page  # before → after
    assert "提交变更申请" in page  # a new request is possible again
    assert "人力资源集团" in client.get("/accounts/me/").content.decode()


def test_rejection_needs_an_opinion_and_changes_nothing(client, city, agency):
    before = in_force(agency.employer)
    client.force_login(agency.admin)
    client.post(PAGE, change_form())
    change = RegistrationChange.objects.get(employer=agency.employer)

    client.force_login(city.district_reviewer)
    response = client.post(f"/staff/changes/{change.pk}/", {"decision": "reject", "opinion": ""})
    assert "审核不通过时请填写审核意见" in response.content.decode()
    change.refresh_from_db()
    assert change.state == "pending"

    client.post(
        f"/staff/changes/{change.pk}/", {"decision": "reject", "opinion": "许可证编号与证书不符"}
    )
    change.refresh_from_db()
    assert change.state == "rejected" and change.opinion == "许可证编号与证书不符"
    assert in_force(agency.employer) == before
    agency.admin.refresh_from_db()
    assert agency.admin.phone == AGENCY_PHONE
    note = Message.objects.get(user=agency.admin, title="注册信息变更未通过")
    assert "许可证编号与证书不符" in note.body

    client.force_login(agency.admin)
    page = client.get(PAGE).content.decode()
    assert "审核不通过" in page and "许可证编号与证书不符" in page
    assert "提交变更申请" in page  # may correct and ask again


def test_a_second_request_waits_for_the_first(client, city, agency):
    client.force_login(agency.admin)
    client.post(PAGE, change_form())
    response = client.post(PAGE, change_form(name="示范市另一个名字人力资源有限公司"))
    assert "已有待审核的变更申请" in response.content.decode()
    with pytest.raises(ServiceError, match="已有待审核的变更申请"):
        changes.change_request(actor=agency.admin, data=change_form(contact_name="郑经办"))
    assert RegistrationChange.objects.filter(employer=agency.employer).count() == 1


def test_nothing_changed_is_refused(client, city, agency):
    client.force_login(agency.admin)
    data = {**in_force(agency.employer)}
    response = client.post(PAGE, data)
    assert "未修改任何信息" in response.content.decode()
    assert not RegistrationChange.objects.exists()


def _wrong_check_char(code):
    return code[:-1] + ("0" if code[-1] != "0" else "1")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"credit_code": _wrong_check_char(NEW_CODE)}, "统一社会信用代码校验位不正确"),
        ({"credit_code": NEW_CODE[:17]}, "统一社会信用代码应为18位"),
        ({"phone": "1390000008"}, "请填写11位中国大陆手机号码"),
        ({"phone": "13800000001"}, "该手机号码已被其他账号使用"),  # the demo applicant's
        ({"credit_code": "91990102MA0000001D"}, "已被其他单位或账号使用"),  # the demo employer's
        ({"qualifications": []}, "请至少选择一项资质情况"),
        ({"licence_number": ""}, "许可证编号"),
        ({"contact_name": "吴 经办"}, "中间不能有空格"),
    ],
)
def test_bad_details_are_refused_and_nothing_written(client, city, agency, overrides, message):
    before = in_force(agency.employer)
    client.force_login(agency.admin)
    response = client.post(PAGE, change_form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not RegistrationChange.objects.exists()
    assert in_force(agency.employer) == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"credit_code": _wrong_check_char(NEW_CODE)}, "统一社会信用代码校验位不正确"),
        ({"phone": "12345"}, "请填写11位中国大陆手机号码"),
        ({"qualifications": ["hr_licence", "made_up"]}, "未知的选项"),
    ],
)
def test_the_service_checks_the_details_itself(city, agency, overrides, message):
    with pytest.raises(ServiceError, match=message):
        changes.change_request(actor=agency.admin, data=change_form(**overrides))
    assert not RegistrationChange.objects.exists()


def test_another_districts_reviewer_sees_nothing_and_cannot_decide(client, city, agency):
    client.force_login(agency.admin)
    client.post(PAGE, change_form())
    change = RegistrationChange.objects.get()

    client.force_login(city.outsider_reviewer)
    assert "青山人力资源" not in client.get("/staff/changes/?status=all").content.decode()
    assert client.get(f"/staff/changes/{change.pk}/").status_code == 404
    assert client.get(f"/staff/changes/{change.pk + 1000}/").status_code == 404  # same answer
    assert client.post(f"/staff/changes/{change.pk}/", {"decision": "approve"}).status_code == 404
    with pytest.raises(ServiceError, match="未找到该记录"):
        changes.change_review(
            actor=city.outsider_reviewer, change_id=change.pk, approve=True, opinion=""
        )
    change.refresh_from_db()
    assert change.state == "pending"
    assert agency.employer.name == Employer.objects.get(pk=agency.employer.pk).name

    # Nor may the organisation itself, or an employer admin elsewhere.
    with pytest.raises(ServiceError, match="未找到该记录"):
        changes.change_review(actor=agency.admin, change_id=change.pk, approve=True, opinion="")


def test_a_phone_taken_before_the_approval_is_refused_then(client, city, agency):
    before = in_force(agency.employer)
    client.force_login(agency.admin)
    client.post(PAGE, change_form())
    change = RegistrationChange.objects.get()
    # Someone else registers with that phone while the request waits.
    User.objects.create_user(
        username="newcomer", password=PASSWORD, kind=User.Kind.PERSON, phone=NEW_PHONE
    )

    client.force_login(city.district_reviewer)
    response = client.post(f"/staff/changes/{change.pk}/", {"decision": "approve"})
    assert "该手机号码已被其他账号使用" in response.content.decode()
    change.refresh_from_db()
    assert change.state == "pending"
    assert in_force(agency.employer) == before
    agency.admin.refresh_from_db()
    assert agency.admin.phone == AGENCY_PHONE
    # The bureau rejects it with a reason instead.
    changes.change_review(
        actor=city.district_reviewer,
        change_id=change.pk,
        approve=False,
        opinion="经办人手机已被他人使用，请更换后重新申请",
    )
    assert RegistrationChange.objects.get().state == "rejected"


def test_the_second_decision_on_a_request_is_refused(client, city, agency):
    client.force_login(agency.admin)
    client.post(PAGE, change_form())
    change = RegistrationChange.objects.get()
    changes.change_review(
        actor=city.district_reviewer, change_id=change.pk, approve=True, opinion=""
    )
    with pytest.raises(ServiceError, match="已由他人审核"):
        changes.change_review(
            actor=city.district_reviewer, change_id=change.pk, approve=False, opinion="晚了"
        )
    change.refresh_from_db()
    assert change.state == "approved" and change.opinion == ""


def test_an_employer_changes_its_contact_without_agency_fields(client, city):
    tech, admin = city.tech, city.employer_admin
    old_code = tech.credit_code
    client.force_login(admin)
    page = client.get(PAGE).content.decode()
    assert "资质情况" not in page and "许可证编号" not in page and "联系人手机号码" in page
    response = client.post(
        PAGE,
        {"name": tech.name, "credit_code": old_code, "contact_name": "刘联系", "phone": NEW_PHONE},
    )
    assert response.status_code == 302
    change = RegistrationChange.objects.get(employer=tech)
    assert set(change.after) == {"name", "credit_code", "contact_name", "phone"}

    client.force_login(city.district_reviewer)
    detail = client.get(f"/staff/changes/{change.pk}/").content.decode()
    assert detail.count('class="changed"') == 2  # the contact and the phone
    client.post(f"/staff/changes/{change.pk}/", {"decision": "approve"})
    tech.refresh_from_db()
    admin.refresh_from_db()
    assert (tech.contact_name, tech.phone, tech.credit_code) == ("刘联系", NEW_PHONE, old_code)
    assert admin.phone == NEW_PHONE


def test_only_organisation_accounts_have_the_page(client, city):
    client.force_login(city.applicant)
    assert client.get(PAGE).status_code == 404
    assert "注册信息变更" not in client.get("/accounts/me/").content.decode()
    client.force_login(city.district_reviewer)
    assert client.get(PAGE).status_code == 404


def test_the_reviewer_list_pages_without_a_query_per_row(client, city, agency):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add_changes(n, start):
        for i in range(start, start + n):
            employer = Employer.objects.create(
                name=f"示范市第{i}人力资源公司",
                credit_code=make_credit_code(f"91990102MA000010{i}"),
                kind=Employer.Kind.HR_AGENCY,
                district=city.dongcheng,
                status=Employer.Status.APPROVED,
            )
            in_force_now = changes.details_in_force(employer)
            RegistrationChange.objects.create(
                employer=employer,
                requested_by=agency.admin,
                before=in_force_now,
                after={**in_force_now, "contact_name": "新经办"},
            )

    def list_queries():
        with CaptureQueriesContext(connection) as ctx:
            page = client.get("/staff/changes/").content.decode()
        return len(ctx.captured_queries), len(re.findall(r'href="/staff/changes/\d+/"', page))

    client.force_login(city.district_reviewer)
    client.get("/staff/changes/")  # the first page after signing in saves the session once
    add_changes(1, 0)
    one, rows = list_queries()
    assert rows == 1
    add_changes(5, 1)
    assert list_queries() == (one, 6)


def test_bad_list_and_review_input_gives_a_page_not_an_error(client, city, agency):
    client.force_login(agency.admin)
    client.post(PAGE, change_form())
    change = RegistrationChange.objects.get()

    client.force_login(city.district_reviewer)
    for query in (
        "page=abc",
        "page=-1",
        "page=%C2%B2",
        "page=99999999999999999999999",
        "status=junk",
        "status=%00",
        "q=%E9%9D%92%00%E5%B1%B1",
        "q=" + "青" * 5000,
    ):
        response = client.get(f"/staff/changes/?{query}")
        assert response.status_code == 200, query
    # The search box drops control characters and keeps at most 100 characters.
    page = client.get("/staff/changes/?q=%E9%9D%92%00%E5%B1%B1").content.decode()
    assert "青山人力资源" in page and 'value="青山"' in page
    assert (
        'value="' + "青" * 100 + '"'
        in client.get("/staff/changes/?q=" + "青" * 5000).content.decode()
    )
    assert client.get("/staff/employers/?q=a%00b").status_code == 200
    assert client.get("/staff/changes/99999999999999999999999/").status_code == 404

    url = f"/staff/changes/{change.pk}/"
    for data in (
        {"decision": "maybe"},
        {"decision": "²"},
        {"decision": "\x00"},
        {"decision": "reject", "opinion": "不\x00行"},
        {"decision": "reject", "opinion": "长" * 501},
    ):
        response = client.post(url, data)
        assert response.status_code == 200 and "请修改以下内容后再提交" in response.content.decode()
    change.refresh_from_db()
    assert change.state == "pending"


def test_a_decision_on_a_decided_request_says_so(client, city, agency):
    client.force_login(agency.admin)
    client.post(PAGE, change_form())
    change = RegistrationChange.objects.get()
    changes.change_review(
        actor=city.district_reviewer, change_id=change.pk, approve=True, opinion=""
    )
    client.force_login(city.district_reviewer)
    response = client.post(
        f"/staff/changes/{change.pk}/", {"decision": "reject", "opinion": "晚了"}
    )
    assert response.status_code == 200
    assert "该变更申请已由他人审核" in response.content.decode()
    change.refresh_from_db()
    assert change.state == "approved"


@pytest.mark.parametrize("field", ["name", "licence_number", "contact_name"])
def test_control_characters_are_refused_by_the_form_and_the_service(client, agency, field):
    client.force_login(agency.admin)
    response = client.post(PAGE, change_form(**{field: "青\x00山"}))
    assert response.status_code == 200 and "请修改以下内容后再提交" in response.content.decode()
    with pytest.raises(ServiceError, match="无法识别的字符"):
        changes.change_request(actor=agency.admin, data=change_form(**{field: "青\x01山"}))
    assert not RegistrationChange.objects.exists()


def test_unknown_qualifications_are_refused(client, agency):
    client.force_login(agency.admin)
    for codes in (["²"], ["\x00"], ["hr_licence", "nonsense"]):
        response = client.post(PAGE, change_form(qualifications=codes))
        assert response.status_code == 200 and "资质情况" in response.content.decode()
    assert not RegistrationChange.objects.exists()


def test_the_history_shows_the_latest_requests_only(client, agency, monkeypatch):
    monkeypatch.setattr(changes, "HISTORY_LIMIT", 2)
    in_force_now = changes.details_in_force(agency.employer)
    for i in range(3):
        RegistrationChange.objects.create(
            employer=agency.employer,
            requested_by=agency.admin,
            before=in_force_now,
            after={**in_force_now, "contact_name": f"经办{i}"},
            state="rejected",
        )
    client.force_login(agency.admin)
    page = client.get(PAGE).content.decode()
    assert "仅显示最近 2 条变更记录" in page
    assert "经办2" in page and "经办1" in page and "经办0" not in page
