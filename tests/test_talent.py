"""TALENT (issue 5): classification A–F (F46), change of classification (F48), 容缺
(F47), category gates and channels (F49, F28), windows and the cut-off date (F27), on
policies/talent.yaml."""

import datetime
import hashlib

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from rencai.accounts.models import User
from rencai.applications import rules
from rencai.applications import transitions as t
from rencai.applications.models import Application, ApplicationGap
from rencai.errors import ServiceError
from rencai.notifications.models import Message, SmsMessage
from rencai.orgs.models import Authority
from rencai.profiles.models import Material, WorkHistory
from rencai.programs.models import Program
from rencai.talent.models import TalentCategory
from rencai.talent.services import current_category
from tests.conftest import PASSWORD

S = Application.State
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(user, material_type):
    material = Material(
        owner=user,
        material_type=material_type,
        original_name=f"{material_type}.pdf",
        size=len(PDF),
        content_type="application/pdf",
        sha256=hashlib.sha256(PDF).hexdigest(),
        uploaded_at=timezone.now(),
    )
    material.file.save(f"materials/{user.pk}/{material_type}.pdf", ContentFile(PDF), save=False)
    material.save()
    return material


def materials_of(user, *types):
    return {
        mt: list(Material.objects.filter(owner=user, material_type=mt).values_list("pk", flat=True))
        for mt in types
    }


def first_contract(user, day):
    WorkHistory.objects.filter(owner=user).delete()
    WorkHistory.objects.create(
        owner=user,
        kind="work",
        organisation_name="示范市星河科技有限公司",
        start_date=day,
        contract_start=day,
        contract_end=day + datetime.timedelta(days=3 * 366),
    )


@pytest.fixture
def talent(city, ready_applicant):
    city.talent_reviewer = User.objects.get(username="talent_reviewer")
    for mt in ("honour_proof", "social_insurance"):
        upload(ready_applicant, mt)
    first_contract(ready_applicant, datetime.date(2023, 3, 1))
    return city


def classify(city, level="f", criteria=("f_graduate",), gaps=None, approve=True, user=None):
    user = user or city.applicant
    app = t.draft_save(
        actor=user,
        program=Program.objects.get(code="talent_classification"),
        data={"talent_level": level, "talent_criteria": list(criteria), "position": "工程师"},
        materials=materials_of(user, "diploma", "labour_contract", "honour_proof")
        if not gaps
        else materials_of(user, "diploma", "labour_contract"),
    )
    app = t.submit(actor=user, application=app, commitment_accepted=True, gaps=gaps)
    if approve:
        app = t.approve(actor=city.employer_admin, application=app)
        app = t.approve(actor=city.talent_reviewer, application=app)
    return app


def living(city, *, gaps=None, start="2024-01", end="2024-06", types=None):
    user = city.applicant
    app = t.draft_save(
        actor=user,
        program=Program.objects.get(code="talent_living"),
        data={"start_month": start, "end_month": end},
        materials=materials_of(
            user, *(types or ("diploma", "labour_contract", "social_insurance"))
        ),
    )
    return t.submit(actor=user, application=app, commitment_accepted=True, gaps=gaps)


# --- F46, F48: classification and change -------------------------------------------------


def test_classification_through_the_review_grants_the_category_for_three_years(talent):
    app = classify(talent)
    assert app.state == S.APPROVED
    category = current_category(talent.applicant)
    assert category.level == "f" and category.level_name == "F类：基础人才"
    assert category.criteria == ["全日制本（专）科毕业生"]
    today = timezone.localdate()
    assert category.valid_from == today
    assert category.valid_until == today.replace(year=today.year + 3) - datetime.timedelta(days=1)
    assert current_category(talent.applicant, category.valid_until) == category
    assert (
        current_category(talent.applicant, category.valid_until + datetime.timedelta(days=1))
        is None
    )
    body = SmsMessage.objects.filter(phone=talent.applicant.phone).order_by("-id").first().body
    assert "审核通过" in body  # SMS at the review node


def test_criteria_must_belong_to_the_chosen_category(talent, client):
    client.force_login(talent.applicant)
    url = reverse("applications:notice", args=["talent_classification"])
    client.get(url)
    page = client.post(
        reverse("applications:new", args=["talent_classification"]),
        {"talent_level": "f", "talent_criteria": ["e_doctor"], "position": "工程师"},
    ).content.decode()
    assert "所选荣誉资质须属于所选的人才分类" in page
    assert not Application.objects.filter(program__code="talent_classification").exists()


