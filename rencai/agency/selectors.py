"""What the agency pages list (F56, F59, F60)."""

from django.db.models import Q
from django.utils import timezone

from rencai.agency.models import AgencyGrade
from rencai.agency.services import grading_program
from rencai.applications.models import Application
from rencai.programs.models import Program


def gradings(agency_user, q: str = ""):
    codes = [p.code for p in (grading_program("rating"), grading_program("keep")) if p]
    qs = (
        Application.objects.filter(
            applicant=agency_user, program__code__in=codes, deleted_at__isnull=True
        )
        .select_related("program", "program_version", "employer")
        .order_by("-id")
    )
    if q:
        # a number (SB…) or a year: the year is stored as a number in the data
        year = int(q) if q.isascii() and q.isdigit() and len(q) == 4 else None
        qs = (
            qs.filter(Q(number__icontains=q) | Q(data__year=year))
            if year
            else qs.filter(number__icontains=q)
        )
    return qs


def subsidy_programs():
    """Agency programs that are not gradings: the policy subsidies (F60)."""
    return [
        p
        for p in Program.objects.filter(
            active=True, applicant_kind="agency", current_version__isnull=False
        ).select_related("current_version")
        if not p.definition.get("grading")
    ]


def subsidies(agency_user):
    codes = [p.code for p in subsidy_programs()]
    return (
        Application.objects.filter(
            applicant=agency_user, program__code__in=codes, deleted_at__isnull=True
        )
        .select_related("program", "program_version")
        .order_by("-id")
    )


def results(agency):
    today = timezone.localdate()
    grades = list(
        AgencyGrade.objects.filter(agency=agency)
        .select_related("application")
        .order_by("-state", "-valid_from", "-id")
    )
    for grade in grades:
        grade.expired = grade.valid_until < today
        grade.in_force = grade.state == AgencyGrade.State.ACTIVE and not grade.expired
    return grades
