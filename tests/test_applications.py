"""The program engine (issue 3): the CITY graduate living allowance walked through its
chain by named personas, every transition allowed and refused, the rules (F19, F20, F25,
B2) and F10. The database is asserted after each action."""

import datetime

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rencai.accounts.services import account_close
from rencai.applications import transitions as t
from rencai.applications.models import Application, ApplicationEvent, ApplicationVersion
from rencai.audit.models import AuditEntry
from rencai.errors import ServiceError
from rencai.notifications.models import Message, SmsMessage
from rencai.orgs.models import Employer, Membership
from rencai.profiles.models import Material
from rencai.programs.models import Program
from tests.conftest import PASSWORD

S = Application.State
TODAY = datetime.date(2026, 11, 23)


def living(applicant, start="2024-01", end="2024-12", deducted=0, explanation="无"):
    program = Program.objects.get(code="grad_living")
    materials = {
        mt: list(
            Material.objects.filter(owner=applicant, material_type=mt).values_list("pk", flat=True)
        )
        for mt in ("diploma", "labour_contract")
    }
    return t.draft_save(
        actor=applicant,
        program=program,
        data={
            "start_month": start,
            "end_month": end,
            "deducted_months": deducted,
            "explanation": explanation,
        },
        materials=materials,
    )


def submit(app):
    return t.submit(actor=app.applicant, application=app, commitment_accepted=True, today=TODAY)


def reload(app):
    return Application.objects.get(pk=app.pk)


def test_city_pack_is_loaded_with_its_seven_programs_and_the_employer_declaration(city):
    programs = dict(Program.objects.filter(pack__code="city").values_list("code", "applicant_kind"))
    assert len([k for k in programs.values() if k == "person"]) == 7
    assert programs["employer_declaration"] == "employer"
    assert Program.objects.get(code="industry_living").definition["notice"]["min_seconds"] == 30


def test_graduate_living_allowance_walk_with_withdraw_return_and_resubmit(city, ready_applicant):
    app = living(ready_applicant)
    assert (app.state, app.months, str(app.amount)) == (
        S.DRAFT,
        12,
        "6000.00",
    )  # 12 × 500 (bachelor)
    assert app.claim_kind == Application.ClaimKind.NEW

    app = submit(app)
    assert app.state == S.SUBMITTED and app.stage_employer == city.tech and app.number
    assert Message.objects.filter(user=city.employer_admin, title__contains="待审核").exists()

    # F31: withdrawn before anyone acted → back to draft, then submitted again.
    t.withdraw(actor=ready_applicant, application=app)
    app = reload(app)
    assert app.state == S.DRAFT and app.stage_employer is None
    app = submit(app)

    app = t.approve(actor=city.employer_admin, application=app, opinion="属实")
    assert (app.state, app.stage, app.stage_authority.region) == (S.IN_REVIEW, 1, city.dongcheng)
    with pytest.raises(ServiceError, match="审核已开始，不能撤回"):
        t.withdraw(actor=ready_applicant, application=app)

    # F32: the district returns with a reason; the applicant edits and resubmits to it.
    with pytest.raises(ServiceError, match="回退原因"):
        t.return_(actor=city.district_reviewer, application=app, opinion="  ")
    app = t.return_(actor=city.district_reviewer, application=app, opinion="请补充劳动合同")
    assert app.state == S.RETURNED and app.last_opinion == "请补充劳动合同"
    assert Message.objects.filter(user=ready_applicant, body__contains="请补充劳动合同").exists()
    app = t.draft_save(
        actor=ready_applicant,
        application=app,
        data={**app.data, "end_month": "2024-10"},
        materials={
            "diploma": [
                Material.objects.filter(owner=ready_applicant, material_type="diploma").get().pk
            ],
            "labour_contract": [
                Material.objects.filter(owner=ready_applicant, material_type="labour_contract")
                .get()
                .pk
            ],
        },
    )
    app = submit(app)
    assert (app.state, app.stage, app.months) == (S.IN_REVIEW, 1, 10)  # back at the district

    app = t.approve(actor=city.district_reviewer, application=app)
    assert app.stage_authority.region.level == "city"
    app = t.approve(actor=city.city_reviewer, application=app, opinion="同意拨付")
    assert app.state == S.APPROVED and app.decided_at

    actions = list(app.events.values_list("action", flat=True))
    assert actions == [
        "create",
        "submit",
        "withdraw",
        "submit",
        "approve",
        "return",
        "resubmit",
        "approve",
        "approve",
    ]
    approve = app.events.filter(action="approve").first()
    assert (approve.organisation, approve.actor_org_employer) == (city.tech.name, city.tech)
    assert ApplicationVersion.objects.filter(application=app, reason="submitted").count() == 3
    assert (
        AuditEntry.objects.filter(action="application.approve", object_id=str(app.pk)).count() == 3
    )
    assert SmsMessage.objects.filter(phone=ready_applicant.phone, purpose="notice").count() >= 5


