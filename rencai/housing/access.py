"""Who may see and act on housing records: the one place that decides. Public pages show
active stations and communities only; staff pages are for the talent office (人才办) and
superusers. Every refusal is the same 404, for "does not exist" and "not yours" alike."""

from django.db.models import Q
from django.http import Http404

from rencai.applications.access import REVIEW_ROLES
from rencai.applications.models import Application
from rencai.housing.models import (
    Allocation,
    Community,
    HousingPicture,
    Station,
    StationBooking,
)
from rencai.orgs.models import Authority, Membership


def is_housing_staff(user) -> bool:
    """A superuser, or a reviewer / administrator / finance officer of a talent office."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, role__in=REVIEW_ROLES, authority__kind=Authority.Kind.TALENT_OFFICE
    ).exists()


def require_housing_staff(user) -> None:
    if not is_housing_staff(user):
        raise Http404


def station_public(pk: int) -> Station:
    station = Station.objects.select_related("district").filter(pk=pk, active=True).first()
    if station is None:
        raise Http404
    return station


def community_public(pk: int) -> Community:
    community = Community.objects.select_related("district").filter(pk=pk, active=True).first()
    if community is None:
        raise Http404
    return community


def picture_public(pk: int) -> HousingPicture:
    """A picture of an active station, an active community or a unit type of one."""
    picture = (
        HousingPicture.objects.filter(pk=pk)
        .filter(
            Q(station__active=True)
            | Q(community__active=True)
            | Q(unit_type__community__active=True)
        )
        .first()
    )
    if picture is None:
        raise Http404
    return picture


def allocation_for_staff(user, pk: int) -> Allocation:
    require_housing_staff(user)
    allocation = (
        Allocation.objects.select_related("room__community", "person").filter(pk=pk).first()
    )
    if allocation is None:
        raise Http404
    return allocation


def booking_for_staff(user, pk: int) -> StationBooking:
    require_housing_staff(user)
    booking = StationBooking.objects.select_related("station", "person").filter(pk=pk).first()
    if booking is None:
        raise Http404
    return booking


def application_awaiting_room(user, pk: int) -> Application:
    """An approved apartment application (definition ``"housing": "apartment"``)."""
    require_housing_staff(user)
    application = (
        Application.objects.select_related("program", "program_version", "applicant", "employer")
        .filter(
            pk=pk,
            state=Application.State.APPROVED,
            deleted_at__isnull=True,
            program_version__definition__housing="apartment",
        )
        .first()
    )
    if application is None:
        raise Http404
    return application
