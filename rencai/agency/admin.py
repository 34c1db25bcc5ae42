"""Grades and score adjustments are granted and made by the review chain; the admin only
shows them (the audit log has who did what)."""

from django.contrib import admin

from rencai.agency.models import AgencyGrade, ScoreAdjustment
from rencai.audit.admin_mixins import AuditedAdminMixin


class ReadOnlyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AgencyGrade)
class AgencyGradeAdmin(ReadOnlyAdmin):
    list_display = ["agency", "category_name", "grade", "score", "kind", "valid_until", "state"]
    list_filter = ["state", "service_category", "grade"]
    search_fields = ["agency__name", "agency__credit_code"]
    list_select_related = ["agency"]


@admin.register(ScoreAdjustment)
class ScoreAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ["application", "indicator", "computed", "points", "reason", "actor"]
    list_select_related = ["application", "actor"]
