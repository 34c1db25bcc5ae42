"""The applicant's profile (F13–F15): basic information, education, vocational
qualifications, work and study history, the managed lists and the summary the application
engine reads. Each test checks the page, then the database."""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from rencai.accounts.models import User
from rencai.audit.models import AuditEntry
from rencai.profiles.demo import DEMO_QUALIFICATIONS, DEMO_SCHOOLS
from rencai.profiles.models import (
    Education,
    HeldQualification,
    Profile,
    Qualification,
    School,
    WorkHistory,
)
from rencai.profiles.selectors import profile_summary
from tests.conftest import PASSWORD

MAILBOX = "rencai-help@example.gov.cn"


def tomorrow():
    return timezone.localdate() + datetime.timedelta(days=1)


def make_person(username="li_si", **extra):
    return User.objects.create_user(
        username=username,
        password=PASSWORD,
        kind=User.Kind.PERSON,
        real_name="李思",
        gender="F",
        birth_date=datetime.date(1995, 5, 1),
        registration_status=User.RegistrationStatus.APPROVED,
        **extra,
    )


def education_form(school, **overrides):
    data = {
        "school": school.pk,
        "major": "计算机科学与技术",
        "level": "bachelor",
        "degree": "bachelor",
        "graduation_date": "2020-06-30",
        "diploma_number": "100011202005001234",
        "degree_number": "1000142020001234",
    }
    data.update(overrides)
    return data


@pytest.fixture
def applicant_client(client, city):
    client.force_login(city.applicant)
    return client


# --------------------------------------------------------------------------- basic information


def test_basic_page_shows_identity_read_only_and_saves_the_profile(applicant_client, city):
    url = reverse("profiles:basic")
    page = applicant_client.get(url).content.decode()
    assert "张晓明" in page and "1998-03-12" in page and "男" in page
    assert "您还没有填写基本信息" in page
    assert 'name="gender"' not in page and 'name="birth_date"' not in page  # read-only

    response = applicant_client.post(url, {"ethnicity": "01", "party": "", "current_address": ""})
    page = response.content.decode()
    assert response.status_code == 200 and "请修改以下内容后再提交" in page
    assert "政治面貌：这个字段是必须的" in page and "户籍地址：这个字段是必须的" in page
    assert not Profile.objects.filter(user=city.applicant).exists()

    response = applicant_client.post(
        url,
        {
            "ethnicity": "02",
            "party": "03",
            "household_address": "示范省示范市东城区和平路 1 号",
            "current_address": "示范市东城区人民路 88 号 3 单元 501",
            "position": "软件工程师",
        },
        follow=True,
    )
    assert "基本信息已保存。" in response.content.decode()
    profile = Profile.objects.get(user=city.applicant)
    assert (profile.ethnicity, profile.party) == ("02", "03")
    assert profile.household_address == "示范省示范市东城区和平路 1 号"
    assert profile.position == "软件工程师"
    entry = AuditEntry.objects.get(action="profile.update")
    assert entry.actor_id == city.applicant.pk and "household_address" in entry.summary["fields"]
    assert "和平路" not in str(entry.summary)  # the address itself stays out of the log
    page = response.content.decode()
    assert 'value="示范市东城区人民路 88 号 3 单元 501"' in page
    assert "您还没有填写基本信息" not in page


def test_only_persons_have_profile_pages(client, city):
    for name in ["basic", "education", "qualifications", "work", "education_add"]:
        url = reverse(f"profiles:{name}")
        assert client.get(url).status_code == 302  # anonymous: to the login page
        for user in [city.employer_admin, city.district_reviewer, city.admin]:
            client.force_login(user)
            assert client.get(url).status_code == 404, (name, user)
            client.logout()


