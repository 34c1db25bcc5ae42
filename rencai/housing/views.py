"""Thin views of talent housing: the public catalogue of stations (人才驿站) and apartment
communities (人才公寓), the pictures, and the talent office's allocation and booking desks."""

import functools
from collections import defaultdict
from itertools import groupby
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from rencai.errors import ServiceError
from rencai.housing import access, services
from rencai.housing.models import Community, HousingPicture, Room, Station, StationBooking
from rencai.housing.pictures import PICTURE_EXTENSIONS
from rencai.orgs.models import Region
from rencai.profiles.materials import CONTENT_TYPES

PUBLIC_PAGE_SIZE = 10
STAFF_PAGE_SIZE = 20
PICTURE_TYPES = {CONTENT_TYPES[ext] for ext in PICTURE_EXTENSIONS}


def _ordered_pictures():
    return Prefetch("pictures", queryset=HousingPicture.objects.order_by("order", "id"))


def _sorted_rooms(rooms):
    return sorted(rooms, key=lambda r: r.sort_key())


# --- public: stations (F51) --------------------------------------------------------------


@require_GET
def station_list(request):
    stations = (
        Station.objects.filter(active=True)
        .select_related("district")
        .prefetch_related(_ordered_pictures())
    )
    page = Paginator(stations, PUBLIC_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "housing/stations.html", {"page": page, "query": ""})


@require_GET
def station_detail(request, pk):
    station = access.station_public(pk)
    ctx = {
        "station": station,
        "pictures": station.pictures.order_by("order", "id"),
        "room_types": station.room_types.all(),
    }
    return render(request, "housing/station.html", ctx)


# --- public: apartments (F52) ------------------------------------------------------------


@require_GET
def community_list(request):
    communities = Community.objects.filter(active=True)
    districts = Region.objects.filter(pk__in=communities.values("district_id")).order_by("code")
    district = request.GET.get("district", "")
    if district.isdigit():
        communities = communities.filter(district_id=int(district))
    else:
        district = ""
    communities = communities.select_related("district").prefetch_related(_ordered_pictures())
    page = Paginator(communities, PUBLIC_PAGE_SIZE).get_page(request.GET.get("page"))
    ctx = {
        "page": page,
        "districts": districts,
        "district": district,
        "query": urlencode({"district": district}) + "&" if district else "",
    }
    return render(request, "housing/apartments.html", ctx)


@require_GET
def community_detail(request, pk):
    community = access.community_public(pk)
    rooms = Room.objects.filter(community=community).annotate(
        occupied=Exists(services.active_allocations().filter(room=OuterRef("pk")))
    )
    by_type = defaultdict(list)
    for room in rooms:
        by_type[room.unit_type_id].append(room)
    units = []
    for unit_type in community.unit_types.prefetch_related(_ordered_pictures()):
        unit_rooms = _sorted_rooms(by_type[unit_type.pk])
        pictures = list(unit_type.pictures.all())
        units.append(
            {
                "type": unit_type,
                "buildings": [
                    (building, list(group))
                    for building, group in groupby(unit_rooms, key=lambda r: r.building)
                ],
                "total": len(unit_rooms),
                "free": sum(1 for r in unit_rooms if not r.occupied),
                "photos": [p for p in pictures if p.kind == HousingPicture.Kind.PHOTO],
                "floor_plans": [p for p in pictures if p.kind == HousingPicture.Kind.FLOOR_PLAN],
            }
        )
    ctx = {
        "community": community,
        "pictures": community.pictures.order_by("order", "id"),
        "units": units,
        "total": sum(u["total"] for u in units),
        "free": sum(u["free"] for u in units),
    }
    return render(request, "housing/apartment.html", ctx)


