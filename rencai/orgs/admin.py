from django.contrib import admin

from rencai.audit.admin_mixins import AuditedAdminMixin
from rencai.orgs.models import Authority, Employer, Membership, Region, RegistrationChange


@admin.register(Region)
class RegionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]


@admin.register(Authority)
class AuthorityAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "region"]
    list_filter = ["kind", "region__level"]
    search_fields = ["name"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]
    fields = ["user", "role"]


@admin.register(Employer)
class EmployerAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "credit_code", "kind", "district", "status", "created_at"]
    list_filter = ["status", "kind", "district"]
    search_fields = ["name", "credit_code"]
    inlines = [MembershipInline]
    readonly_fields = ["reviewed_at", "reviewed_by", "created_at"]


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "role", "authority", "employer", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__real_name", "authority__name", "employer__name"]
    raw_id_fields = ["user", "employer"]


@admin.register(RegistrationChange)
class RegistrationChangeAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Read only: changes are requested and decided through the pages (F61)."""

    list_display = ["employer", "state", "created_at", "reviewer", "decided_at"]
    list_filter = ["state"]
    search_fields = ["employer__name", "employer__credit_code"]
    readonly_fields = [f.name for f in RegistrationChange._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
