"""AGENCY (issue 6): grading by indicator tree (F56–F58), results, upgrade and keep-grade
(F59), expiry notices, and the agency's subsidies through the engine (F60), on
policies/agency.yaml."""

import datetime
import hashlib
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from rencai.accounts.models import User
from rencai.agency import scoring
from rencai.agency import services as agency
from rencai.agency.models import AgencyGrade, ScoreAdjustment
from rencai.applications import transitions as t
from rencai.applications.models import Application
from rencai.audit.models import AuditEntry
from rencai.errors import ServiceError
from rencai.notifications.models import Message, SmsMessage
from rencai.orgs.models import Employer, Membership
from rencai.profiles.models import Material
from rencai.programs.models import Program
from tests.conftest import PASSWORD, make_credit_code

S = Application.State
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
FULL = {
    "jp_licence": "yes",
    "jp_years": "6",
    "jp_premises": "200平方米以上",
    "jp_staff": "25",
    "jp_certified": "60%以上",
    "jp_placements": "1200",
    "jp_fairs": "8",
    "jp_no_violation": "yes",
}


def rating_program():
    return Program.objects.get(code="agency_grading")


def placement(program=None):
    return scoring.category_of((program or rating_program()).definition, "job_placement")


@pytest.fixture
def agencies(city):
    city.agency_user = User.objects.get(username="agency_demo")
    city.agency = city.agency_user.own_employer()
    other = Employer.objects.create(
        name="示范市另一家人力资源有限公司",
        credit_code=make_credit_code("91990102MA0000099"),
        kind=Employer.Kind.HR_AGENCY,
        district=city.dongcheng,
        licence_number="（示）人服证字〔2024〕第0102099号",
        status=Employer.Status.APPROVED,
    )
    city.other_user = User.objects.create_user(
        username="other_agency", password=PASSWORD, kind=User.Kind.AGENCY, real_name="吴经办"
    )
    Membership.objects.create(
        user=city.other_user, employer=other, role=Membership.Role.EMPLOYER_ADMIN
    )
    return city


