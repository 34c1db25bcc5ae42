from django.db import transaction

from rencai.audit.services import audit_record


def _summary(obj) -> dict:
    """A short, masked description of a changed admin object for the audit row."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in {"password", "id_number", "phone"}:
            continue
        value = field.value_from_object(obj)
        data[field.name] = value if isinstance(value, int | bool | type(None)) else str(value)[:80]
    return data


class AuditedAdminMixin:
    """Every save and delete made in the admin writes an audit row in the same transaction
    (the admin's change views run inside one)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            action=f"admin.{'change' if change else 'add'}",
            actor=request.user,
            role="admin",
            obj=obj,
            after=_summary(obj),
            extra={"fields": sorted(form.changed_data)} if change else None,
            request=request,
        )

    def delete_model(self, request, obj):
        before, pk = _summary(obj), obj.pk
        label = f"{obj._meta.app_label}.{obj._meta.model_name}"
        super().delete_model(request, obj)
        audit_record(
            action="admin.delete",
            actor=request.user,
            role="admin",
            object_type=label,
            object_id=str(pk),
            before=before,
            request=request,
        )

    def delete_queryset(self, request, queryset):
        # "Delete selected": every row with its audit row, all or nothing.
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        for obj in [*formset.new_objects, *(o for o, _fields in formset.changed_objects)]:
            audit_record(
                action="admin.change",
                actor=request.user,
                role="admin",
                obj=obj,
                after=_summary(obj),
                request=request,
            )
        for obj in formset.deleted_objects:
            audit_record(
                action="admin.delete",
                actor=request.user,
                role="admin",
                object_type=f"{obj._meta.app_label}.{obj._meta.model_name}",
                object_id="",
                before=_summary(obj),
                request=request,
            )
