"""Two reviewers act on one application at the same moment, each on its own database
connection (threads): exactly one transition happens, the other gets a clear refusal.
Runs on SQLite and on PostgreSQL (CI runs both)."""

import threading

import pytest
from django.db import connection, connections

from rencai.accounts.models import User
from rencai.applications import transitions as t
from rencai.applications.models import Application, ApplicationEvent
from rencai.errors import ServiceError
from rencai.orgs.models import Membership
from tests.conftest import PASSWORD, build_city, prepare_applicant
from tests.test_applications import living, submit


@pytest.fixture
def two_reviewers(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    city = build_city()
    second = User.objects.create_user(
        username="tech_reviewer", password=PASSWORD, kind=User.Kind.EMPLOYER, real_name="二号审核"
    )
    Membership.objects.create(
        user=second, employer=city.tech, role=Membership.Role.EMPLOYER_REVIEWER
    )
    applicant = prepare_applicant(city.applicant)
    return city, applicant, second


def race(actions):
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait()
            action()
            outcomes[i] = "ok"
        except ServiceError as exc:
            outcomes[i] = exc.message
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    return outcomes


def test_two_reviewers_approve_and_reject_at_once_exactly_one_wins(two_reviewers):
    city, applicant, second = two_reviewers
    app = submit(living(applicant))
    seen = app.version
    outcomes = race(
        [
            lambda: t.approve(actor=city.employer_admin, application=app, seen_version=seen),
            lambda: t.reject(actor=second, application=app, opinion="不符合", seen_version=seen),
        ]
    )
    assert sorted(o == "ok" for o in outcomes) == [False, True], outcomes
    loser = next(o for o in outcomes if o != "ok")
    assert "他人" in loser
    decisions = ApplicationEvent.objects.filter(application=app, action__in=["approve", "reject"])
    assert decisions.count() == 1
    app.refresh_from_db()
    assert app.version == seen + 1
    assert app.state in (Application.State.IN_REVIEW, Application.State.REJECTED)
    assert connection.vendor in ("sqlite", "postgresql")


def test_many_approvals_of_one_item_without_a_version_give_one_transition(two_reviewers):
    city, applicant, second = two_reviewers
    app = submit(living(applicant))
    outcomes = race(
        [lambda: t.approve(actor=city.employer_admin, application=app)]
        + [lambda: t.approve(actor=second, application=app)] * 5
    )
    assert outcomes.count("ok") == 1, outcomes
    assert ApplicationEvent.objects.filter(application=app, action="approve").count() == 1
    app.refresh_from_db()
    assert (app.state, app.stage) == (Application.State.IN_REVIEW, 1)


def test_ten_retries_of_one_create_and_of_one_submit_at_once_give_one_application(
    two_reviewers,
):
    """Issue 7: a create sent ten times at once with one token makes one draft; the
    submit sent ten times at once with the version it saw submits once, and every
    attempt is answered as a success."""
    from rencai.programs.models import Program

    _city, applicant, _second = two_reviewers
    program = Program.objects.get(code="grad_living")
    data = {"start_month": "2024-01", "end_month": "2024-12", "deducted_months": 0}
    created = []

    def create():
        created.append(
            t.draft_save(actor=applicant, program=program, data=data, client_token="tok-race-01").pk
        )

    assert race([create] * 10) == ["ok"] * 10
    assert len(set(created)) == 1
    app = Application.objects.get(applicant=applicant, client_token="tok-race-01")
    from tests.test_applications import TODAY

    materials = applicant.materials.all()
    t.draft_save(
        actor=applicant,
        application=app,
        data={**data, "explanation": "无"},
        materials={m.material_type: [m.pk] for m in materials},
    )
    app.refresh_from_db()
    seen = app.version

    def submit_once():
        t.submit(
            actor=applicant,
            application=app,
            commitment_accepted=True,
            seen_version=seen,
            today=TODAY,
        )

    assert race([submit_once] * 10) == ["ok"] * 10
    app.refresh_from_db()
    assert app.state == "submitted"
    assert ApplicationEvent.objects.filter(application=app, action="submit").count() == 1
