"""Every transition allowed and refused, by state (F30–F32): an application is brought
into each state, then every action is tried by the person entitled to it. Allowed ones
change the state as the machine says; refused ones raise a clear ServiceError and change
nothing (same state, same version, no new event)."""

import pytest
from django.http import Http404

from rencai.applications import transitions as t
from rencai.applications.models import Application
from rencai.errors import ServiceError
from tests.test_applications import living, submit

S = Application.State


def bring_to(state, city, applicant):
    app = living(applicant)
    if state == "draft":
        return app
    app = submit(app)
    if state == "submitted":
        return app
    app = t.approve(actor=city.employer_admin, application=app)
    if state == "in_review":
        return app
    if state == "returned":
        return t.return_(actor=city.district_reviewer, application=app, opinion="补材料")
    if state == "rejected":
        return t.reject(actor=city.district_reviewer, application=app, opinion="不符合")
    app = t.approve(actor=city.district_reviewer, application=app)
    return t.approve(actor=city.city_reviewer, application=app)  # approved


def reviewer_for(app, city):
    return city.employer_admin if app.stage == 0 else city.district_reviewer


ACTIONS = {
    "save": lambda app, city: t.draft_save(actor=app.applicant, application=app, data=app.data),
    "submit": lambda app, city: t.submit(
        actor=app.applicant, application=app, commitment_accepted=True, today=None
    ),
    "withdraw": lambda app, city: t.withdraw(actor=app.applicant, application=app),
    "delete": lambda app, city: t.draft_delete(actor=app.applicant, application=app),
    "reapply": lambda app, city: t.apply_again(actor=app.applicant, application=app),
    "approve": lambda app, city: t.approve(actor=reviewer_for(app, city), application=app),
    "return": lambda app, city: t.return_(
        actor=reviewer_for(app, city), application=app, opinion="原因"
    ),
    "reject": lambda app, city: t.reject(
        actor=reviewer_for(app, city), application=app, opinion="原因"
    ),
}
# state → the actions the machine allows there.
ALLOWED = {
    "draft": {"save", "submit", "delete"},
    "submitted": {"withdraw", "approve", "return", "reject"},
    "in_review": {"approve", "return", "reject"},
    "returned": {"save", "submit"},
    "approved": set(),
    "rejected": {"reapply"},
}
AFTER = {
    ("draft", "submit"): S.SUBMITTED,
    ("submitted", "withdraw"): S.DRAFT,
    ("submitted", "approve"): S.IN_REVIEW,
    ("in_review", "approve"): S.IN_REVIEW,  # district → city
    ("returned", "submit"): S.IN_REVIEW,  # back to the district that returned it
}


@pytest.mark.parametrize("state", list(ALLOWED))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_transition(city, ready_applicant, state, action, time_machine):
    time_machine.move_to("2026-11-23 10:00 +08:00")
    app = bring_to(state, city, ready_applicant)
    before = (app.state, app.version, app.events.count())
    if action in ALLOWED[state]:
        result = ACTIONS[action](app, city)
        if action == "reapply":
            assert result.previous_id == app.pk and result.state == S.DRAFT
        elif action == "delete":
            assert Application.objects.get(pk=app.pk).deleted_at is not None
        else:
            expected = AFTER.get(
                (state, action), {"return": S.RETURNED, "reject": S.REJECTED}.get(action, state)
            )
            assert Application.objects.get(pk=app.pk).state == expected
    else:
        with pytest.raises((ServiceError, Http404)) as exc:
            ACTIONS[action](app, city)
        if exc.type is ServiceError:
            assert exc.value.message  # a message the user can read
        app = Application.objects.get(pk=app.pk)
        assert (app.state, app.version, app.events.count()) == before
