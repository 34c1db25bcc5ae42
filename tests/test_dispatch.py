"""Labour dispatch (F17) on the CHAIN pack: a dispatched person names the dispatching
company; the employer served and the dispatching company must both approve (an
"all of" stage) before the county HR bureau sees the application."""

import datetime

import pytest
from django.http import Http404

from rencai.accounts.models import User
from rencai.applications import access
from rencai.applications import transitions as t
from rencai.applications.models import Application
from rencai.errors import ServiceError
from rencai.orgs.models import Authority, Membership
from rencai.profiles.models import Material
from rencai.programs.models import Program
from tests.conftest import PASSWORD, import_outside_data
from tests.test_applications import TODAY

S = Application.State


@pytest.fixture
def dispatch_admin(city):
    user = User.objects.create_user(
        username="dispatch_admin", password=PASSWORD, kind=User.Kind.EMPLOYER, real_name="陈经理"
    )
    Membership.objects.create(
        user=user, employer=city.dispatch, role=Membership.Role.EMPLOYER_ADMIN
    )
    return user


def chain_living(applicant, dispatcher=None, start="2024-01", end="2024-06", tmp_path=None):
    """File and submit CHAIN's living subsidy; the person's outside data is imported first
    (into a fresh directory) unless it is already there."""
    from rencai.integrations.models import InsuredPerson

    if not InsuredPerson.objects.filter(id_number=applicant.id_number).exists():
        import tempfile
        from pathlib import Path

        import_outside_data(Path(tmp_path or tempfile.mkdtemp()), applicant)
    materials = {
        mt: list(
            Material.objects.filter(owner=applicant, material_type=mt).values_list("pk", flat=True)
        )
        for mt in ("diploma", "degree", "labour_contract")
    }
    data = {"start_month": start, "end_month": end, "deducted_months": 0, "explanation": "无"}
    if dispatcher:
        data["dispatcher"] = dispatcher.pk
    app = t.draft_save(
        actor=applicant,
        program=Program.objects.get(code="chain_living"),
        data=data,
        materials=materials,
    )
    return t.submit(actor=applicant, application=app, commitment_accepted=True, today=TODAY)


def through_reports(city, app, county_org, city_org):
    """The two roll-up reports: county organisation department → city HR → city org."""
    report = t.report_submit(actor=county_org, application_ids=[app.pk])
    t.report_accept(actor=city.city_reviewer, report_id=report.pk)
    report = t.report_submit(actor=city.city_reviewer, application_ids=[app.pk])
    t.report_accept(actor=city_org, report_id=report.pk)
    return Application.objects.get(pk=app.pk)


def staff(name):
    return User.objects.get(username=name)


def org_reviewer(region, kind, username):
    user = User.objects.create_user(username=username, password=PASSWORD, kind=User.Kind.STAFF)
    Membership.objects.create(
        user=user,
        authority=Authority.objects.get(region=region, kind=kind),
        role=Membership.Role.REVIEWER,
    )
    return user


def test_both_the_employer_and_the_dispatching_company_must_approve(
    city, ready_applicant, dispatch_admin, time_machine
):
    time_machine.move_to("2026-11-23 10:00 +08:00")
    app = chain_living(ready_applicant, dispatcher=city.dispatch)
    assert app.dispatcher == city.dispatch
    assert set(app.pending_orgs) == {city.tech, city.dispatch}
    for reviewer in (city.employer_admin, dispatch_admin):
        assert Application.objects.filter(access.queue_filter(reviewer), pk=app.pk).exists()

    app = t.approve(actor=city.employer_admin, application=app, opinion="在岗属实")
    assert (app.state, app.stage, app.pending_orgs) == (S.IN_REVIEW, 0, [city.dispatch])
    with pytest.raises(ServiceError, match="审核已开始"):
        t.withdraw(actor=ready_applicant, application=app)
    with pytest.raises(ServiceError, match="已由他人处理"):
        t.approve(actor=city.employer_admin, application=app)  # already approved its part
    with pytest.raises(Http404):
        t.approve(actor=city.district_reviewer, application=app)  # not yet the county's turn

    app = t.approve(actor=dispatch_admin, application=app, opinion="派遣关系属实")
    assert (app.stage, app.stage_authority.kind, app.stage_authority.region) == (
        1,
        "hr_bureau",
        city.dongcheng,
    )
    approvals = app.events.filter(action="approve")
    assert {e.organisation for e in approvals} == {city.tech.name, city.dispatch.name}

    county_org = org_reviewer(city.dongcheng, Authority.Kind.ORG_DEPARTMENT, "dc_org")
    city_org = org_reviewer(city.dongcheng.parent, Authority.Kind.ORG_DEPARTMENT, "city_org")
    app = t.approve(actor=city.district_reviewer, application=app)
    # The 7-day public notice (F41) passes without objection.
    t.notice_publish(actor=city.district_reviewer, application_ids=[app.pk], title="公示")
    time_machine.shift(datetime.timedelta(days=7, minutes=1))
    t.notices_expire()
    app = Application.objects.get(pk=app.pk)
    app = t.approve(actor=county_org, application=app)
    app = through_reports(city, app, county_org, city_org)
    assert app.current_stage["code"] == "city_finance"  # payouts: tests/test_payouts.py
    assert [e.stage_name for e in app.events.filter(action__in=["approve", "report_accept"])][
        -4:
    ] == ["县区人社局审核", "县区组织部确认", "市人社局汇总", "市组织部确认"]


def test_the_dispatching_company_may_reject_for_everyone(city, ready_applicant, dispatch_admin):
    app = chain_living(ready_applicant, dispatcher=city.dispatch)
    app = t.reject(actor=dispatch_admin, application=app, opinion="非本公司派遣人员")
    assert app.state == S.REJECTED and app.pending_orgs == []
    with pytest.raises(ServiceError):
        t.approve(actor=city.employer_admin, application=app)


def test_a_person_who_is_not_dispatched_goes_to_the_employer_alone(
    city, ready_applicant, dispatch_admin
):
    app = chain_living(ready_applicant)
    assert app.pending_orgs == [city.tech] and app.dispatcher is None
    assert not Application.objects.filter(access.queue_filter(dispatch_admin)).exists()
    app = t.approve(actor=city.employer_admin, application=app)
    assert app.stage == 1


def test_another_employer_cannot_see_a_dispatched_application(city, ready_applicant):
    app = chain_living(ready_applicant, dispatcher=city.dispatch)
    other = User.objects.create_user(username="hosp", password=PASSWORD, kind=User.Kind.EMPLOYER)
    Membership.objects.create(
        user=other, employer=city.hospital, role=Membership.Role.EMPLOYER_ADMIN
    )
    with pytest.raises(Http404):
        access.application_for_staff(other, app.pk)
    with pytest.raises(Http404):
        t.approve(actor=other, application=app)
