"""Adding and lifting exception-list entries in the admin. Both go through the services
(one transaction, one audit row each); entries are never deleted, and only the lift
reason of an entry can be filled in afterwards."""

from django import forms
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rencai.errors import ServiceError
from rencai.integrity import services
from rencai.integrity.models import ExceptionEntry


class EntryAddForm(forms.ModelForm):
    class Meta:
        model = ExceptionEntry
        fields = ["person", "source", "reason", "starts_on", "ends_on"]
        help_texts = {
            "starts_on": _("不填为今天。"),
            "ends_on": _("不填为开始日期后 365 天；当天起不再限制。"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].required = True
        self.fields["starts_on"].required = False
        self.fields["ends_on"].required = False

    def clean(self):
        data = super().clean()
        try:
            data["reason"] = services.clean_reason(data.get("reason"))
            starts_on = data.get("starts_on") or timezone.localdate()
            services.check_period(
                starts_on, data.get("ends_on") or services.default_ends_on(starts_on)
            )
        except ServiceError as exc:
            self.add_error(exc.field, exc.message)
        return data


class EntryLiftForm(forms.ModelForm):
    lift_reason = forms.CharField(
        label=_("解除原因"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("填写后保存，即提前解除限制。记录会保留，不能删除。"),
    )

    class Meta:
        model = ExceptionEntry
        fields = ["lift_reason"]

    def clean_lift_reason(self):
        try:
            return services.clean_reason(self.cleaned_data.get("lift_reason"))
        except ServiceError as exc:
            raise forms.ValidationError(exc.message) from None


class StatusFilter(admin.SimpleListFilter):
    title = _("状态")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", _("限制中")), ("ended", _("已到期")), ("lifted", _("已解除"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "active":
            return queryset.filter(lifted_at__isnull=True, starts_on__lte=today, ends_on__gt=today)
        if self.value() == "ended":
            return queryset.filter(lifted_at__isnull=True, ends_on__lte=today)
        if self.value() == "lifted":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


DETAIL_FIELDS = [
    "person",
    "masked_id_number",
    "source",
    "reason",
    "starts_on",
    "ends_on",
    "created_by",
    "created_at",
    "lifted_at",
    "lifted_by",
]


@admin.register(ExceptionEntry)
class ExceptionEntryAdmin(admin.ModelAdmin):
    list_display = [
        "person",
        "masked_id_number",
        "source",
        "starts_on",
        "ends_on",
        "status",
        "created_by",
    ]
    list_filter = [StatusFilter, "source"]
    list_select_related = ["person", "created_by"]
    search_fields = ["person__real_name", "person__username", "id_number", "reason"]
    date_hierarchy = "starts_on"
    autocomplete_fields = ["person"]

    @admin.display(description=_("证件号码"))
    def masked_id_number(self, obj):
        return obj.masked_id_number

    @admin.display(description=_("状态"))
    def status(self, obj):
        if obj.lifted_at is not None:
            return _("已解除")
        today = timezone.localdate()
        if obj.starts_on > today:
            return _("未开始")
        return _("限制中") if obj.is_active(today) else _("已到期")

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = EntryAddForm if obj is None else EntryLiftForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": EntryAddForm.Meta.fields})]
        return [(None, {"fields": DETAIL_FIELDS}), (_("解除"), {"fields": ["lift_reason"]})]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else DETAIL_FIELDS

    def has_change_permission(self, request, obj=None):
        # A lifted entry is shown read-only: nothing about it can change any more.
        if obj is not None and obj.lifted_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.entry_lift(
                actor=request.user, entry_id=obj.pk, reason=data["lift_reason"], request=request
            )
        else:
            entry = services.entry_add(
                actor=request.user,
                person=data["person"],
                reason=data["reason"],
                source=data["source"],
                starts_on=data.get("starts_on"),
                ends_on=data.get("ends_on"),
                request=request,
            )
            obj.pk = entry.pk
        obj.refresh_from_db()
