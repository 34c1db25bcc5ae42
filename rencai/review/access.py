"""Access helpers: the one place that decides which records a staff user may see. Each
raises the same 404 for "does not exist" and "not yours" (STYLE.md)."""

from django.http import Http404

from rencai.accounts.models import User
from rencai.orgs.models import Authority, Employer, Membership, RegistrationChange
from rencai.params import parse_id


def memberships_of(user: User) -> list[Membership]:
    """All of the user's roles with their organisations, read once and kept on the user
    object for the rest of the request or job (every page asks several times, issue 7)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_rencai_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user)
            .select_related("authority__region", "employer")
            .order_by("id")
        )
        user._rencai_memberships = cached
    return cached


def reviewable_districts_of(user: User) -> set[int]:
    """Districts whose employer registrations this user reviews: reviewers and
    administrators of an HR bureau at that district (F03)."""
    return {
        m.authority.region_id
        for m in memberships_of(user)
        if m.role in (Membership.Role.REVIEWER, Membership.Role.AUTHORITY_ADMIN)
        and m.authority is not None
        and m.authority.kind == Authority.Kind.HR_BUREAU
        and m.authority.region.level == "district"
    }


def employer_roles_of(user: User) -> set[int]:
    """Employers whose people's registrations this user reviews (F04)."""
    return {
        m.employer_id
        for m in memberships_of(user)
        if m.role in (Membership.Role.EMPLOYER_ADMIN, Membership.Role.EMPLOYER_REVIEWER)
        and m.employer is not None
        and m.employer.status == Employer.Status.APPROVED
    }


def employer_for_district_reviewer(user: User, pk: int) -> Employer:
    employer = Employer.objects.select_related("district").filter(pk=pk).first()
    if employer is None or employer.district_id not in reviewable_districts_of(user):
        raise Http404
    return employer


def change_for_district_reviewer(user: User, pk: int) -> RegistrationChange:
    """A registration change (F61) for the HR bureau of the organisation's district; an
    id no database column holds (too many digits) is "not found" too."""
    pk = parse_id(pk)
    change = (
        RegistrationChange.objects.select_related("employer__district", "requested_by", "reviewer")
        .filter(pk=pk)
        .first()
        if pk
        else None
    )
    if change is None or change.employer.district_id not in reviewable_districts_of(user):
        raise Http404
    return change


def person_for_employer_reviewer(user: User, pk: int) -> User:
    person = (
        User.objects.select_related("employer")
        .filter(pk=pk, kind=User.Kind.PERSON, closed_at__isnull=True)
        .first()
    )
    if person is None or person.employer_id not in employer_roles_of(user):
        raise Http404
    return person


def is_staff_area_user(user: User) -> bool:
    return user.is_authenticated and (
        user.is_superuser
        or bool(reviewable_districts_of(user))
        or bool(employer_roles_of(user))
        or Membership.objects.filter(user=user, authority__isnull=False).exists()
    )