def test_a_change_keeps_the_old_category_until_approved(talent):
    classify(talent)
    change = classify(talent, level="e", criteria=("e_master",), approve=False)
    assert current_category(talent.applicant).level == "f"  # still in force while pending
    with pytest.raises(ServiceError) as refused:
        classify(talent, level="e", criteria=("e_doctor",), approve=False)
    assert "正在办理的申请" in refused.value.message  # one change at a time
    change = t.approve(actor=talent.employer_admin, application=change)
    t.approve(actor=talent.talent_reviewer, application=change)
    now = current_category(talent.applicant)
    assert now.level == "e"
    old = TalentCategory.objects.get(person=talent.applicant, level="f")
    assert old.state == TalentCategory.State.SUPERSEDED and "E类" in old.end_reason


def test_a_rejected_change_leaves_the_old_category(talent):
    classify(talent)
    change = classify(talent, level="e", criteria=("e_master",), approve=False)
    t.reject(actor=talent.employer_admin, application=change, opinion="职称证书不符")
    assert current_category(talent.applicant).level == "f"


# --- F49, F28: gates and channels --------------------------------------------------------


def test_programs_gated_by_category_are_refused_with_the_reason(talent):
    with pytest.raises(ServiceError) as refused:
        living(talent)
    assert "要求F类：基础人才及以上人才，当前：尚未认定人才类型" in refused.value.message
    classify(talent)
    assert living(talent).state == S.SUBMITTED


def test_the_entry_page_greys_out_what_the_category_does_not_open(talent, client):
    classify(talent)
    client.force_login(talent.applicant)
    page = client.get(reverse("applications:programs")).content.decode()
    top = page.split("顶尖人才“一事一议”支持")[1].split("</article>")[0]
    assert "暂不可申请" in top and "要求A类：国内外顶尖人才及以上人才" in top
    apartment = page.split("租住人才公寓")[1].split("</article>")[0]
    assert "暂不可申请" not in apartment
    centre = client.get(reverse("talent:centre")).content.decode()
    assert "F类：基础人才" in centre and "变更分类" in centre
    menu = centre.split('class="side-menu"')[1].split("</nav>")[0]
    assert "租住人才公寓" in menu and "英才卡" not in menu  # the menu follows the category


def test_category_f_goes_to_the_city_hr_bureau_e_and_above_to_the_talent_office(talent):
    classify(talent)
    app = t.approve(actor=talent.employer_admin, application=living(talent))
    assert app.stage_authority.kind == Authority.Kind.HR_BUREAU
    assert app.stage_authority.region.level == "city"
    app = t.approve(actor=talent.city_reviewer, application=app)
    assert app.state == S.APPROVED

    e = classify(talent, level="e", criteria=("e_master",), approve=False)
    e = t.approve(actor=talent.employer_admin, application=e)
    t.approve(actor=talent.talent_reviewer, application=e)
    app = t.approve(
        actor=talent.employer_admin, application=living(talent, start="2024-07", end="2024-12")
    )
    assert app.stage_authority.kind == Authority.Kind.TALENT_OFFICE


# --- F27: windows and the cut-off date ---------------------------------------------------


@pytest.mark.parametrize(
    "contract, living_ok, housing_ok",
    [
        (datetime.date(2022, 7, 9), False, True),
        (datetime.date(2022, 7, 10), True, False),
    ],
)
def test_the_first_contract_date_decides_which_subsidy_applies(
    talent, contract, living_ok, housing_ok
):
    classify(talent, level="e", criteria=("e_master",))
    first_contract(talent.applicant, contract)
    for code, expected in (("talent_living", living_ok), ("talent_housing_subsidy", housing_ok)):
        app = t.draft_save(actor=talent.applicant, program=Program.objects.get(code=code), data={})
        result = next(r for r in rules.precheck(app) if r.name == "首次签订劳动合同时间")
        assert result.ok is expected, (code, result.reason)


