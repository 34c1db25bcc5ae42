from django.contrib import admin

from rencai.audit.admin_mixins import AuditedAdminMixin
from rencai.profiles.models import Material, Qualification, School


@admin.register(School)
class SchoolAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "region", "active"]
    list_filter = ["active", "region"]
    list_editable = ["active"]
    search_fields = ["name", "code", "region"]


@admin.register(Qualification)
class QualificationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "level", "active"]
    list_filter = ["active", "level"]
    list_editable = ["active"]
    search_fields = ["name"]


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    """Read-only: files are opened through the access-checked view, never from here."""

    list_display = ["original_name", "material_type", "owner", "size", "uploaded_at"]
    list_filter = ["material_type"]
    search_fields = ["original_name", "owner__real_name", "sha256"]
    raw_id_fields = ["owner"]
    exclude = ["file"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