def test_materials_serve_every_applicant_but_not_staff(client, city):
    """Employers file declarations with materials too (F44): their own materials page
    offers the types their programs ask for; staff have no materials page."""
    url = reverse("profiles:materials")
    client.force_login(city.employer_admin)
    page = client.get(url).content.decode()
    assert "营业执照或法人证书" in page  # from the employer declaration in policies/city.yaml
    for user in [city.district_reviewer, city.admin]:
        client.force_login(user)
        assert client.get(url).status_code == 404


def test_centre_menu_lists_the_profile_pages_for_persons_only(client, city):
    client.force_login(city.applicant)
    page = client.get(reverse("profiles:education")).content.decode()
    for label in ["学历信息", "职业资格", "工作经历", "材料管理"]:
        assert label in page
    assert f'href="{reverse("profiles:education")}" aria-current="page"' in page
    assert f'href="{reverse("profiles:work")}" aria-current' not in page
    client.force_login(city.employer_admin)
    page = client.get(reverse("accounts:info")).content.decode()
    assert "学历信息" not in page and "材料管理" in page


# --------------------------------------------------------------------------- education


def test_education_is_chosen_from_the_school_list_and_says_how_to_ask_for_a_missing_one(
    applicant_client, city
):
    assert "还没有学历信息" in applicant_client.get(reverse("profiles:education")).content.decode()
    page = applicant_client.get(reverse("profiles:education_add")).content.decode()
    assert "北京大学" in page and "列表中找不到学校" in page and MAILBOX in page

    pku = School.objects.get(name="北京大学")
    response = applicant_client.post(
        reverse("profiles:education_add"), education_form(pku, is_highest="on"), follow=True
    )
    assert "已保存。" in response.content.decode()
    edu = Education.objects.get(owner=city.applicant)
    assert (edu.school, edu.level, edu.degree, edu.is_highest) == (
        pku,
        "bachelor",
        "bachelor",
        True,
    )
    assert edu.graduation_date == datetime.date(2020, 6, 30)
    assert edu.degree_number == "1000142020001234"
    page = response.content.decode()
    assert "北京大学" in page and "计算机科学与技术" in page and "最高学历" in page

    # A master's degree marked as highest takes the mark from the bachelor's.
    zju = School.objects.get(name="浙江大学")
    applicant_client.post(
        reverse("profiles:education_add"),
        education_form(
            zju,
            level="master",
            degree="master",
            graduation_date="2023-06-30",
            diploma_number="103351202305000001",
            degree_number="1033542023000001",
            is_highest="on",
        ),
    )
    assert list(
        Education.objects.filter(owner=city.applicant, is_highest=True).values_list(
            "school__name", flat=True
        )
    ) == ["浙江大学"]
    assert AuditEntry.objects.filter(action="education.create").count() == 2


def test_education_dates_and_degree_are_checked_and_nothing_is_saved(applicant_client, city):
    pku = School.objects.get(name="北京大学")
    url = reverse("profiles:education_add")
    cases = [
        ({"graduation_date": tomorrow().isoformat()}, "毕业时间不能晚于今天。"),
        ({"graduation_date": "1990-07-01"}, "毕业时间不能早于您的出生日期（1998-03-12）。"),
        ({"level": "college", "degree": "bachelor"}, "大专学历没有学位，学位请选择“无”。"),
        ({"degree_number": ""}, "有学位的请填写学位证书编号。"),
        ({"diploma_number": ""}, "毕业证书编号：这个字段是必须的"),
    ]
    for overrides, message in cases:
        response = applicant_client.post(url, education_form(pku, **overrides))
        assert response.status_code == 200
        assert message in response.content.decode(), message
    assert not Education.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="education.").exists()


def test_an_inactive_school_is_not_offered_and_not_accepted(applicant_client, city):
    closed = School.objects.create(name="示范市已撤销学院", active=False)
    assert (
        "示范市已撤销学院"
        not in applicant_client.get(reverse("profiles:education_add")).content.decode()
    )
    response = applicant_client.post(reverse("profiles:education_add"), education_form(closed))
    assert "选择一个有效的选项" in response.content.decode()
    assert not Education.objects.exists()


