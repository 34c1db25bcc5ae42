"""Housing use cases (F51, F52). Each write is one keyword-only function with ``actor=``:
one transaction, the current state checked under a row lock, an audit row, and the
person told (the SMS leaves after commit, see ``rencai.notifications.sms``)."""

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rencai.applications.models import Application
from rencai.audit.services import audit_record
from rencai.errors import ServiceError
from rencai.housing.access import is_housing_staff
from rencai.housing.models import (
    Allocation,
    Community,
    HousingPicture,
    Room,
    Station,
    StationBooking,
)
from rencai.notifications.services import notify
from rencai.params import parse_id

APARTMENT = "apartment"
STATION = "station"

B = StationBooking.State


# --- reads -----------------------------------------------------------------------------


def active_allocations() -> QuerySet:
    return Allocation.objects.filter(ended_at__isnull=True)


def sorted_rooms(rooms) -> list[Room]:
    """``5号楼`` before ``16号楼``: rooms in the order people read them."""
    return sorted(rooms, key=lambda r: r.sort_key())


def _unallocated(rooms: QuerySet) -> QuerySet:
    return rooms.filter(~Exists(active_allocations().filter(room=OuterRef("pk"))))


def free_rooms(community, unit_type=None) -> QuerySet:
    """Rooms of the community (of one unit type if given) with no active allocation."""
    rooms = _unallocated(Room.objects.filter(community=community))
    if unit_type is not None:
        rooms = rooms.filter(unit_type=unit_type)
    return rooms.select_related("unit_type").order_by("building", "number")


def free_rooms_by_community(community_ids) -> dict[int, list[Room]]:
    """The free rooms of several active communities in one query, in reading order."""
    rooms = _unallocated(
        Room.objects.filter(community_id__in=community_ids, community__active=True)
    ).select_related("unit_type")
    grouped = defaultdict(list)
    for room in rooms:
        grouped[room.community_id].append(room)
    return {cid: sorted_rooms(items) for cid, items in grouped.items()}


def community_units(community) -> list[dict]:
    """The unit types of a community for its public page: each with its rooms grouped by
    building (occupied ones marked), the count of free ones, its photos and floor plans.
    Three queries whatever the size of the community."""
    rooms = Room.objects.filter(community=community).annotate(
        occupied=Exists(active_allocations().filter(room=OuterRef("pk")))
    )
    by_type = defaultdict(list)
    for room in rooms:
        by_type[room.unit_type_id].append(room)
    pictures = Prefetch("pictures", queryset=HousingPicture.objects.order_by("order", "id"))
    units = []
    for unit_type in community.unit_types.prefetch_related(pictures):
        unit_rooms = sorted_rooms(by_type[unit_type.pk])
        kinds = defaultdict(list)
        for picture in unit_type.pictures.all():
            kinds[picture.kind].append(picture)
        units.append(
            {
                "type": unit_type,
                "buildings": [
                    (building, list(group))
                    for building, group in groupby(unit_rooms, key=lambda r: r.building)
                ],
                "total": len(unit_rooms),
                "free": sum(1 for r in unit_rooms if not r.occupied),
                "photos": kinds[HousingPicture.Kind.PHOTO],
                "floor_plans": kinds[HousingPicture.Kind.FLOOR_PLAN],
            }
        )
    return units


def station_choices() -> list[tuple[int, str]]:
    """Active stations as (id, "name（district）") for a form field of type ``station``."""
    return [
        (s.pk, f"{s.name}（{s.district.name}）")
        for s in Station.objects.filter(active=True).select_related("district")
    ]


def community_choices() -> list[tuple[int, str]]:
    """Active communities as (id, "name（district）") for a field of type ``community``."""
    return [
        (c.pk, f"{c.name}（{c.district.name}）")
        for c in Community.objects.filter(active=True).select_related("district")
    ]


def place_name(kind: str, value) -> str:
    """The station or community an application names, for its detail and review pages
    (shown even when it has since been switched off)."""
    model = Station if kind == "station" else Community
    pk = parse_id(value)
    place = model.objects.filter(pk=pk).first() if pk is not None else None
    return place.name if place is not None else str(value)


def requested_community_id(application) -> int | None:
    """The community the applicant asked for (``data["community"]``), as an id."""
    return parse_id((application.data or {}).get("community"))


def waiting_for_room() -> QuerySet:
    """Approved apartment applications with no active allocation."""
    return (
        Application.objects.filter(
            state=Application.State.APPROVED,
            deleted_at__isnull=True,
            program_version__definition__housing=APARTMENT,
        )
        .filter(~Exists(active_allocations().filter(application=OuterRef("pk"))))
        .select_related("program", "applicant", "employer")
        .order_by("decided_at", "id")
    )


