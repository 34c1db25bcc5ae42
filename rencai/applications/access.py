"""Who may see and act on an application: the one place that decides. Every refusal is
the same 404, for "does not exist" and for "not yours" alike (STYLE.md)."""

from django.db.models import Q
from django.http import Http404

from rencai.applications.models import Application
from rencai.orgs.models import Membership
from rencai.review.access import employer_roles_of, memberships_of

# Finance officers act at payout stages, which sit at finance bureaus only.
REVIEW_ROLES = [
    Membership.Role.REVIEWER,
    Membership.Role.AUTHORITY_ADMIN,
    Membership.Role.FINANCE_OFFICER,
]


def reviewing_authorities_of(user) -> set[int]:
    return {
        m.authority_id
        for m in memberships_of(user)
        if m.role in REVIEW_ROLES and m.authority_id is not None
    }


def actor_scope(user) -> tuple[set[int], set[int]]:
    """(employer ids, authority ids) this user reviews for. Remembered on the user object
    for the rest of the request or job (one batch action asks it thousands of times)."""
    scope = getattr(user, "_rencai_actor_scope", None)
    if scope is None:
        scope = (employer_roles_of(user), reviewing_authorities_of(user))
        if user.is_authenticated:
            user._rencai_actor_scope = scope
    return scope


REVIEW_STAGE_KINDS = ["review", "all_of"]


def queue_filter(user) -> Q:
    """Applications waiting at a review stage this user acts for (notices, reports and
    payouts have their own desks). None of them is deleted (a database constraint): no
    ``deleted_at`` test, so a queue is counted from the stage index alone (issue 7)."""
    employers, authorities = actor_scope(user)
    return Q(
        state__in=[Application.State.SUBMITTED, Application.State.IN_REVIEW],
        stage_kind__in=REVIEW_STAGE_KINDS,
    ) & (
        Q(stage_employer_id__in=employers)
        | Q(stage_employer_also_id__in=employers)
        | Q(stage_authority_id__in=authorities)
    )


def own_application(user, pk: int) -> Application:
    """The applicant's own application (not deleted)."""
    app = (
        Application.objects.select_related("program", "program_version", "employer")
        .filter(pk=pk, applicant_id=user.pk if user.is_authenticated else None)
        .first()
    )
    if app is None:
        raise Http404
    return app


def can_act_on(user, app: Application) -> bool:
    if not app.is_open:
        return False
    employers, authorities = actor_scope(user)
    return (
        app.stage_employer_id in employers
        or app.stage_employer_also_id in employers
        or app.stage_authority_id in authorities
    )


def can_view_as_staff(user, app: Application) -> bool:
    """A reviewer sees an application at their stage now, or one their organisation
    already handled (the employer always sees its own people's filed applications)."""
    if app.state == Application.State.DRAFT or app.deleted_at is not None:
        return False
    employers, authorities = actor_scope(user)
    if not employers and not authorities:
        return False
    if can_act_on(user, app) or (
        app.submitted_at and (app.employer_id in employers or app.dispatcher_id in employers)
    ):
        return True
    return app.events.filter(
        Q(actor_org_employer_id__in=employers) | Q(actor_org_authority_id__in=authorities)
    ).exists()


def application_for_staff(user, pk: int) -> Application:
    app = (
        Application.objects.select_related(
            "program", "program_version", "employer", "applicant", "stage_authority"
        )
        .filter(pk=pk)
        .first()
    )
    if app is None or not can_view_as_staff(user, app):
        raise Http404
    return app


def application_for_viewer(user, pk: int) -> Application:
    """The applicant or a reviewer with a right to it."""
    app = Application.objects.filter(pk=pk).select_related("program", "program_version").first()
    if app is None:
        raise Http404
    if app.applicant_id == user.pk and app.deleted_at is None:
        return app
    if can_view_as_staff(user, app):
        return app
    raise Http404


def stage_people(employer_ids: list[int], authority_id: int | None):
    """The active users who act for these organisations at a stage: the employers' admins
    and reviewers, the authority's reviewers (who are told that an application waits)."""
    from rencai.accounts.models import User

    employer_roles = [Membership.Role.EMPLOYER_ADMIN, Membership.Role.EMPLOYER_REVIEWER]
    qs = Membership.objects.filter(
        Q(employer_id__in=employer_ids, role__in=employer_roles)
        | Q(authority_id=authority_id, role__in=REVIEW_ROLES)
    )
    return User.objects.filter(pk__in=qs.values("user_id"), is_active=True)