def test_education_edit_and_delete(applicant_client, city):
    pku = School.objects.get(name="北京大学")
    applicant_client.post(reverse("profiles:education_add"), education_form(pku))
    edu = Education.objects.get()
    url = reverse("profiles:education_edit", args=[edu.pk])
    assert 'value="2020-06-30"' in applicant_client.get(url).content.decode()
    applicant_client.post(url, education_form(pku, major="软件工程", degree="none"))
    edu.refresh_from_db()
    assert (edu.major, edu.degree, edu.degree_number) == ("软件工程", "none", "")
    response = applicant_client.post(reverse("profiles:education_delete", args=[edu.pk]))
    assert response.status_code == 302
    assert not Education.objects.exists()
    assert [e.action for e in AuditEntry.objects.filter(action__startswith="education.")] == [
        "education.create",
        "education.update",
        "education.delete",
    ]


def test_someone_elses_records_are_not_found(client, city):
    pku = School.objects.get(name="北京大学")
    client.force_login(city.applicant)
    client.post(reverse("profiles:education_add"), education_form(pku))
    client.post(
        reverse("profiles:qualification_add"),
        {
            "qualification": Qualification.objects.first().pk,
            "certificate_number": "Z1",
            "issued_date": "2021-01-01",
        },
    )
    client.post(
        reverse("profiles:work_add"),
        {"kind": "work", "organisation_name": "某公司", "start_date": "2021-01-01"},
    )
    edu, held, work = (
        Education.objects.get(),
        HeldQualification.objects.get(),
        WorkHistory.objects.get(),
    )
    urls = [
        ("get", reverse("profiles:education_edit", args=[edu.pk])),
        ("post", reverse("profiles:education_delete", args=[edu.pk])),
        ("get", reverse("profiles:qualification_edit", args=[held.pk])),
        ("post", reverse("profiles:qualification_delete", args=[held.pk])),
        ("get", reverse("profiles:work_edit", args=[work.pk])),
        ("post", reverse("profiles:work_delete", args=[work.pk])),
        ("get", reverse("profiles:education_edit", args=[999999])),
    ]
    for user in [make_person(), city.employer_admin, city.district_reviewer]:
        client.force_login(user)
        for method, url in urls:
            assert getattr(client, method)(url).status_code == 404, (user, url)
    # Also a direct POST of changes by the other person leaves the record alone.
    client.force_login(make_person("wang_wu"))
    client.post(
        reverse("profiles:education_edit", args=[edu.pk]), education_form(pku, major="改掉")
    )
    edu.refresh_from_db()
    assert edu.major == "计算机科学与技术"
    assert Education.objects.count() == HeldQualification.objects.count() == 1
    assert WorkHistory.objects.count() == 1


# --------------------------------------------------------------------------- qualifications


def test_qualification_from_the_list_with_checked_dates(applicant_client, city):
    url = reverse("profiles:qualification_add")
    page = applicant_client.get(url).content.decode()
    assert "焊工（三级/高级工）" in page and "列表中找不到职业资格" in page and MAILBOX in page
    welder = Qualification.objects.get(name="焊工", level="3")
    data = {"qualification": welder.pk, "certificate_number": "S000012345", "issued_date": ""}
    for issued, message in [
        (tomorrow().isoformat(), "发证日期不能晚于今天。"),
        ("1997-01-01", "发证日期不能早于您的出生日期（1998-03-12）。"),
    ]:
        response = applicant_client.post(url, {**data, "issued_date": issued})
        assert message in response.content.decode()
    assert not HeldQualification.objects.exists()

    response = applicant_client.post(url, {**data, "issued_date": "2022-09-01"}, follow=True)
    assert "S000012345" in response.content.decode()
    held = HeldQualification.objects.get(owner=city.applicant)
    assert held.qualification == welder and held.issued_date == datetime.date(2022, 9, 1)
    applicant_client.post(reverse("profiles:qualification_delete", args=[held.pk]))
    assert not HeldQualification.objects.exists()
    assert AuditEntry.objects.filter(action="qualification.delete").exists()