@pytest.mark.parametrize(
    "day, is_open",
    [("2027-02-28", False), ("2027-03-01", True), ("2027-04-30", True), ("2027-05-01", False)],
)
def test_the_housing_subsidy_opens_in_its_yearly_window(talent, day, is_open):
    app = t.draft_save(
        actor=talent.applicant, program=Program.objects.get(code="talent_housing_subsidy"), data={}
    )
    result = rules.precheck(app, today=datetime.date.fromisoformat(day))[0]
    assert result.code == "opening" and result.ok is is_open
    living_app = t.draft_save(
        actor=talent.applicant, program=Program.objects.get(code="talent_living"), data={}
    )
    assert rules.precheck(living_app, today=datetime.date.fromisoformat(day))[0].ok


# --- F47: 容缺 ---------------------------------------------------------------------------


def gap(material_type="social_insurance", days=30, reason="社保局系统维护，暂时无法打印"):
    return [
        {
            "material_type": material_type,
            "reason": reason,
            "deadline": (timezone.localdate() + datetime.timedelta(days=days)).isoformat(),
        }
    ]


def test_a_missing_material_is_declared_approved_with_supplied_and_cleared(talent):
    classify(talent)
    Material.objects.filter(owner=talent.applicant, material_type="social_insurance").delete()
    with pytest.raises(ServiceError) as refused:
        living(talent, types=("diploma", "labour_contract"))
    assert "缺少材料：截至申报当月（或上月）的社保缴纳记录" in refused.value.message
    app = living(talent, types=("diploma", "labour_contract"), gaps=gap())
    the_gap = app.gaps.get()
    assert the_gap.state == ApplicationGap.State.OPEN
    app = t.approve(actor=talent.employer_admin, application=app)
    app = t.approve(actor=talent.city_reviewer, application=app)  # approved with the gap
    assert app.state == S.APPROVED

    with pytest.raises(ServiceError):  # nothing supplied yet: nothing to clear
        t.gap_clear(actor=talent.city_reviewer, gap_id=the_gap.pk)
    wrong = Material.objects.filter(owner=talent.applicant, material_type="diploma").first()
    with pytest.raises(ServiceError) as refused:
        t.gap_supply(actor=talent.applicant, gap_id=the_gap.pk, material_id=wrong.pk)
    assert "不是“截至申报当月" in refused.value.message
    record = upload(talent.applicant, "social_insurance")
    t.gap_supply(actor=talent.applicant, gap_id=the_gap.pk, material_id=record.pk)
    assert Message.objects.filter(user=talent.city_reviewer, title="容缺材料待审核").exists()
    with pytest.raises(ServiceError):
        t.gap_refuse(actor=talent.city_reviewer, gap_id=the_gap.pk, opinion="")
    t.gap_refuse(actor=talent.city_reviewer, gap_id=the_gap.pk, opinion="缴费记录不清晰")
    t.gap_supply(actor=talent.applicant, gap_id=the_gap.pk, material_id=record.pk)
    with pytest.raises(Exception):  # the employer does not clear gaps
        t.gap_clear(actor=talent.employer_admin, gap_id=the_gap.pk)
    t.gap_clear(actor=talent.city_reviewer, gap_id=the_gap.pk)
    the_gap.refresh_from_db()
    assert (
        the_gap.state == ApplicationGap.State.CLEARED and the_gap.closed_by == talent.city_reviewer
    )
    assert app.attachments.filter(material=record).exists()
    assert t.gaps_expire(today=the_gap.deadline + datetime.timedelta(days=1)) == 0
    app.refresh_from_db()
    assert app.state == S.APPROVED


@pytest.mark.parametrize(
    "declared, message",
    [
        (gap(days=61), "最长60天"),
        (gap(days=0), "补充期限须在今天之后"),
        (gap(reason="  "), "请填写“截至申报当月（或上月）的社保缴纳记录”的容缺原因"),
        (gap(material_type="diploma"), "已上传，不需要容缺"),
        (gap(material_type="passport"), "只有必需材料可以申请容缺"),
    ],
)
def test_a_bad_gap_declaration_is_refused_and_changes_nothing(talent, declared, message):
    classify(talent)
    Material.objects.filter(owner=talent.applicant, material_type="social_insurance").delete()
    with pytest.raises(ServiceError) as refused:
        living(talent, types=("diploma", "labour_contract"), gaps=declared)
    assert message in refused.value.message
    app = Application.objects.get(program__code="talent_living")
    assert app.state == S.DRAFT and not ApplicationGap.objects.exists()