def pdf_upload(name="制度.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def new_rating(user, category="job_placement"):
    return agency.grading_create(
        actor=user, year=timezone.localdate().year, service_category=category, kind="rating"
    )


def fill_all(user, app, answers=FULL):
    for code, value in answers.items():
        app = agency.indicator_save(actor=user, application=app, code=code, value=value)
    return agency.indicator_save(actor=user, application=app, code="jp_rules", upload=pdf_upload())


def graded(city, answers=FULL):
    """A rating of 职业介绍 filled, reported and approved by both bureaus."""
    app = new_rating(city.agency_user, "job_placement")
    app = fill_all(city.agency_user, app, answers)
    t.submit(actor=city.agency_user, application=app, commitment_accepted=True)
    t.approve(actor=city.district_reviewer, application=app)
    t.approve(actor=city.city_reviewer, application=app)
    return Application.objects.get(pk=app.pk)


# --- scoring against the pack, each input kind (F57) -----------------------------------


@pytest.mark.django_db
def test_each_input_kind_scores_as_the_pack_says(agencies):
    category = placement()
    ind = {code: scoring.find_indicator(category, code) for code in FULL | {"jp_rules": 1}}
    # choice: each choice its points
    assert scoring.points_for(ind["jp_premises"], "200平方米以上") == 10
    assert scoring.points_for(ind["jp_premises"], "50至200平方米") == 6
    assert scoring.points_for(ind["jp_premises"], "别的") is None
    # number: the points of the highest band reached
    assert [scoring.points_for(ind["jp_years"], n) for n in (0, 1, 2, 3, 4.5, 5, 30)] == [
        0,
        4,
        4,
        7,
        7,
        10,
        10,
    ]
    assert scoring.points_for(ind["jp_placements"], 499) == 8
    # yes/no: the points for yes, nothing for no, but both count as done
    assert scoring.points_for(ind["jp_licence"], True) == 10
    assert scoring.points_for(ind["jp_licence"], False) == 0
    assert scoring.is_done(ind["jp_licence"], False)
    # attachment: points when a file is attached
    assert scoring.points_for(ind["jp_rules"], 42) == 10
    assert scoring.points_for(ind["jp_rules"], None) is None
    # what the dialog posts is checked
    with pytest.raises(ValueError, match="请填写数字"):
        scoring.parse_answer(ind["jp_years"], "三年")
    with pytest.raises(ValueError, match="不能小于 0"):
        scoring.parse_answer(ind["jp_years"], "-1")
    with pytest.raises(ValueError, match="请选择一项"):
        scoring.parse_answer(ind["jp_premises"], "1000平方米")
    with pytest.raises(ValueError, match="是"):
        scoring.parse_answer(ind["jp_licence"], "maybe")


@pytest.mark.django_db
def test_grades_need_the_score_and_the_must_have_indicators(agencies):
    category = placement()
    answers = {
        "jp_licence": True,
        "jp_years": 6,
        "jp_premises": "200平方米以上",
        "jp_staff": 25,
        "jp_certified": "60%以上",
        "jp_placements": 1200,
        "jp_fairs": 8,
        "jp_no_violation": True,
        "jp_rules": 7,
    }
    full = scoring.score(category, answers)
    assert full.total == 100 and not full.missing
    assert scoring.grade_for(category, full)["code"] == "A"
    # 90 points but the premises (a must-have of A) earn nothing: B, not A
    small = scoring.score(category, {**answers, "jp_premises": "50平方米以下"})
    assert small.total == 90
    assert scoring.grade_for(category, small)["code"] == "B"
    assert scoring.unmet(category, category["grades"][0], small) == ["固定服务场所面积"]
    # no licence: every grade needs it, whatever the score
    unlicensed = scoring.score(category, {**answers, "jp_licence": False})
    assert unlicensed.total == 90 and scoring.grade_for(category, unlicensed) is None
    # exactly on a threshold reaches it; a point below does not
    edge = {
        **answers,
        "jp_premises": "50平方米以下",
        "jp_years": 3,
        "jp_fairs": 2,
        "jp_placements": 100,
        "jp_staff": 5,
    }
    b_edge = scoring.score(category, edge)
    assert b_edge.total == Decimal(65)
    assert scoring.grade_for(category, b_edge)["code"] == "B"
    below = scoring.score(category, {**edge, "jp_years": 1})
    assert below.total == Decimal(62)
    assert scoring.grade_for(category, below)["code"] == "C"
    # a reviewer's adjustment counts instead of the computed points
    adjusted = scoring.score(category, answers, {"jp_placements": Decimal(0)})
    assert adjusted.total == 80 and scoring.grade_for(category, adjusted)["code"] == "A"
    adjusted = scoring.score(category, answers, {"jp_placements": Decimal(0), "jp_fairs": 0})
    assert scoring.grade_for(category, adjusted)["code"] == "B"


# --- the grading walk (F56, F58, F59) ---------------------------------------------------


@pytest.mark.django_db
def test_report_is_refused_until_every_required_indicator_is_done(agencies):
    user = agencies.agency_user
    app = new_rating(user, "job_placement")
    assert app.state == S.DRAFT and app.employer == agencies.agency
    app = agency.indicator_save(actor=user, application=app, code="jp_licence", value="yes")
    with pytest.raises(ServiceError) as exc:
        t.submit(actor=user, application=app, commitment_accepted=True)
    assert "以下 8 项指标未完成" in exc.value.message
    assert "取得许可证年限" in exc.value.message and "持有有效" not in exc.value.message
    app = fill_all(user, app)
    with pytest.raises(ServiceError, match="承诺"):
        t.submit(actor=user, application=app, commitment_accepted=False)
    t.submit(actor=user, application=app, commitment_accepted=True)
    app.refresh_from_db()
    assert app.state == S.SUBMITTED and app.stage_authority.region == agencies.dongcheng


@pytest.mark.django_db
def test_a_bad_answer_changes_nothing(agencies):
    user = agencies.agency_user
    app = new_rating(user, "job_placement")
    app = agency.indicator_save(actor=user, application=app, code="jp_years", value="4")
    version = app.version
    with pytest.raises(ServiceError, match="请填写数字"):
        agency.indicator_save(actor=user, application=app, code="jp_years", value="四年")
    exe = SimpleUploadedFile("制度.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    before = Material.objects.filter(owner=user).count()
    with pytest.raises(ServiceError, match="内容与扩展名"):
        agency.indicator_save(actor=user, application=app, code="jp_rules", upload=exe)
    app.refresh_from_db()
    assert app.version == version and app.data["indicators"] == {"jp_years": 4}
    assert Material.objects.filter(owner=user).count() == before


@pytest.mark.django_db
def test_a_return_is_corrected_and_reported_again_then_graded(agencies):
    user = agencies.agency_user
    app = new_rating(user, "job_placement")
    app = fill_all(user, app, {**FULL, "jp_staff": "3"})
    t.submit(actor=user, application=app, commitment_accepted=True)
    t.return_(
        actor=agencies.district_reviewer, application=app, opinion="专职人员人数与社保名单不符"
    )
    app.refresh_from_db()
    assert app.state == S.RETURNED
    app = agency.indicator_save(actor=user, application=app, code="jp_staff", value="25")
    t.submit(actor=user, application=app, commitment_accepted=True)
    t.approve(actor=agencies.district_reviewer, application=app)
    t.approve(actor=agencies.city_reviewer, application=app)
    grade = AgencyGrade.objects.get(application=app)
    today = timezone.localdate()
    assert (grade.grade, grade.score, grade.kind) == ("A", Decimal(100), "rating")
    assert grade.valid_until == today.replace(year=today.year + 3) - datetime.timedelta(days=1)
    actions = list(app.events.order_by("id").values_list("action", flat=True))
    assert actions == ["create", "submit", "return", "resubmit", "approve", "approve"]


@pytest.mark.django_db
def test_no_grade_reached_cannot_be_approved(agencies):
    user = agencies.agency_user
    app = new_rating(user, "job_placement")
    app = fill_all(user, app, {**FULL, "jp_licence": "no"})
    t.submit(actor=user, application=app, commitment_accepted=True)
    t.approve(actor=agencies.district_reviewer, application=app)
    with pytest.raises(ServiceError, match="未达到任何等级"):
        t.approve(actor=agencies.city_reviewer, application=app)
    app.refresh_from_db()
    assert app.state == S.IN_REVIEW and not AgencyGrade.objects.exists()


@pytest.mark.django_db
def test_reviewer_adjusts_a_score_with_a_reason_and_it_is_audited(agencies, client):
    user = agencies.agency_user
    app = new_rating(user, "job_placement")
    app = fill_all(user, app)
    t.submit(actor=user, application=app, commitment_accepted=True)
    with pytest.raises(ServiceError, match="调整理由"):
        agency.score_adjust(
            actor=agencies.district_reviewer,
            application_id=app.pk,
            indicator="jp_fairs",
            points="5",
            reason=" ",
        )
    with pytest.raises(ServiceError, match="0 至 10"):
        agency.score_adjust(
            actor=agencies.district_reviewer,
            application_id=app.pk,
            indicator="jp_fairs",
            points="11",
            reason="核减",
        )
    from django.http import Http404

    with pytest.raises(Http404):  # another district's reviewer: not found
        agency.score_adjust(
            actor=agencies.outsider_reviewer,
            application_id=app.pk,
            indicator="jp_fairs",
            points="5",
            reason="核减",
        )
    client.force_login(agencies.district_reviewer)
    response = client.post(
        reverse("agency:score_adjust", args=[app.pk]),
        {"indicator": "jp_fairs", "points": "5", "reason": "只核实到3场招聘会"},
    )
    assert response.status_code == 302
    adjustment = ScoreAdjustment.objects.get(application=app)
    assert (adjustment.computed, adjustment.points) == (10, 5)
    entry = AuditEntry.objects.filter(action="agency.score_adjust").latest("id")
    assert entry.summary["after"]["reason"] == "只核实到3场招聘会"
    assert entry.summary["before"]["points"] == "10"
    event = app.events.get(action="score_adjust")  # in the timeline, the agency's too
    assert event.opinion == "上年度举办招聘会场次：10 → 5 分（只核实到3场招聘会）"
    assert event.organisation == str(agencies.district_reviewer.memberships.get().authority)
    page = client.get(reverse("review:application", args=[app.pk])).content.decode()
    assert "95" in page and "只核实到3场招聘会" in page
    t.approve(actor=agencies.district_reviewer, application=app)
    t.approve(actor=agencies.city_reviewer, application=app)
    assert AgencyGrade.objects.get(application=app).score == 95


@pytest.mark.django_db
def test_upgrade_prefills_from_the_last_rating_and_keep_grade_extends_validity(agencies):
    user = agencies.agency_user
    first = graded(agencies, {**FULL, "jp_premises": "50平方米以下"})
    grade = AgencyGrade.objects.get(application=first)
    assert grade.grade == "B"
    upgrade = agency.upgrade_start(actor=user, grade_id=grade.pk)
    assert upgrade.data["grading_kind"] == "upgrade"
    assert upgrade.data["indicators"] == first.data["indicators"]
    assert list(upgrade.attachments.values_list("material_id", flat=True)) == [
        first.data["indicators"]["jp_rules"]
    ]
    with pytest.raises(ServiceError, match="未办结"):
        agency.upgrade_start(actor=user, grade_id=grade.pk)
    upgrade = agency.indicator_save(
        actor=user, application=upgrade, code="jp_premises", value="200平方米以上"
    )
    t.submit(actor=user, application=upgrade, commitment_accepted=True)
    t.approve(actor=agencies.district_reviewer, application=upgrade)
    t.approve(actor=agencies.city_reviewer, application=upgrade)
    grade.refresh_from_db()
    upgraded = AgencyGrade.objects.get(application=upgrade)
    assert grade.state == "superseded" and (upgraded.grade, upgraded.kind) == ("A", "upgrade")
    # keep grade: its own form, its own review; the validity follows on
    keep = Program.objects.get(code="agency_keep_grade")
    report = Material.objects.create(
        owner=user,
        material_type="keep_report",
        original_name="自评.pdf",
        size=len(PDF),
        content_type="application/pdf",
        sha256=hashlib.sha256(PDF).hexdigest(),
        uploaded_at=timezone.now(),
        file=ContentFile(PDF, name="keep.pdf"),
    )
    app = t.draft_save(
        actor=user,
        program=keep,
        data={
            "year": timezone.localdate().year,
            "service_category": "job_placement",
            "served_people": 3000,
            "summary_text": "有效期内服务良好",
            "no_violation": True,
        },
        materials={"keep_report": [report.pk]},
    )
    t.submit(actor=user, application=app, commitment_accepted=True)
    t.approve(actor=agencies.district_reviewer, application=app)
    t.approve(actor=agencies.city_reviewer, application=app)
    kept = AgencyGrade.objects.get(application=app)
    upgraded.refresh_from_db()
    assert (kept.grade, kept.kind, upgraded.state) == ("A", "keep", "superseded")
    assert kept.valid_from == upgraded.valid_until + datetime.timedelta(days=1)


@pytest.mark.django_db
def test_keep_grade_and_upgrade_need_a_grade_in_force(agencies):
    user = agencies.agency_user
    with pytest.raises(ServiceError, match="没有有效的评定等级"):
        agency.grading_create(
            actor=user,
            year=timezone.localdate().year,
            service_category="consulting",
            kind="upgrade",
        )
    app = t.draft_save(
        actor=user,
        program=Program.objects.get(code="agency_keep_grade"),
        data={
            "year": timezone.localdate().year,
            "service_category": "consulting",
            "served_people": 1,
            "summary_text": "无",
            "no_violation": True,
        },
    )
    with pytest.raises(ServiceError, match="没有有效期内的等级"):
        t.submit(actor=user, application=app, commitment_accepted=True)


@pytest.mark.django_db
def test_one_unsettled_grading_per_category_and_a_year_in_range(agencies):
    user = agencies.agency_user
    year = timezone.localdate().year
    agency.grading_create(actor=user, year=year, service_category="job_placement", kind="rating")
    with pytest.raises(ServiceError, match="未办结"):
        agency.grading_create(
            actor=user, year=year, service_category="job_placement", kind="rating"
        )
    with pytest.raises(ServiceError, match="申报年度须在"):
        agency.grading_create(
            actor=user, year=year - 5, service_category="consulting", kind="rating"
        )
    with pytest.raises(ServiceError, match="请选择申报类别"):
        agency.grading_create(actor=user, year=year, service_category="nope", kind="rating")
    assert Application.objects.filter(applicant=user).count() == 1


# --- another agency's gradings: the same "not found" -----------------------------------


@pytest.mark.django_db
def test_an_agency_cannot_see_or_act_on_another_agencys_gradings(agencies, client):
    mine = graded(agencies)
    grade = AgencyGrade.objects.get(application=mine)
    draft = new_rating(agencies.agency_user, "consulting")
    client.force_login(agencies.other_user)
    missing = 999999
    for pk in (draft.pk, missing):
        assert client.get(reverse("agency:grading", args=[pk])).status_code == 404
        assert client.get(reverse("applications:detail", args=[pk])).status_code == 404
        assert (
            client.post(
                reverse("agency:indicator", args=[pk, "hc_licence"]), {"value": "yes"}
            ).status_code
            == 404
        )
        assert (
            client.post(reverse("agency:report", args=[pk]), {"commitment": "on"}).status_code
            == 404
        )
        assert client.post(reverse("agency:delete", args=[pk])).status_code == 404
    for pk in (grade.pk, missing):
        response = client.post(reverse("agency:upgrade", args=[pk]))
        assert response.status_code == 404
    page = client.get(reverse("agency:results")).content.decode()
    assert "职业介绍" not in page
    listing = client.get(reverse("agency:gradings")).content.decode()
    assert "还没有分类分级申报" in listing
    draft.refresh_from_db()
    assert draft.state == S.DRAFT and draft.deleted_at is None and draft.data["indicators"] == {}
    # a person or an employer never reaches the agency pages
    client.force_login(agencies.employer_admin)
    assert client.get(reverse("agency:gradings")).status_code == 404


# --- results and expiry (F59) -----------------------------------------------------------


@pytest.mark.django_db
def test_results_list_and_expired_grade(agencies, client):
    app = graded(agencies)
    grade = AgencyGrade.objects.get(application=app)
    client.force_login(agencies.agency_user)
    page = client.get(reverse("agency:results")).content.decode()
    assert "职业介绍" in page and f"{grade.valid_until:%Y-%m-%d}" in page and "升级" in page
    assert agencies.agency.credit_code in page
    AgencyGrade.objects.filter(pk=grade.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    page = client.get(reverse("agency:results")).content.decode()
    assert "已过期" in page and "升级" not in page.split("<tbody>")[1]


@pytest.mark.django_db
def test_expiry_notice_60_days_before_once(agencies):
    app = graded(agencies)
    grade = AgencyGrade.objects.get(application=app)
    phone = agencies.agency_user.phone
    day_61 = grade.valid_until - datetime.timedelta(days=61)
    assert agency.expiry_notices(today=day_61) == 0
    day_60 = grade.valid_until - datetime.timedelta(days=60)
    assert agency.expiry_notices(today=day_60) == 1
    message = Message.objects.filter(user=agencies.agency_user, title="评定等级即将到期").get()
    assert f"{grade.valid_until}" in message.body and "保级" in message.body
    assert SmsMessage.objects.filter(phone=phone, body__contains="评定等级即将到期").exists()
    assert agency.expiry_notices(today=day_60 + datetime.timedelta(days=1)) == 0
    assert Message.objects.filter(title="评定等级即将到期").count() == 1
    # an expired grade is not announced
    AgencyGrade.objects.filter(pk=grade.pk).update(expiry_notified_at=None)
    assert agency.expiry_notices(today=grade.valid_until + datetime.timedelta(days=1)) == 0


@pytest.mark.django_db
def test_a_rating_is_not_started_or_emptied_outside_its_pages(agencies):
    """The API and the generic form save through draft_save too: a rating cannot be
    created there, and a save without the answers keeps them and the kind."""
    user = agencies.agency_user
    with pytest.raises(ServiceError, match="分类分级申报"):
        t.draft_save(
            actor=user,
            program=rating_program(),
            data={"year": timezone.localdate().year, "service_category": "job_placement"},
        )
    app = new_rating(user, "job_placement")
    app = agency.indicator_save(actor=user, application=app, code="jp_years", value="4")
    app = t.draft_save(
        actor=user,
        application=app,
        data={"year": app.data["year"], "service_category": "job_placement", "grading_kind": "x"},
        seen_version=app.version,
    )
    assert app.data["indicators"] == {"jp_years": 4} and app.data["grading_kind"] == "rating"


@pytest.mark.django_db
def test_administrators_see_the_loaded_indicator_trees(agencies, client):
    from rencai.programs.models import Pack

    pack = Pack.objects.get(code="agency")
    client.force_login(agencies.admin)
    page = client.get(reverse("admin:programs_pack_change", args=[pack.pk])).content.decode()
    assert "职业介绍" in page and "人力资源管理咨询" in page
    assert "取得许可证年限" in page and "≥5年=10" in page
    assert "A级 ≥ 80" in page and "jp_premises" in page
    listing = client.get(reverse("admin:agency_agencygrade_changelist"))
    assert listing.status_code == 200


# --- agency subsidies (F60): the engine with applicant kind "agency" --------------------


def stored_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name, content, message",
    [
        ("备案表.docx", b"PK\x03\x04 not really", "pdf"),
        ("备案表.pdf", b"MZ\x90\x00 an exe", "内容与扩展名"),
        ("备案表.pdf", b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10), "超过了 1 MB"),
        ("备案表.pdf", b"", "空文件"),
    ],
)
def test_an_agency_subsidy_form_must_be_a_real_pdf_within_the_limit(
    agencies, client, settings, tmp_path, name, content, message
):
    settings.MEDIA_ROOT = tmp_path
    settings.RENCAI_MAX_UPLOAD_BYTES = 1024 * 1024
    client.force_login(agencies.agency_user)
    url = reverse("applications:new", args=["agency_conference"])
    before = stored_files(tmp_path)
    response = client.post(
        url,
        {
            "year": timezone.localdate().year,
            "upload_conference_form": SimpleUploadedFile(name, content),
        },
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert stored_files(tmp_path) == before
    assert not Material.objects.filter(owner=agencies.agency_user).exists()
    assert not Application.objects.filter(applicant=agencies.agency_user).exists()
    good = client.post(
        url,
        {"year": timezone.localdate().year, "upload_conference_form": pdf_upload("备案表.pdf")},
    )
    app = Application.objects.get(applicant=agencies.agency_user)
    assert good.status_code == 302 and app.state == S.DRAFT and app.employer == agencies.agency
    material = app.attachments.get().material
    assert material.file.read() == PDF and material.original_name == "备案表.pdf"


@pytest.mark.django_db
def test_the_list_searches_by_year_or_number_and_odd_input_is_harmless(agencies, client):
    year = timezone.localdate().year
    app = new_rating(agencies.agency_user)
    client.force_login(agencies.agency_user)
    listing = reverse("agency:gradings")
    found = client.get(listing, {"q": str(year)}).content.decode()
    assert f'id="grading-{app.pk}"' in found
    for junk in (str(year - 3), "²０２６", "9" * 40):
        page = client.get(listing, {"q": junk})
        assert page.status_code == 200
        assert f'id="grading-{app.pk}"' not in page.content.decode()
    # a NUL is dropped: the whole list shows
    assert f'id="grading-{app.pk}"' in client.get(listing, {"q": "\x00"}).content.decode()
    # 保级 from the create dialog: whatever the category posted, the form opens safely
    response = client.post(
        reverse("agency:grading_create"),
        {"kind": "keep", "service_category": "job_placement&evil=1", "year": year},
    )
    assert response.status_code == 302
    assert "service_category=job_placement%26evil%3D1" in response["Location"]
    assert client.get(response["Location"], follow=True).status_code == 200


@pytest.mark.django_db
def test_an_empty_file_input_is_no_upload(agencies, client, settings, tmp_path):
    """A browser sends an empty upload field when no file is chosen: the draft saves."""
    settings.MEDIA_ROOT = tmp_path
    client.force_login(agencies.agency_user)
    response = client.post(
        reverse("applications:new", args=["agency_conference"]),
        {"year": timezone.localdate().year, "upload_conference_form": ""},
    )
    assert response.status_code == 302
    assert Application.objects.get(applicant=agencies.agency_user).state == S.DRAFT
