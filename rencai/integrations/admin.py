"""Read-only lists of the imported outside data: they change only through an import
(``manage.py import_outside_data``), so that every change has an ImportBatch and an audit row."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from rencai.identity import mask_id_number
from rencai.integrations.models import (
    EducationCertificate,
    ImportBatch,
    InsuredPerson,
    PensionContribution,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    list_per_page = 50
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.display(description=_("身份证号码"))
def masked_id(obj):
    return mask_id_number(obj.id_number)


@admin.register(InsuredPerson)
class InsuredPersonAdmin(ReadOnlyAdmin):
    list_display = ["name", masked_id, "status", "bank_name", "imported_at"]
    list_filter = ["status"]
    search_fields = ["=id_number", "name"]


@admin.register(PensionContribution)
class PensionContributionAdmin(ReadOnlyAdmin):
    list_display = [masked_id, "month", "employer_name", "amount", "imported_at"]
    search_fields = ["=id_number", "employer_name"]
    date_hierarchy = "month"


@admin.register(EducationCertificate)
class EducationCertificateAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "holder_name", "school_name", "level", "awarded_on"]
    list_filter = ["kind", "level"]
    search_fields = ["=number", "holder_name", "school_name"]  # the ID number is encrypted


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = [
        "imported_at",
        "kind",
        "file_name",
        "imported_by",
        "accepted_count",
        "replaced_count",
        "rejected_count",
    ]
    list_filter = ["kind"]
    search_fields = ["file_name", "imported_by__username", "imported_by__real_name"]