@pytest.mark.parametrize("persona", ["outsider_reviewer", "finance_officer", "city_reviewer"])
def test_reviewers_outside_the_stage_cannot_act_or_see(city, ready_applicant, persona):
    app = submit(living(ready_applicant))
    actor = getattr(city, persona)
    with pytest.raises(Http404):
        t.approve(actor=actor, application=app)
    from rencai.applications.access import application_for_staff

    with pytest.raises(Http404):
        application_for_staff(actor, app.pk)
    assert reload(app).state == S.SUBMITTED and reload(app).version == app.version


def test_another_employer_and_another_applicant_get_not_found(city, ready_applicant, client):
    app = submit(living(ready_applicant))
    hospital_admin = Membership.objects.filter(employer=city.hospital).first()
    other = hospital_admin.user if hospital_admin else None
    if other is None:
        from rencai.accounts.models import User

        other = User.objects.create_user(
            username="hospital_admin", password=PASSWORD, kind="employer"
        )
        Membership.objects.create(
            user=other, employer=city.hospital, role=Membership.Role.EMPLOYER_ADMIN
        )
    with pytest.raises(Http404):
        t.reject(actor=other, application=app, opinion="x")
    client.force_login(other)
    assert client.get(reverse("review:application", args=[app.pk])).status_code == 404
    assert client.get(reverse("applications:pdf", args=[app.pk])).status_code == 404
    client.force_login(city.district_reviewer)  # not yet at the district's stage
    assert client.get(reverse("review:application", args=[app.pk])).status_code == 404
    client.force_login(city.employer_admin)
    assert client.get(reverse("applications:detail", args=[app.pk])).status_code == 404
    with pytest.raises(Http404):
        t.withdraw(actor=city.employer_admin, application=app)


def test_two_reviewers_cannot_both_act_stale_version_is_refused(city, ready_applicant):
    app = submit(living(ready_applicant))
    seen = app.version
    t.approve(actor=city.employer_admin, application=app, seen_version=seen)
    with pytest.raises(ServiceError, match="已被他人处理"):
        t.reject(actor=city.employer_admin, application=app, opinion="不符合", seen_version=seen)
    assert reload(app).state == S.IN_REVIEW
    assert (
        ApplicationEvent.objects.filter(application=app, action__in=["approve", "reject"]).count()
        == 1
    )


def test_reject_is_final_and_apply_again_links_a_new_draft(city, ready_applicant):
    app = submit(living(ready_applicant))
    with pytest.raises(ServiceError, match="填写原因"):
        t.reject(actor=city.employer_admin, application=app, opinion="")
    app = t.reject(actor=city.employer_admin, application=app, opinion="不在本单位工作")
    with pytest.raises(ServiceError):
        t.approve(actor=city.employer_admin, application=app)
    with pytest.raises(ServiceError, match="不能提交"):
        submit(app)
    again = t.apply_again(actor=ready_applicant, application=app)
    assert again.state == S.DRAFT and again.previous == app and again.data == app.data
    assert again.attachments.count() == app.attachments.count() == 2


