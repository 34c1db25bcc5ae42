"""The catalogue is edited here: stations with their room types and pictures, communities
with their unit types, rooms and pictures, and the unit types' own pictures and floor plans.
Every upload goes through ``check_picture``. Allocations and bookings are read-only here;
they change through the staff pages (``rencai.housing.services``)."""

from django.contrib import admin
from django.db import models

from rencai.audit.admin_mixins import AuditedAdminMixin
from rencai.housing.forms import PictureAdminForm
from rencai.housing.models import (
    Allocation,
    Community,
    HousingPicture,
    Room,
    Station,
    StationBooking,
    StationRoomType,
    UnitType,
)

# VR panoramas: an address typed without a scheme means https (Django 6's default).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


class _CatalogueAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Audited (AuditedAdminMixin also makes a bulk delete one transaction)."""

    formfield_overrides = HTTPS_URLS


class _PictureInline(admin.TabularInline):
    model = HousingPicture
    form = PictureAdminForm
    fields = ["file", "caption", "order"]
    extra = 1


class StationPictureInline(_PictureInline):
    fk_name = "station"


class CommunityPictureInline(_PictureInline):
    fk_name = "community"


class UnitTypePictureInline(_PictureInline):
    fk_name = "unit_type"
    fields = ["kind", "file", "caption", "order"]


class StationRoomTypeInline(admin.TabularInline):
    model = StationRoomType
    extra = 1


@admin.register(Station)
class StationAdmin(_CatalogueAdmin):
    list_display = ["name", "district", "address", "phone", "active", "order"]
    list_filter = ["active", "district"]
    list_editable = ["active", "order"]
    search_fields = ["name", "address"]
    inlines = [StationRoomTypeInline, StationPictureInline]


class UnitTypeInline(admin.TabularInline):
    model = UnitType
    formfield_overrides = HTTPS_URLS
    fields = ["name", "area", "layout", "vr_url", "order"]
    show_change_link = True  # its pictures and floor plan are edited on its own page
    extra = 1


class RoomInline(admin.TabularInline):
    model = Room
    fields = ["building", "number", "unit_type"]
    extra = 1

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "unit_type":
            object_id = request.resolver_match.kwargs.get("object_id") if request else None
            kwargs["queryset"] = UnitType.objects.filter(community_id=object_id or 0)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Community)
class CommunityAdmin(_CatalogueAdmin):
    list_display = ["name", "district", "address", "active", "order"]
    list_filter = ["active", "district"]
    list_editable = ["active", "order"]
    search_fields = ["name", "address"]
    inlines = [UnitTypeInline, RoomInline, CommunityPictureInline]


@admin.register(UnitType)
class UnitTypeAdmin(_CatalogueAdmin):
    list_display = ["name", "community", "area", "layout"]
    list_filter = ["community"]
    search_fields = ["name", "community__name"]
    inlines = [UnitTypePictureInline]


class UnitTypeFilter(admin.RelatedFieldListFilter):
    """A unit type is shown as "community · name": read them with their communities in
    one query, not one query per unit type."""

    def field_choices(self, field, request, model_admin):
        return [(u.pk, str(u)) for u in UnitType.objects.select_related("community")]


@admin.register(Room)
class RoomAdmin(_CatalogueAdmin):
    list_display = ["community", "building", "number", "unit_type"]
    list_filter = ["community", ("unit_type", UnitTypeFilter)]
    search_fields = ["community__name", "building", "number"]
    list_select_related = ["community", "unit_type__community"]


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Allocation)
class AllocationAdmin(_ReadOnlyAdmin):
    """Read-only: allocations are made and ended on the staff page, with audit rows."""

    list_display = ["room", "person", "allocated_at", "ended_at", "end_reason"]
    list_filter = ["room__community"]
    search_fields = ["person__real_name", "room__building", "room__number"]
    list_select_related = ["room__community", "person"]


@admin.register(StationBooking)
class StationBookingAdmin(_ReadOnlyAdmin):
    """Read-only: bookings come from approved applications and change on the staff page."""

    list_display = ["station", "person", "date_from", "date_to", "state"]
    list_filter = ["state", "station"]
    search_fields = ["person__real_name"]
    list_select_related = ["station", "person"]