def test_a_missed_deadline_cancels_the_category_and_what_depends_on_it(talent):
    classification = classify(talent, gaps=gap("honour_proof", days=90))
    assert classification.state == S.APPROVED and current_category(talent.applicant)
    subsidy = living(talent)
    apartment_app = Application.objects.filter(pk=subsidy.pk)
    deadline = classification.gaps.get().deadline
    assert t.gaps_expire(today=deadline) == 0  # the deadline day itself is still in time
    assert t.gaps_expire(today=deadline + datetime.timedelta(days=1)) == 1
    assert current_category(talent.applicant) is None
    category = TalentCategory.objects.get(person=talent.applicant)
    assert category.state == TalentCategory.State.CANCELLED and "容缺材料" in category.end_reason
    assert apartment_app.get().state == S.CANCELLED
    classification.refresh_from_db()
    assert classification.state == S.CANCELLED
    assert Message.objects.filter(user=talent.applicant, title="人才类型已取消").exists()
    assert subsidy.events.filter(action="cancel").exists()
    assert t.gaps_expire(today=deadline + datetime.timedelta(days=2)) == 0  # idempotent


def test_the_applicant_supplies_a_gap_on_the_page(talent, client):
    classify(talent, gaps=gap("honour_proof", days=30))
    record = upload(talent.applicant, "honour_proof")
    client.force_login(talent.applicant)
    page = client.get(reverse("applications:gaps")).content.decode()
    assert "荣誉资质证明材料" in page and "待补充" in page
    the_gap = ApplicationGap.objects.get()
    client.post(reverse("applications:gaps"), {"gap": the_gap.pk, "material": record.pk})
    the_gap.refresh_from_db()
    assert the_gap.state == ApplicationGap.State.SUPPLIED
    client.force_login(talent.talent_reviewer)
    review = client.get(reverse("review:application", args=[the_gap.application_id]))
    assert "确认材料，解除容缺" in review.content.decode()
    client.post(
        reverse("review:application_gap", args=[the_gap.application_id, the_gap.pk]),
        {"action": "clear", "opinion": ""},
    )
    the_gap.refresh_from_db()
    assert the_gap.state == ApplicationGap.State.CLEARED


def test_gap_and_material_ids_posted_to_the_gaps_page_must_be_ones_own(talent, client):
    """The gaps page takes two ids from the form: a gap of someone else's answers as a gap
    that does not exist, and a file of someone else's (or garbage) is refused by name;
    nothing changes either way."""
    from rencai.accounts.models import User
    from rencai.applications.models import ApplicationMaterial

    classify(talent, gaps=gap("honour_proof", days=30))
    the_gap = ApplicationGap.objects.get()
    mine = upload(talent.applicant, "honour_proof")
    other = User.objects.create_user(
        username="another_person", password=PASSWORD, kind=User.Kind.PERSON, real_name="王五"
    )
    theirs = upload(other, "honour_proof")
    attached = ApplicationMaterial.objects.count()

    client.force_login(other)
    foreign = client.post(reverse("applications:gaps"), {"gap": the_gap.pk, "material": theirs.pk})
    missing = client.post(reverse("applications:gaps"), {"gap": 10**9, "material": theirs.pk})
    garbage = client.post(reverse("applications:gaps"), {"gap": "1 OR 1=1", "material": "x"})
    assert foreign.status_code == missing.status_code == garbage.status_code == 404
    assert foreign.content == missing.content

    client.force_login(talent.applicant)
    for material in (theirs.pk, "x", ""):
        page = client.post(
            reverse("applications:gaps"), {"gap": the_gap.pk, "material": material}, follow=True
        ).content.decode()
        assert "请选择要补充的材料文件" in page
    the_gap.refresh_from_db()
    assert the_gap.state == ApplicationGap.State.OPEN and the_gap.material_id is None
    assert ApplicationMaterial.objects.count() == attached
    client.post(reverse("applications:gaps"), {"gap": the_gap.pk, "material": mine.pk})
    the_gap.refresh_from_db()
    assert (the_gap.state, the_gap.material_id) == (ApplicationGap.State.SUPPLIED, mine.pk)


