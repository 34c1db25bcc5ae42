from django.contrib import admin

from rencai.notifications.models import SmsMessage


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "phone", "purpose", "status", "created_at", "sent_at"]
    list_filter = ["status", "purpose"]
    search_fields = ["phone"]
    readonly_fields = [f.name for f in SmsMessage._meta.fields]

    def has_add_permission(self, request):
        return False
