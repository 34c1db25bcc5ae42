"""Programs are edited in their policy pack (YAML) and loaded with ``load_policy``; the
admin shows what is loaded and lets an administrator switch a program off."""

from django.contrib import admin
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from rencai.audit.admin_mixins import AuditedAdminMixin
from rencai.programs.models import Pack, Program


@admin.register(Pack)
class PackAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "source", "active", "loaded_at"]
    readonly_fields = [
        "code",
        "name",
        "source",
        "sha256",
        "city",
        "loaded_at",
        "agency_trees",
    ]
    exclude = ["agency"]

    @admin.display(description=_("分类分级评价指标"))
    def agency_trees(self, obj):
        """AGENCY (F57): each service category's tree, points and grades, as loaded. The
        pack's YAML is where they are edited (docs/policy-packs.md)."""
        if not obj.agency:
            return "—"
        return render_to_string("agency/_trees_admin.html", {"agency": obj.agency})

    def has_add_permission(self, request):
        return False


@admin.register(Program)
class ProgramAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "category_name", "applicant_kind", "pack", "active"]
    list_filter = ["pack", "applicant_kind", "active"]
    search_fields = ["code", "name"]
    readonly_fields = [
        "pack",
        "code",
        "name",
        "category",
        "category_name",
        "applicant_kind",
        "order",
        "current_version",
        "versions_loaded",
    ]

    @admin.display(description=_("已加载的版本"))
    def versions_loaded(self, obj):
        return "；".join(
            f"v{v.number} {v.created_at:%Y-%m-%d %H:%M}" for v in obj.versions.order_by("number")
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
