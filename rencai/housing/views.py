"""Thin views of talent housing: the public catalogue of stations (人才驿站) and apartment
communities (人才公寓), the pictures, and the talent office's allocation and booking desks."""

import functools
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from rencai.errors import ServiceError
from rencai.files import stored_file_response
from rencai.housing import access, services
from rencai.housing.models import Community, HousingPicture, Station, StationBooking
from rencai.housing.pictures import PICTURE_EXTENSIONS
from rencai.orgs.models import Region
from rencai.params import parse_id
from rencai.profiles.materials import CONTENT_TYPES

PUBLIC_PAGE_SIZE = 10
STAFF_PAGE_SIZE = 20
PICTURE_TYPES = {CONTENT_TYPES[ext] for ext in PICTURE_EXTENSIONS}


def _ordered_pictures():
    return Prefetch("pictures", queryset=HousingPicture.objects.order_by("order", "id"))


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
    district_id = parse_id(request.GET.get("district"))
    district = str(district_id) if district_id else ""
    if district_id:
        communities = communities.filter(district_id=district_id)
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
    units = services.community_units(community)
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
    content_type = item.content_type if item.content_type in PICTURE_TYPES else None
    response = stored_file_response(
        item.file.name,
        content_type=content_type or "application/octet-stream",
        cache="public, max-age=3600",
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
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


@require_GET
@housing_staff_view
def allocations(request):
    """Approved apartment applications waiting for a room, and the active allocations."""
    waiting = Paginator(services.waiting_for_room(), STAFF_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = services.waiting_rows(waiting.object_list)
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
    choice = services.allocation_choice(
        application,
        community=request.GET.get("community", ""),
        room=request.GET.get("room", ""),
    )
    if choice.error:
        messages.error(request, choice.error)
    ctx = {
        "application": application,
        "asked": choice.asked,
        "community": choice.community,
        "communities": Community.objects.filter(active=True).select_related("district"),
        "rooms": choice.rooms,
        "room": choice.room,
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


@require_GET
@housing_staff_view
def bookings(request):
    qs, state = services.bookings_in(request.GET.get("state", "open"))
    page = Paginator(qs, STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    for booking in page.object_list:
        booking.actions = services.booking_actions(booking)
    ctx = {
        "page": page,
        "state": state,
        "states": [("open", _("待办（已预订、已入住）")), *StationBooking.State.choices],
        "query": urlencode({"state": state}) + "&",
    }
    return render(request, "housing/staff_bookings.html", ctx)


BOOKING_DONE = {
    "check_in": gettext_lazy("已办理入住。"),
    "check_out": gettext_lazy("已办理退房。"),
    "cancel": gettext_lazy("已取消预订，并已通知申请人。"),
}


@require_POST
@housing_staff_view
def booking_action(request, pk):
    booking = access.booking_for_staff(request.user, pk)
    action = request.POST.get("action", "")
    if action not in services.BOOKING_STEPS:
        raise Http404
    try:
        services.booking_step(
            actor=request.user, booking_id=booking.pk, action=action, request=request
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, BOOKING_DONE[action])
    back = urlencode({"state": request.POST.get("state", "open")[:20]})
    return redirect(f"{reverse('housing_staff:bookings')}?{back}")