def test_draft_delete_keeps_the_deleted_version_and_only_drafts_can_be_deleted(
    city, ready_applicant
):
    app = living(ready_applicant)
    t.draft_delete(actor=ready_applicant, application=app)
    app = reload(app)
    assert app.deleted_at and app.versions.filter(reason="deleted").exists()
    second = submit(living(ready_applicant))
    with pytest.raises(ServiceError, match="只有暂存"):
        t.draft_delete(actor=ready_applicant, application=second)
    # and the database holds to it: the review queues count without a deleted_at test
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=second.pk).update(deleted_at=timezone.now())
    assert reload(second).deleted_at is None


def test_overlapping_months_are_refused_with_the_clashing_application(city, ready_applicant):
    first = submit(living(ready_applicant, "2024-01", "2024-06"))
    second = living(ready_applicant, "2024-06", "2024-09")
    with pytest.raises(ServiceError) as exc:
        submit(second)
    assert "申请月份与以下申请重复" in exc.value.message and first.number in exc.value.message
    assert reload(second).state == S.DRAFT
    third = submit(living(ready_applicant, "2024-07", "2024-09"))
    assert third.state == S.SUBMITTED


def test_rejected_claims_do_not_block_the_same_months(city, ready_applicant):
    first = submit(living(ready_applicant, "2024-01", "2024-06"))
    t.reject(actor=city.employer_admin, application=first, opinion="材料不清晰")
    assert submit(living(ready_applicant, "2024-01", "2024-06")).state == S.SUBMITTED


def test_deducted_months_need_an_explanation(city, ready_applicant):
    app = living(ready_applicant, deducted=2, explanation="无")
    with pytest.raises(ServiceError, match="情况说明"):
        submit(app)
    app = t.draft_save(
        actor=ready_applicant,
        application=reload(app),
        data={**app.data, "explanation": "2024年3-4月在外地培训"},
    )
    assert app.months == 10 and submit(app).state == S.SUBMITTED


def test_lifetime_cap_of_36_months(city, ready_applicant):
    submit(living(ready_applicant, "2021-01", "2023-12"))  # 36 months
    with pytest.raises(ServiceError, match="累计可申请36个月，已申请36个月，本次1个月"):
        submit(living(ready_applicant, "2024-01", "2024-01"))


def test_renewal_and_the_nth_upgrade_come_from_history(city, ready_applicant):
    first = submit(living(ready_applicant, "2023-01", "2023-12"))
    for reviewer in (city.employer_admin, city.district_reviewer, city.city_reviewer):
        first = t.approve(actor=reviewer, application=first)
    second = living(ready_applicant, "2024-01", "2024-06")
    assert second.claim_kind == Application.ClaimKind.RENEWAL

    program = Program.objects.get(code="local_degree")
    material = Material.objects.filter(owner=ready_applicant, material_type="diploma").first()
    data = {"before_level": "本科", "after_level": "硕士研究生", "obtained_on": "2024-06-30"}
    one = t.draft_save(
        actor=ready_applicant, program=program, data=data, materials={"diploma": [material.pk]}
    )
    assert one.upgrade_number == 1
    one = submit(one)
    for reviewer in (city.employer_admin, city.district_reviewer, city.city_reviewer):
        one = t.approve(actor=reviewer, application=one)
    two = t.draft_save(
        actor=ready_applicant, program=program, data=data, materials={"diploma": [material.pk]}
    )
    assert two.upgrade_number == 2
    two = submit(two)
    for reviewer in (city.employer_admin, city.district_reviewer, city.city_reviewer):
        two = t.approve(actor=reviewer, application=two)
    three = t.draft_save(
        actor=ready_applicant, program=program, data=data, materials={"diploma": [material.pk]}
    )
    with pytest.raises(ServiceError, match="最多申请2次"):
        submit(three)