def waiting_rows(applications) -> list[dict]:
    """For each waiting application (one page of them): the community asked for, if it
    is still active, and its free rooms. Two queries for the whole page."""
    applications = list(applications)
    asked = {requested_community_id(app) for app in applications} - {None}
    communities = Community.objects.filter(pk__in=asked, active=True).in_bulk()
    free = free_rooms_by_community(list(communities))
    rows = []
    for app in applications:
        community = communities.get(requested_community_id(app))
        rows.append(
            {
                "application": app,
                "community": community,
                "rooms": free.get(community.pk, []) if community else [],
            }
        )
    return rows


@dataclass
class AllocationChoice:
    """What the allocation desk shows for one application: the community asked for, the
    community being looked at with its free rooms, and the room picked (if still free)."""

    asked: Community | None
    community: Community | None
    rooms: list[Room]
    room: Room | None
    error: str = ""


def allocation_choice(application, *, community="", room="") -> AllocationChoice:
    """The desk's choice from the query string: ``community`` (else the one asked for)
    and ``room``; a room that is not free (taken meanwhile, or not of this community)
    comes back as ``error``."""
    asked_id = requested_community_id(application)
    community_id = parse_id(community) or asked_id
    active = Community.objects.filter(active=True)
    chosen = active.filter(pk=community_id).first() if community_id else None
    asked = Community.objects.filter(pk=asked_id).first() if asked_id else None
    rooms = sorted_rooms(free_rooms(chosen)) if chosen else []
    picked, error = None, ""
    room_id = parse_id(room)
    if chosen is not None and room_id is not None:
        picked = next((r for r in rooms if r.pk == room_id), None)
        if picked is not None:
            picked.community = chosen
        else:
            error = _room_taken().message
    return AllocationChoice(asked=asked, community=chosen, rooms=rooms, room=picked, error=error)


BOOKING_OPEN = (StationBooking.State.BOOKED, StationBooking.State.CHECKED_IN)


def bookings_in(state: str) -> tuple[QuerySet, str]:
    """The booking desk's list for a filter: ``open`` (booked or checked in), one state,
    or ``all`` for anything else. Returns the rows and the filter actually applied."""
    qs = StationBooking.objects.select_related("station", "person", "application")
    if state == "open":
        qs = qs.filter(state__in=BOOKING_OPEN)
    elif state in StationBooking.State.values:
        qs = qs.filter(state=state)
    else:
        state = "all"
    return qs.order_by("date_from", "id"), state


# --- helpers ---------------------------------------------------------------------------


def _room_taken() -> ServiceError:
    return ServiceError(_("该房间已分配给他人，请选择其他房间。"), field="room", code="taken")


def _require_staff(actor) -> None:
    if not is_housing_staff(actor):
        raise ServiceError(_("您没有办理人才安居业务的权限。"), code="forbidden")


def _housing_of(application) -> str:
    return (application.definition or {}).get("housing") or ""


def _link(application) -> str:
    return reverse("applications:detail", args=[application.pk])


# --- apartments (F52) ------------------------------------------------------------------


def allocate_room(*, actor, application, room_id, request=None) -> Allocation:
    """Give a free room to the person of an approved apartment application."""
    _require_staff(actor)
    room_id = parse_id(room_id)
    if room_id is None:
        raise ServiceError(_("请选择房间。"), field="room", code="required")
    try:
        with transaction.atomic():
            app = (
                Application.objects.select_for_update(of=("self",))
                .select_related("program", "program_version", "applicant")
                .filter(pk=application.pk, deleted_at__isnull=True)
                .first()
            )
            if app is None:
                raise ServiceError(_("未找到该申报。"), code="not_found")
            if _housing_of(app) != APARTMENT:
                raise ServiceError(
                    _("该申报不是人才公寓申请，不能分配公寓房间。"), code="wrong_program"
                )
            if app.state != Application.State.APPROVED:
                raise ServiceError(_("该申报尚未审核通过，不能分配房间。"), code="state")
            room = (
                Room.objects.select_for_update(of=("self",))
                .select_related("community", "unit_type")
                .filter(pk=room_id)
                .first()
            )
            if room is None:
                raise ServiceError(_("未找到该房间，请重新选择。"), field="room", code="not_found")
            if not room.community.active:
                raise ServiceError(
                    _("该小区已停用，不能分配其中的房间。"), field="room", code="inactive"
                )
            if active_allocations().filter(room=room).exists():
                raise _room_taken()
            if active_allocations().filter(application=app).exists():
                raise ServiceError(
                    _("该申报已分配过房间，不能重复分配。"), code="already_allocated"
                )
            allocation = Allocation.objects.create(
                room=room,
                application=app,
                person=app.applicant,
                allocated_by=actor,
                allocated_at=timezone.now(),
            )
            audit_record(
                action="housing.allocate",
                actor=actor,
                obj=allocation,
                after={
                    "room": room.pk,
                    "community": room.community_id,
                    "application": app.number or app.pk,
                },
                request=request,
            )
            place = _("%(community)s%(building)s%(number)s（%(unit_type)s）") % {
                "community": room.community.name,
                "building": room.building,
                "number": room.number,
                "unit_type": room.unit_type.name,
            }
            notify(
                user=app.applicant,
                title=_("人才公寓分配结果"),
                body=_(
                    "您申请的人才公寓已分配：%(place)s，地址：%(address)s。请按通知办理入住手续。"
                )
                % {"place": place, "address": room.community.address},
                link=_link(app),
            )
    except IntegrityError:
        # The partial unique indexes: another allocation of this room (or of this
        # application) committed between our check and our insert.
        raise _room_taken() from None
    return allocation