def test_a_garbled_version_is_a_stale_page_not_a_server_error(talent):
    app = classify(talent, approve=False)
    with pytest.raises(ServiceError):
        t.approve(actor=talent.employer_admin, application=app, seen_version="abc")


def test_talent_reviewer_exists_in_the_demo(talent):
    assert talent.talent_reviewer.check_password(PASSWORD)


# --- F50: matching agrees with the pre-check (property test) -----------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from rencai.programs.matching import Conditions, match_programs  # noqa: E402


@pytest.fixture
def person_drafts(talent):
    """A draft of every person programme, to pre-check against the person's records."""
    return {
        p.code: t.draft_save(actor=talent.applicant, program=p, data={})
        for p in Program.objects.filter(active=True, applicant_kind="person")
        if p.code not in ("talent_station",)  # its form needs a station from rencai.housing
    }


def _set_records(city, cond: Conditions):
    """Make the applicant's records say what the visitor ticked."""
    from rencai.applications.models import Application as App
    from rencai.profiles.models import Education, HeldQualification, Qualification, School

    user = city.applicant
    Education.objects.filter(owner=user).delete()
    if cond.education:
        Education.objects.create(
            owner=user,
            school=School.objects.order_by("id").first(),
            major="计算机科学与技术",
            level=cond.education,
            graduation_date=datetime.date(2020, 6, 30),
            is_highest=True,
        )
    HeldQualification.objects.filter(owner=user).delete()
    if cond.qualification:
        HeldQualification.objects.create(
            owner=user,
            qualification=Qualification.objects.order_by("id").first(),
            certificate_number="Q1",
            issued_date=datetime.date(2021, 1, 1),
        )
    App.objects.filter(applicant=user).update(employer=city.tech if cond.employed else None)
    TalentCategory.objects.filter(person=user).update(state=TalentCategory.State.CANCELLED)
    if cond.talent_level:
        from rencai.talent.services import level_by_code

        level = level_by_code(cond.talent_level)
        cls = App.objects.filter(program__code="talent_classification").first()
        TalentCategory.objects.filter(application=cls).delete()
        TalentCategory.objects.create(
            person=user,
            level=level["code"],
            level_name=level["name"],
            rank=level["rank"],
            application=cls,
            valid_from=datetime.date(2020, 1, 1),
            valid_until=datetime.date(2099, 1, 1),
        )
    WorkHistory.objects.filter(owner=user).delete()
    if cond.first_contract:
        first_contract(user, cond.first_contract)


