from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from rencai.accounts import services
from rencai.accounts.models import LegacyRecord, LoginLock, StaffTotp, User
from rencai.audit.admin_mixins import AuditedAdminMixin
from rencai.audit.services import audit_record
from rencai.identity import mask_id_number


class LockedFilter(admin.SimpleListFilter):
    title = _("锁定状态")
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", _("已锁定")), ("no", _("未锁定"))]

    def queryset(self, request, queryset):
        locked = LoginLock.objects.filter(locked_at__isnull=False).values("user_id")
        if self.value() == "yes":
            return queryset.filter(pk__in=locked)
        if self.value() == "no":
            return queryset.exclude(pk__in=locked)
        return queryset


@admin.register(User)
class UserAdmin(AuditedAdminMixin, BaseUserAdmin):
    list_display = [
        "login_name",
        "real_name",
        "kind",
        "masked_id_number",
        "masked_phone",
        "registration_status",
        "is_locked",
        "is_active",
        "closed_at",
    ]
    list_filter = ["kind", "registration_status", LockedFilter, "is_active", "is_staff"]
    search_fields = ["username", "real_name", "id_number", "phone"]
    actions = ["unlock_accounts"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        (
            _("人才平台"),
            {
                "fields": [
                    "kind",
                    "real_name",
                    "id_type",
                    "id_number",
                    "gender",
                    "birth_date",
                    "phone",
                    "employer",
                    "registration_status",
                    "registration_opinion",
                    "notice_accepted_at",
                    "closed_at",
                ]
            },
        ),
    )
    readonly_fields = ["notice_accepted_at", "closed_at"]
    autocomplete_fields = ["employer"]

    def get_queryset(self, request):
        # One query for the whole list, not one per row.
        locked = LoginLock.objects.filter(user=OuterRef("pk"), locked_at__isnull=False)
        return super().get_queryset(request).annotate(_locked=Exists(locked))

    @admin.display(description=_("登录名"), ordering="username")
    def login_name(self, obj):
        """A person's login name is their ID number: masked in the list like every other
        list (issue 8); the account's own page shows it in full to the administrator."""
        if obj.is_person and obj.username == obj.id_number:
            return obj.masked_id_number
        return obj.username

    @admin.display(boolean=True, description=_("已锁定"))
    def is_locked(self, obj):
        if hasattr(obj, "_locked"):
            return obj._locked
        return services.user_is_locked(obj)

    @admin.action(description=_("解除所选账号的登录锁定"))
    def unlock_accounts(self, request, queryset):
        total = sum(
            services.account_unlock(actor=request.user, user=u, request=request) for u in queryset
        )
        messages.success(
            request,
            ngettext("已解除 %(n)d 个锁定。", "已解除 %(n)d 个锁定。", total) % {"n": total},
        )


@admin.register(LoginLock)
class LoginLockAdmin(admin.ModelAdmin):
    list_display = ["key", "user", "failures", "locked_at", "last_failure_at"]
    list_filter = [("locked_at", admin.EmptyFieldListFilter)]
    search_fields = ["key", "user__username", "user__real_name"]
    actions = ["unlock"]
    readonly_fields = ["key", "user", "failures", "locked_at", "last_failure_at"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("解除锁定"))
    def unlock(self, request, queryset):
        for lock in queryset:
            services.lock_unlock(actor=request.user, lock=lock, request=request)
        n = queryset.count()
        messages.success(
            request, ngettext("已解除 %(n)d 个锁定。", "已解除 %(n)d 个锁定。", n) % {"n": n}
        )


@admin.register(LegacyRecord)
class LegacyRecordAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["masked_id_number", "name", "source", "user", "imported_at", "linked_at"]
    list_select_related = ["user"]
    search_fields = ["id_number", "name"]  # the whole number: it is encrypted
    list_filter = ["source"]
    raw_id_fields = ["user"]

    @admin.display(description=_("证件号码"))
    def masked_id_number(self, obj):
        return mask_id_number(obj.id_number)


@admin.register(StaffTotp)
class StaffTotpAdmin(admin.ModelAdmin):
    """Who has bound a second factor. Deleting a row resets it: the staff member binds a
    new app at the next login (lost phone and no recovery code left). The secret and the
    recovery codes are never shown."""

    list_display = ["user", "confirmed_at", "recovery_left"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__real_name"]
    fields = ["user", "confirmed_at", "recovery_left"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("剩余恢复码"))
    def recovery_left(self, obj):
        return obj.recovery_left

    def _audit_reset(self, request, obj):
        audit_record(
            action="account.totp_reset",
            actor=request.user,
            role="admin",
            obj=obj.user,
            request=request,
        )

    def delete_model(self, request, obj):
        self._audit_reset(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("user"):
            self._audit_reset(request, obj)
        super().delete_queryset(request, queryset)