def allocation_end(*, actor, allocation_id, reason, request=None) -> Allocation:
    """退房 / 收回: end an active allocation; the room is free again."""
    _require_staff(actor)
    reason = str(reason or "").replace("\x00", "").strip()  # PostgreSQL refuses NUL
    if not reason:
        raise ServiceError(_("请填写退房或收回的原因。"), field="reason", code="required")
    if len(reason) > 200:
        raise ServiceError(_("原因最多 200 个字。"), field="reason", code="too_long")
    with transaction.atomic():
        allocation = (
            Allocation.objects.select_for_update(of=("self",))
            .select_related("room__community", "person")
            .filter(pk=allocation_id)
            .first()
        )
        if allocation is None:
            raise ServiceError(_("未找到该分配记录。"), code="not_found")
        if allocation.ended_at is not None:
            raise ServiceError(_("该分配已经结束，请刷新页面。"), code="state")
        allocation.ended_at = timezone.now()
        allocation.ended_by = actor
        allocation.end_reason = reason
        allocation.save(update_fields=["ended_at", "ended_by", "end_reason"])
        audit_record(
            action="housing.allocation_end",
            actor=actor,
            obj=allocation,
            after={"room": allocation.room_id, "reason": reason},
            request=request,
        )
        notify(
            user=allocation.person,
            title=_("人才公寓退房"),
            body=_("您在%(community)s%(room)s的人才公寓已办理退房（收回），原因：%(reason)s。")
            % {
                "community": allocation.room.community.name,
                "room": allocation.room.label,
                "reason": reason,
            },
            link=_link(allocation.application),
        )
    return allocation


def allocation_end_for(application, reason: str) -> Allocation | None:
    """The system ends an application's allocation when the application is cancelled
    (a 容缺 deadline missed, F47). Runs inside the cancelling transaction."""
    allocation = (
        Allocation.objects.select_for_update(of=("self",))
        .filter(application=application, ended_at__isnull=True)
        .first()
    )
    if allocation is None:
        return None
    allocation.ended_at = timezone.now()
    allocation.end_reason = reason[:200]
    allocation.save(update_fields=["ended_at", "end_reason"])
    audit_record(
        action="housing.allocation_end",
        obj=allocation,
        after={"room": allocation.room_id, "reason": allocation.end_reason},
    )
    return allocation


# --- stations (F51) --------------------------------------------------------------------


def _date(value, field: str) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise ServiceError(_("入住日期或离店日期不正确。"), field=field, code="invalid") from None


def booking_for_approved(application) -> StationBooking:
    """Called by the engine when a station-stay application (definition ``"housing":
    "station"``) is approved, after its state is set: creates the booking from
    ``data["station"]``, ``data["date_from"]`` and ``data["date_to"]``. Calling it again
    returns the existing booking."""
    existing = StationBooking.objects.filter(application_id=application.pk).first()
    if existing is not None:
        return existing
    if _housing_of(application) != STATION:
        raise ServiceError(_("该申报不是人才驿站入住申请。"), code="wrong_program")
    if application.state != Application.State.APPROVED:
        raise ServiceError(_("该申报尚未审核通过，不能预订人才驿站。"), code="state")
    data = application.data or {}
    station_id = parse_id(data.get("station"))
    station = Station.objects.filter(pk=station_id).first() if station_id else None
    if station is None:
        raise ServiceError(_("申报中选择的人才驿站不存在。"), field="station", code="not_found")
    date_from = _date(data.get("date_from"), "date_from")
    date_to = _date(data.get("date_to"), "date_to")
    if date_to < date_from:
        raise ServiceError(_("离店日期不能早于入住日期。"), field="date_to", code="invalid")
    try:
        with transaction.atomic():
            booking = StationBooking.objects.create(
                application_id=application.pk,
                station=station,
                person=application.applicant,
                date_from=date_from,
                date_to=date_to,
            )
            audit_record(
                action="housing.booking_create",
                obj=booking,
                after={
                    "station": station.pk,
                    "date_from": date_from.isoformat(),
                    "date_to": date_to.isoformat(),
                },
            )
            notify(
                user=application.applicant,
                title=_("人才驿站预订成功"),
                body=_(
                    "您已预订%(station)s，%(date_from)s 入住，%(date_to)s 离店。"
                    "地址：%(address)s%(phone)s。"
                )
                % {
                    "station": station.name,
                    "date_from": date_from.isoformat(),
                    "date_to": date_to.isoformat(),
                    "address": station.address,
                    "phone": _("，电话：%(phone)s") % {"phone": station.phone}
                    if station.phone
                    else "",
                },
                link=_link(application),
            )
    except IntegrityError:
        # Approved twice at once: the other call made it.
        existing = StationBooking.objects.filter(application_id=application.pk).first()
        if existing is None:
            raise
        return existing
    return booking


