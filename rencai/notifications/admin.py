from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from rencai.identity import mask_phone
from rencai.notifications.models import SmsMessage


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "masked_phone", "purpose", "status", "created_at", "sent_at"]
    list_filter = ["status", "purpose"]
    search_fields = ["phone"]  # the whole number: it is encrypted (issue 8)
    readonly_fields = [f.name for f in SmsMessage._meta.fields]

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    def has_add_permission(self, request):
        return False