conditions = st.builds(
    Conditions,
    education=st.sampled_from(["", "college", "bachelor", "master", "doctor"]),
    qualification=st.booleans(),
    employed=st.booleans(),
    talent_level=st.sampled_from(["", "a", "b", "c", "d", "e", "f"]),
    first_contract=st.one_of(
        st.none(),
        st.sampled_from([datetime.date(2022, 7, 9), datetime.date(2022, 7, 10)]),
        st.dates(datetime.date(2015, 1, 1), datetime.date(2026, 12, 31)),
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cond=conditions)
def test_matching_agrees_with_the_precheck_for_the_same_conditions(talent, person_drafts, cond):
    _set_records(talent, cond)
    day = datetime.date(2026, 3, 15)
    matches = {m.program.code: m for m in match_programs(cond, today=day)}
    for code, draft in person_drafts.items():
        draft = Application.objects.get(pk=draft.pk)
        failed = [
            r.reason
            for r in rules.precheck(draft, today=day)
            if not r.ok and (r.code in rules.FACT_RULES or r.code == "opening")
        ]
        assert matches[code].reasons == failed, code
        assert (matches[code].verdict == "no") == bool(failed), code


# --- F55: the exception list and the attempts history ----------------------------------


def test_the_exception_list_blocks_new_applications_for_a_year_and_not_after(talent):
    from rencai.integrity.services import entry_add

    classify(talent)
    start = datetime.date(2026, 11, 1)
    entry = entry_add(
        actor=talent.admin, person=talent.applicant, reason="虚假申报生活补贴", starts_on=start
    )
    app = t.draft_save(
        actor=talent.applicant,
        program=Program.objects.get(code="talent_living"),
        data={"start_month": "2024-01", "end_month": "2024-03"},
        materials=materials_of(talent.applicant, "diploma", "labour_contract", "social_insurance"),
    )

    def exception(day):
        return next(r for r in rules.precheck(app, today=day) if r.code == "exception_list")

    inside = exception(entry.ends_on - datetime.timedelta(days=1))
    assert not inside.ok and "虚假申报生活补贴" in inside.reason
    assert exception(entry.ends_on).ok
    assert exception(start - datetime.timedelta(days=1)).ok
    with pytest.raises(ServiceError) as refused:
        t.submit(actor=talent.applicant, application=app, commitment_accepted=True)
    assert "异常名单" in refused.value.message
    app.refresh_from_db()
    assert app.state == S.DRAFT


def test_the_program_page_lists_the_attempts(talent, client):
    first = classify(talent, approve=False)
    t.reject(actor=talent.employer_admin, application=first, opinion="荣誉证明不清晰")
    classify(talent)
    client.force_login(talent.applicant)
    page = client.get(reverse("applications:notice", args=["talent_classification"]))
    rows = page.content.decode().split("申请历史记录")[1]
    assert "第1次" in rows and "未通过" in rows and "荣誉证明不清晰" in rows
    assert "第2次" in rows and "通过" in rows


def test_an_approved_station_stay_is_booked_by_the_engine(talent):
    """F51 through the engine: the stay is applied for like any programme; the talent
    office's approval books it (rencai.housing), once."""
    from rencai.housing.models import Station, StationBooking

    station = Station.objects.get(name="江南园林景观酒店")
    app = t.draft_save(
        actor=talent.applicant,
        program=Program.objects.get(code="talent_station"),
        data={"station": str(station.pk), "date_from": "2026-12-01", "date_to": "2026-12-05"},
    )
    app = t.submit(actor=talent.applicant, application=app, commitment_accepted=True)
    assert app.stage_authority.kind == Authority.Kind.TALENT_OFFICE
    t.approve(actor=talent.talent_reviewer, application=app)
    booking = StationBooking.objects.get(application=app)
    assert (booking.station, str(booking.date_from), booking.state) == (
        station,
        "2026-12-01",
        "booked",
    )


def test_a_stay_that_ends_before_it_starts_is_refused_on_the_form(talent, client):
    from rencai.housing.models import Station

    station = Station.objects.get(name="江南园林景观酒店")
    client.force_login(talent.applicant)
    page = client.post(
        reverse("applications:new", args=["talent_station"]),
        {"station": station.pk, "date_from": "2026-12-05", "date_to": "2026-12-01"},
    ).content.decode()
    assert "退房日期不能早于入住日期" in page
    assert not Application.objects.filter(program__code="talent_station").exists()


def test_after_a_cancellation_the_person_may_apply_again(talent, client):
    """A cancelled application is settled: the entry page offers 再次申请, and the attempts
    history counts it as 未通过."""
    classification = classify(talent, gaps=gap("honour_proof", days=10))
    living(talent)
    t.gaps_expire(today=classification.gaps.get().deadline + datetime.timedelta(days=1))
    client.force_login(talent.applicant)
    page = client.get(reverse("applications:programs")).content.decode()
    card = page.split("<h3>人才分类认定</h3>")[1].split("</article>")[0]
    assert "再次申请" in card and "查看我的申报" not in card
    history = client.get(reverse("applications:notice", args=["talent_classification"]))
    rows = history.content.decode().split("申请历史记录")[1]
    assert "已取消" in rows and "未通过" in rows


def test_granting_and_cancelling_a_category_and_declaring_gaps_are_audited(talent):
    from rencai.audit.models import AuditEntry

    classification = classify(talent, gaps=gap("honour_proof", days=10))
    submitted = AuditEntry.objects.get(
        action="application.submit", object_id=str(classification.pk)
    )
    assert submitted.summary["after"]["gaps"][0]["material"] == "honour_proof"
    category = TalentCategory.objects.get(person=talent.applicant)
    granted = AuditEntry.objects.get(action="talent.grant", object_id=str(category.pk))
    assert granted.summary["after"]["level"] == "f"
    t.gaps_expire(today=classification.gaps.get().deadline + datetime.timedelta(days=1))
    cancelled = AuditEntry.objects.get(action="talent.cancel", object_id=str(category.pk))
    assert "容缺材料" in cancelled.summary["after"]["reason"]