@dataclass(frozen=True)
class BookingStep:
    """One desk action on a station booking: from which states, to which state, the time
    stamp it sets, the audit action, the refusal in any other state, what else it does."""

    allowed: tuple[str, ...]
    to_state: str
    stamp: str
    refusal: str
    then: Callable | None = None


def _tell_cancelled(booking) -> None:
    notify(
        user=booking.person,
        title=_("人才驿站预订已取消"),
        body=_("您在%(station)s %(date_from)s 起的预订已取消。如有疑问请联系人才办。")
        % {"station": booking.station.name, "date_from": booking.date_from.isoformat()},
        link=_link(booking.application),
    )


BOOKING_STEPS: dict[str, BookingStep] = {
    "check_in": BookingStep(
        allowed=(B.BOOKED,),
        to_state=B.CHECKED_IN,
        stamp="checked_in_at",
        refusal=gettext_lazy("该预订当前为“%(state)s”，只有已预订的才能办理入住。"),
    ),
    "check_out": BookingStep(
        allowed=(B.CHECKED_IN,),
        to_state=B.CHECKED_OUT,
        stamp="checked_out_at",
        refusal=gettext_lazy("该预订当前为“%(state)s”，只有已入住的才能办理退房。"),
    ),
    "cancel": BookingStep(
        allowed=(B.BOOKED,),
        to_state=B.CANCELLED,
        stamp="cancelled_at",
        refusal=gettext_lazy("该预订当前为“%(state)s”，只有尚未入住的预订才能取消。"),
        then=_tell_cancelled,
    ),
}


def booking_actions(booking) -> list[str]:
    """The desk actions open for the booking in its current state (the buttons shown)."""
    return [name for name, step in BOOKING_STEPS.items() if booking.state in step.allowed]


def booking_step(*, actor, booking_id, action: str, request=None) -> StationBooking:
    """办理入住 / 办理退房 / 取消预订 (``action`` names one of ``BOOKING_STEPS``): the state
    checked under a row lock, the time stamp and the officer recorded, one audit row
    ``housing.booking_<action>``."""
    _require_staff(actor)
    step = BOOKING_STEPS.get(action)
    if step is None:
        raise ServiceError(_("未知的操作，请刷新页面后重试。"), code="unknown_action")
    with transaction.atomic():
        booking = (
            StationBooking.objects.select_for_update(of=("self",))
            .select_related("station", "person", "application")
            .filter(pk=booking_id)
            .first()
        )
        if booking is None:
            raise ServiceError(_("未找到该预订。"), code="not_found")
        if booking.state not in step.allowed:
            raise ServiceError(
                str(step.refusal) % {"state": booking.get_state_display()}, code="state"
            )
        before = booking.state
        booking.state = step.to_state
        setattr(booking, step.stamp, timezone.now())
        booking.acted_by = actor
        booking.save(update_fields=["state", step.stamp, "acted_by", "updated_at"])
        audit_record(
            action=f"housing.booking_{action}",
            actor=actor,
            obj=booking,
            before={"state": before},
            after={"state": step.to_state},
            request=request,
        )
        if step.then is not None:
            step.then(booking)
    return booking


def booking_check_in(*, actor, booking_id, request=None) -> StationBooking:
    return booking_step(actor=actor, booking_id=booking_id, action="check_in", request=request)


def booking_check_out(*, actor, booking_id, request=None) -> StationBooking:
    return booking_step(actor=actor, booking_id=booking_id, action="check_out", request=request)


def booking_cancel(*, actor, booking_id, request=None) -> StationBooking:
    return booking_step(actor=actor, booking_id=booking_id, action="cancel", request=request)
