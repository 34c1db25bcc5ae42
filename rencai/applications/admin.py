"""Applications are changed only through their state machine: the admin reads them."""

from django.contrib import admin

from rencai.applications.models import Application, ApplicationEvent


class EventInline(admin.TabularInline):
    model = ApplicationEvent
    fields = ["at", "action", "actor_name", "organisation", "stage_name", "to_state", "opinion"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["number", "program", "applicant", "employer", "state", "submitted_at"]
    list_filter = ["state", "program"]
    search_fields = ["number", "applicant__real_name"]
    list_select_related = ["program", "applicant", "employer"]
    inlines = [EventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