# --------------------------------------------------------------------------- work history


def test_work_history_with_employer_district_and_contract(applicant_client, city):
    page = applicant_client.get(reverse("profiles:work")).content.decode()
    assert "还没有工作经历" in page and "还没有学习经历" in page
    url = reverse("profiles:work_add")
    response = applicant_client.post(
        url,
        {
            "kind": "work",
            "employer": city.tech.pk,
            "organisation_name": "",
            "role": "工程师",
            "start_date": "2020-07-01",
            "end_date": "",
            "contract_start": "2020-07-01",
            "contract_end": "2023-06-30",
        },
        follow=True,
    )
    item = WorkHistory.objects.get(owner=city.applicant)
    assert item.organisation_name == "示范市星河科技有限公司"  # taken from the employer
    assert item.district == city.dongcheng and item.end_date is None and item.is_current
    assert (item.contract_start, item.contract_end) == (
        datetime.date(2020, 7, 1),
        datetime.date(2023, 6, 30),
    )
    page = response.content.decode()
    assert "示范市星河科技有限公司" in page and "至今" in page and "东城区" in page


def test_work_history_dates_are_checked_and_nothing_is_saved(applicant_client, city):
    url = reverse("profiles:work_add")
    base = {
        "kind": "work",
        "organisation_name": "示范市某某公司",
        "district": city.xicheng.pk,
        "start_date": "2021-03-01",
    }
    cases = [
        ({"end_date": "2021-02-28"}, "结束日期不能早于开始日期。"),
        ({"start_date": tomorrow().isoformat()}, "开始日期不能晚于今天。"),
        ({"start_date": "1990-01-01"}, "开始日期不能早于您的出生日期（1998-03-12）。"),
        (
            {"contract_start": "2021-03-01", "contract_end": "2020-03-01"},
            "劳动合同结束日期不能早于开始日期。",
        ),
        ({"contract_end": "2024-03-01"}, "请填写劳动合同开始日期。"),
        ({"organisation_name": ""}, "请填写单位名称。"),
        ({"district": city.dongcheng.parent_id}, "选择一个有效的选项"),
    ]
    for overrides, message in cases:
        response = applicant_client.post(url, {**base, **overrides})
        assert message in response.content.decode(), message
    assert not WorkHistory.objects.exists()


def test_study_history_keeps_no_contract(applicant_client, city):
    page = applicant_client.get(reverse("profiles:work_add") + "?kind=study").content.decode()
    assert re.search(r'<input[^>]*value="study"[^>]*checked', page)
    applicant_client.post(
        reverse("profiles:work_add"),
        {
            "kind": "study",
            "organisation_name": "北京大学",
            "role": "计算机科学与技术",
            "start_date": "2016-09-01",
            "end_date": "2020-06-30",
            "contract_start": "2016-09-01",
            "contract_end": "2020-06-30",
        },
    )
    item = WorkHistory.objects.get()
    assert item.kind == "study" and item.contract_start is None and item.contract_end is None
    assert "北京大学" in applicant_client.get(reverse("profiles:work")).content.decode()


# ------------------------------------------------------------------- summary for applications