@require_GET
def picture(request, pk):
    """A picture of an active station or community, as the type checked at upload."""
    item = access.picture_public(pk)
    try:
        handle = default_storage.open(item.file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    content_type = item.content_type if item.content_type in PICTURE_TYPES else None
    response = FileResponse(handle, content_type=content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=3600"
    return response


# --- staff: the talent office's desks ----------------------------------------------------


def housing_staff_view(view):
    """Logged in, and talent office staff or a superuser: anyone else gets 404."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        access.require_housing_staff(request.user)
        return view(request, *args, **kwargs)

    return wrapper


def _free_rooms_by_community(community_ids) -> dict[int, list[Room]]:
    rooms = Room.objects.filter(community_id__in=community_ids, community__active=True).filter(
        ~Exists(services.active_allocations().filter(room=OuterRef("pk")))
    )
    grouped = defaultdict(list)
    for room in rooms.select_related("unit_type"):
        grouped[room.community_id].append(room)
    return {cid: _sorted_rooms(items) for cid, items in grouped.items()}


@require_GET
@housing_staff_view
def allocations(request):
    """Approved apartment applications waiting for a room, and the active allocations."""
    waiting = Paginator(services.waiting_for_room(), STAFF_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    asked = {services.requested_community_id(app) for app in waiting.object_list} - {None}
    communities = Community.objects.filter(pk__in=asked, active=True).in_bulk()
    free = _free_rooms_by_community(list(communities))
    rows = []
    for app in waiting.object_list:
        community = communities.get(services.requested_community_id(app))
        rows.append(
            {
                "application": app,
                "community": community,
                "rooms": free.get(community.pk, []) if community else [],
            }
        )
    active = Paginator(
        services.active_allocations()
        .select_related("room__community", "room__unit_type", "person", "application")
        .order_by("-allocated_at", "-id"),
        STAFF_PAGE_SIZE,
    ).get_page(request.GET.get("apage"))
    ctx = {"waiting": waiting, "rows": rows, "active": active}
    return render(request, "housing/staff_allocations.html", ctx)


@housing_staff_view
def allocate(request, pk):
    """One application: pick a community and a free room, confirm, then allocate."""
    application = access.application_awaiting_room(request.user, pk)
    if request.method == "POST":
        try:
            allocation = services.allocate_room(
                actor=request.user,
                application=application,
                room_id=request.POST.get("room"),
                request=request,
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
            return redirect("housing_staff:allocate", pk=pk)
        messages.success(
            request,
            _("已将%(room)s分配给%(name)s，并已短信通知。")
            % {"room": allocation.room, "name": application.applicant.display_name},
        )
        return redirect("housing_staff:allocations")
    asked = services.requested_community_id(application)
    chosen = request.GET.get("community", "")
    community_id = int(chosen) if chosen.isdigit() else asked
    community = Community.objects.filter(pk=community_id, active=True).first()
    room = None
    room_raw = request.GET.get("room", "")
    if community is not None and room_raw.isdigit():
        room = (
            services.free_rooms(community)
            .select_related("community")
            .filter(pk=int(room_raw))
            .first()
        )
        if room is None:
            messages.error(request, _("该房间已分配给他人，请选择其他房间。"))
    ctx = {
        "application": application,
        "asked": Community.objects.filter(pk=asked).first() if asked else None,
        "community": community,
        "communities": Community.objects.filter(active=True).select_related("district"),
        "rooms": _sorted_rooms(services.free_rooms(community)) if community else [],
        "room": room,
    }
    return render(request, "housing/staff_allocate.html", ctx)


@require_POST
@housing_staff_view
def allocation_end(request, pk):
    allocation = access.allocation_for_staff(request.user, pk)
    try:
        services.allocation_end(
            actor=request.user,
            allocation_id=allocation.pk,
            reason=request.POST.get("reason", ""),
            request=request,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已办理退房：%(room)s。") % {"room": allocation.room})
    return redirect("housing_staff:allocations")


BOOKING_FILTERS = {"open": (StationBooking.State.BOOKED, StationBooking.State.CHECKED_IN)}


@require_GET
@housing_staff_view
def bookings(request):
    state = request.GET.get("state", "open")
    qs = StationBooking.objects.select_related("station", "person", "application")
    if state in BOOKING_FILTERS:
        qs = qs.filter(state__in=BOOKING_FILTERS[state])
    elif state in StationBooking.State.values:
        qs = qs.filter(state=state)
    else:
        state = "all"
    page = Paginator(qs.order_by("date_from", "id"), STAFF_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ctx = {
        "page": page,
        "state": state,
        "states": [("open", _("待办（已预订、已入住）")), *StationBooking.State.choices],
        "query": urlencode({"state": state}) + "&",
    }
    return render(request, "housing/staff_bookings.html", ctx)


BOOKING_ACTIONS = {
    "check_in": (services.booking_check_in, gettext_lazy("已办理入住。")),
    "check_out": (services.booking_check_out, gettext_lazy("已办理退房。")),
    "cancel": (services.booking_cancel, gettext_lazy("已取消预订，并已通知申请人。")),
}


@require_POST
@housing_staff_view
def booking_action(request, pk):
    booking = access.booking_for_staff(request.user, pk)
    action = BOOKING_ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        raise Http404
    service, done = action
    try:
        service(actor=request.user, booking_id=booking.pk, request=request)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    back = urlencode({"state": request.POST.get("state", "open")})
    return redirect(f"{reverse('housing_staff:bookings')}?{back}")