def test_missing_profile_material_and_employer_are_explained_before_submission(
    city, ready_applicant
):
    from rencai.applications.rules import precheck
    from rencai.profiles.models import Education

    Education.objects.filter(owner=ready_applicant).delete()
    Employer.objects.filter(pk=city.tech.pk).update(status=Employer.Status.PENDING)
    app = t.draft_save(
        actor=ready_applicant,
        program=Program.objects.get(code="grad_living"),
        data={},
        materials={},
    )
    failed = {r.code: r.reason for r in precheck(app, today=TODAY) if not r.ok}
    assert "请先在“个人情况”中填写基本信息和学历信息" in failed["profile_required"]
    assert "申请开始时间" in failed["fields"] and "毕业证书" in failed["materials_required"]
    assert "所在单位尚未通过" in failed["employer_required"]
    with pytest.raises(ServiceError, match="暂不能提交"):
        submit(app)
    assert reload(app).state == S.DRAFT and not app.events.filter(action="submit").exists()


def test_commitment_must_be_accepted(city, ready_applicant):
    app = living(ready_applicant)
    with pytest.raises(ServiceError, match="承诺"):
        t.submit(actor=ready_applicant, application=app, commitment_accepted=False, today=TODAY)
    assert reload(app).state == S.DRAFT


def test_closing_the_account_is_refused_while_an_application_is_in_review_or_approved(
    city, ready_applicant
):
    app = submit(living(ready_applicant))
    with pytest.raises(ServiceError, match="存在审核通过或正在审核中的申报"):
        account_close(user=ready_applicant, password=PASSWORD)
    t.reject(actor=city.employer_admin, application=app, opinion="不符合")
    account_close(user=ready_applicant, password=PASSWORD)
    ready_applicant.refresh_from_db()
    assert ready_applicant.closed_at is not None


def test_employer_declaration_goes_to_the_district_hr_bureau(city, settings, tmp_path):
    import hashlib

    from django.core.files.base import ContentFile
    from django.utils import timezone

    settings.MEDIA_ROOT = tmp_path
    pdf = b"%PDF-1.4\n%%EOF\n"
    licence = Material(
        owner=city.employer_admin,
        material_type="business_licence",
        original_name="执照.pdf",
        size=len(pdf),
        content_type="application/pdf",
        sha256=hashlib.sha256(pdf).hexdigest(),
        uploaded_at=timezone.now(),
    )
    licence.file.save("materials/x/licence.pdf", ContentFile(pdf), save=False)
    licence.save()
    app = t.draft_save(
        actor=city.employer_admin,
        program=Program.objects.get(code="employer_declaration"),
        data={
            "staff_count": 120,
            "graduates_hired": 8,
            "handler": "王经理",
            "handler_phone": "13800000002",
        },
        materials={"business_licence": [licence.pk]},
    )
    app = t.submit(
        actor=city.employer_admin, application=app, commitment_accepted=True, today=TODAY
    )
    assert app.stage_authority.region == city.dongcheng and app.employer == city.tech
    with pytest.raises(Http404):
        t.approve(actor=city.outsider_reviewer, application=app)
    assert t.approve(actor=city.district_reviewer, application=app).state == S.APPROVED


