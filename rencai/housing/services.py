"""Housing use cases (F51, F52). Each write is one keyword-only function with ``actor=``:
one transaction, the current state checked under a row lock, an audit row, and the
person told (the SMS leaves after commit, see ``rencai.notifications.sms``)."""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.applications.models import Application
from rencai.audit.services import audit_record
from rencai.errors import ServiceError
from rencai.housing.access import is_housing_staff
from rencai.housing.models import Allocation, Community, Room, Station, StationBooking
from rencai.notifications.services import notify

APARTMENT = "apartment"
STATION = "station"

B = StationBooking.State


# --- reads -----------------------------------------------------------------------------


def active_allocations() -> QuerySet:
    return Allocation.objects.filter(ended_at__isnull=True)


def free_rooms(community, unit_type=None) -> QuerySet:
    """Rooms of the community (of one unit type if given) with no active allocation."""
    rooms = Room.objects.filter(community=community).filter(
        ~Exists(active_allocations().filter(room=OuterRef("pk")))
    )
    if unit_type is not None:
        rooms = rooms.filter(unit_type=unit_type)
    return rooms.select_related("unit_type").order_by("building", "number")


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
    place = model.objects.filter(pk=value).first() if str(value).isdigit() else None
    return place.name if place is not None else str(value)


def requested_community_id(application) -> int | None:
    """The community the applicant asked for (``data["community"]``), as an id."""
    raw = (application.data or {}).get("community")
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


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
    try:
        room_id = int(room_id)
    except (TypeError, ValueError):
        raise ServiceError(_("请选择房间。"), field="room", code="required") from None
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
    reason = (reason or "").strip()
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
    try:
        station = Station.objects.filter(pk=int(data.get("station"))).first()
    except (TypeError, ValueError):
        station = None
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


def _booking_step(
    *, actor, booking_id, request, allowed, to_state, stamp, action, message, then=None
):
    _require_staff(actor)
    with transaction.atomic():
        booking = (
            StationBooking.objects.select_for_update(of=("self",))
            .select_related("station", "person", "application")
            .filter(pk=booking_id)
            .first()
        )
        if booking is None:
            raise ServiceError(_("未找到该预订。"), code="not_found")
        if booking.state not in allowed:
            raise ServiceError(message % {"state": booking.get_state_display()}, code="state")
        before = booking.state
        booking.state = to_state
        setattr(booking, stamp, timezone.now())
        booking.acted_by = actor
        booking.save(update_fields=["state", stamp, "acted_by", "updated_at"])
        audit_record(
            action=action,
            actor=actor,
            obj=booking,
            before={"state": before},
            after={"state": to_state},
            request=request,
        )
        if then is not None:
            then(booking)
    return booking


def booking_check_in(*, actor, booking_id, request=None) -> StationBooking:
    return _booking_step(
        actor=actor,
        booking_id=booking_id,
        request=request,
        allowed=(B.BOOKED,),
        to_state=B.CHECKED_IN,
        stamp="checked_in_at",
        action="housing.booking_check_in",
        message=_("该预订当前为“%(state)s”，只有已预订的才能办理入住。"),
    )


def booking_check_out(*, actor, booking_id, request=None) -> StationBooking:
    return _booking_step(
        actor=actor,
        booking_id=booking_id,
        request=request,
        allowed=(B.CHECKED_IN,),
        to_state=B.CHECKED_OUT,
        stamp="checked_out_at",
        action="housing.booking_check_out",
        message=_("该预订当前为“%(state)s”，只有已入住的才能办理退房。"),
    )


def _tell_cancelled(booking) -> None:
    notify(
        user=booking.person,
        title=_("人才驿站预订已取消"),
        body=_("您在%(station)s %(date_from)s 起的预订已取消。如有疑问请联系人才办。")
        % {"station": booking.station.name, "date_from": booking.date_from.isoformat()},
        link=_link(booking.application),
    )


def booking_cancel(*, actor, booking_id, request=None) -> StationBooking:
    return _booking_step(
        actor=actor,
        booking_id=booking_id,
        request=request,
        allowed=(B.BOOKED,),
        to_state=B.CANCELLED,
        stamp="cancelled_at",
        action="housing.booking_cancel",
        message=_("该预订当前为“%(state)s”，只有尚未入住的预订才能取消。"),
        then=_tell_cancelled,
    )