def test_profile_summary_gives_what_an_application_needs(applicant_client, city):
    assert profile_summary(city.applicant)["highest_education"] is None
    applicant_client.post(
        reverse("profiles:basic"),
        {
            "ethnicity": "01",
            "party": "01",
            "household_address": "示范市东城区一路 1 号",
            "current_address": "示范市东城区二路 2 号",
        },
    )
    pku, zju = School.objects.get(name="北京大学"), School.objects.get(name="浙江大学")
    applicant_client.post(reverse("profiles:education_add"), education_form(pku))
    applicant_client.post(
        reverse("profiles:education_add"),
        education_form(
            zju, level="master", degree="master", graduation_date="2023-06-30", degree_number="M1"
        ),
    )
    applicant_client.post(
        reverse("profiles:qualification_add"),
        {
            "qualification": Qualification.objects.get(name="电工", level="4").pk,
            "certificate_number": "E1",
            "issued_date": "2019-05-01",
        },
    )
    applicant_client.post(
        reverse("profiles:work_add"),
        {"kind": "work", "employer": city.tech.pk, "start_date": "2023-07-01"},
    )
    applicant_client.post(
        reverse("profiles:work_add"),
        {"kind": "study", "organisation_name": "浙江大学", "start_date": "2020-09-01"},
    )
    summary = profile_summary(city.applicant)
    assert summary["real_name"] == "张晓明" and summary["gender"] == "M"
    assert summary["birth_date"] == datetime.date(1998, 3, 12)
    assert summary["employer"] == "示范市星河科技有限公司"
    assert summary["profile"]["complete"] and summary["profile"]["party_display"] == "中共党员"
    highest = summary["highest_education"]
    assert (highest["school"], highest["level"], highest["degree_number"]) == (
        "浙江大学",
        "master",
        "M1",
    )
    assert len(summary["educations"]) == 2
    assert summary["qualifications"][0]["name"] == "电工"
    assert summary["qualifications"][0]["level_display"] == "四级/中级工"
    assert [w["employer_id"] for w in summary["work_history"]] == [city.tech.pk]
    assert summary["work_history"][0]["is_current"]
    assert summary["work_history"][0]["district_id"] == city.dongcheng.pk
    assert [s["organisation_name"] for s in summary["study_history"]] == ["浙江大学"]


# --------------------------------------------------------------------------- managed lists


def test_demo_lists_load_idempotently(city):
    call_command("load_demo", stdout=io.StringIO())
    assert School.objects.count() == len(DEMO_SCHOOLS) >= 12
    assert Qualification.objects.count() == len(DEMO_QUALIFICATIONS)


def test_import_lists_reports_rejected_rows_by_line(db, tmp_path):
    schools = tmp_path / "schools.csv"
    schools.write_text(
        "\ufeffname,code,region,active\n"
        "示范大学,19999,示范省,1\n"
        ",10001,北京市,1\n"  # line 3: no name
        "示范职业技术学院,AB-12,示范省,1\n"  # line 4: bad code
        "示范大学,19998,示范省,1\n"  # line 5: twice
        "示范师范学院,,示范省,否\n"
        "示范理工学院,19997,示范省,maybe\n",  # line 7: bad active
        encoding="utf-8",
    )
    quals = tmp_path / "quals.csv"
    quals.write_text(
        "名称,等级\n电工,四级/中级工\n焊工,高级技师\n钳工,六级\n,三级\n", encoding="utf-8"
    )
    out = io.StringIO()
    call_command("import_lists", schools=str(schools), qualifications=str(quals), stdout=out)
    text = out.getvalue()
    for line in ["line 3 rejected", "line 4 rejected", "line 5 rejected", "line 7 rejected"]:
        assert f"schools.csv {line}" in text, text
    assert "quals.csv line 4 rejected" in text and "quals.csv line 5 rejected" in text
    assert "schools: 2 created, 0 updated, 4 rejected." in text
    assert dict(School.objects.values_list("name", "active")) == {
        "示范大学": True,
        "示范师范学院": False,
    }
    assert School.objects.get(name="示范大学").code == "19999"
    assert set(Qualification.objects.values_list("name", "level")) == {("电工", "4"), ("焊工", "1")}
    assert AuditEntry.objects.filter(action="lists.import_schools").exists()

    out = io.StringIO()
    call_command("import_lists", schools=str(schools), stdout=out)
    assert "schools: 0 created, 2 updated, 4 rejected." in out.getvalue()
    assert School.objects.count() == 2