def test_industry_chains_follow_where_the_employer_is(city, ready_applicant):
    from rencai.accounts.models import User

    program = Program.objects.get(code="industry_living")
    material_ids = {
        mt: list(
            Material.objects.filter(owner=ready_applicant, material_type=mt).values_list(
                "pk", flat=True
            )
        )
        for mt in ("diploma", "labour_contract")
    }
    data = {
        "start_month": "2025-01",
        "end_month": "2025-06",
        "industry_field": "新材料",
        "introduced_on": "2024-12-01",
    }
    app = t.draft_save(actor=ready_applicant, program=program, data=data, materials=material_ids)
    app = submit(app)
    app = t.approve(actor=city.employer_admin, application=app)
    assert app.stage_authority.region == city.dongcheng  # district chain: district HR first
    app = t.return_(actor=city.district_reviewer, application=app, opinion="单位公章不清晰")
    app = submit(app)
    assert app.stage == 0 and app.stage_employer == city.tech  # INDUSTRY resubmits from the start
    app = t.approve(actor=city.employer_admin, application=app)
    app = t.approve(actor=city.district_reviewer, application=app)
    assert app.stage_authority.kind == "expert_centre"
    expert = User.objects.get(username="expert_reviewer")
    assert t.approve(actor=expert, application=app).state == S.APPROVED

    park_firm = Employer.objects.get(park__isnull=False)
    User.objects.filter(pk=ready_applicant.pk).update(employer=park_firm)
    ready_applicant.refresh_from_db()
    other = t.draft_save(
        actor=ready_applicant,
        program=program,
        data={**data, "start_month": "2025-07", "end_month": "2025-08"},
        materials=material_ids,
    )
    other = submit(other)
    park_admin = User.objects.create_user(
        username="park_firm_admin", password=PASSWORD, kind="employer"
    )
    Membership.objects.create(
        user=park_admin, employer=park_firm, role=Membership.Role.EMPLOYER_ADMIN
    )
    other = t.approve(actor=park_admin, application=other)
    assert other.stage_authority.kind == "park_office"


def test_queue_and_list_pages_use_a_fixed_number_of_queries(
    city, ready_applicant, client, settings
):
    """Issue 7: the reviewer queue and 我的申报 take at most 10 queries, however long
    the list (the city settings cached as in production)."""
    settings.RENCAI_CITY_CACHE_SECONDS = 300

    def count(url, user):
        client.force_login(user)
        client.get(url)  # the first page after signing in saves the session once
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    submit(living(ready_applicant, "2020-01", "2020-02"))
    queue, mine = reverse("review:applications"), reverse("applications:mine")
    few = (count(queue, city.employer_admin), count(mine, ready_applicant))
    for year in range(2010, 2018):
        submit(living(ready_applicant, f"{year}-01", f"{year}-02"))
    many = (count(queue, city.employer_admin), count(mine, ready_applicant))
    assert many == few and max(many) <= 10, many


def test_every_page_of_the_walk_answers_and_reviewers_open_attached_materials(
    city, ready_applicant, client
):
    """Applicant pages, the PDF, the employer's queue and review form; the employer (a
    reviewer of the application) may open its material, a reviewer elsewhere may not."""
    app = submit(living(ready_applicant))
    draft = living(ready_applicant, "2025-01", "2025-03")
    client.force_login(ready_applicant)
    for url in [
        reverse("applications:programs"),
        reverse("applications:notice", args=["grad_living"]),
        reverse("applications:new", args=["grad_living"]),
        reverse("applications:detail", args=[app.pk]),
        reverse("applications:detail", args=[draft.pk]),
        reverse("applications:check", args=[draft.pk]),
        reverse("applications:mine"),
        reverse("applications:records"),
        reverse("applications:history", args=[app.pk]),
        reverse("applications:inbox"),
        reverse("applications:pdf", args=[app.pk]),
    ]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
    client.force_login(city.employer_admin)
    for url in [
        reverse("review:applications"),
        reverse("review:application", args=[app.pk]),
        reverse("applications:programs"),
        reverse("applications:notice", args=["employer_declaration"]),
    ]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
    r = client.post(
        reverse("review:application", args=[app.pk]),
        {"action": "approve", "opinion": "", "version": app.version},
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    m = app.attachments.first().material
    assert client.get(reverse("profiles:material_file", args=[m.pk])).status_code == 200
    client.force_login(city.outsider_reviewer)
    assert client.get(reverse("profiles:material_file", args=[m.pk])).status_code == 404
