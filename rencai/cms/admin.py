from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from rencai.audit.admin_mixins import AuditedAdminMixin
from rencai.cms.files import DOWNLOAD_ACCEPT, check_download
from rencai.cms.models import Article, Download
from rencai.errors import ServiceError


class _ContentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Audited (AuditedAdminMixin also makes a bulk delete one transaction)."""


@admin.register(Article)
class ArticleAdmin(_ContentAdmin):
    list_display = ["title", "kind", "published", "pinned", "published_at", "source", "deadline"]
    list_filter = ["kind", "published", "pinned"]
    search_fields = ["title", "summary", "body", "source", "employer_name"]
    date_hierarchy = "published_at"
    fieldsets = (
        (None, {"fields": ["kind", "title", "summary", "body", "source"]}),
        (_("发布"), {"fields": ["published", "published_at", "pinned"]}),
        (
            _("招聘信息（仅“招聘信息”栏目填写）"),
            {"fields": ["employer_name", "positions", "contact", "deadline"]},
        ),
    )


class DownloadAdminForm(forms.ModelForm):
    class Meta:
        model = Download
        fields = ["title", "description", "file", "published", "published_at"]
        widgets = {"file": forms.FileInput(attrs={"accept": DOWNLOAD_ACCEPT})}
        help_texts = {"file": _("PDF、Word 或 Excel 文件（pdf、doc、docx、xls、xlsx）。")}

    checked = None

    def clean_file(self):
        uploaded = self.cleaned_data.get("file")
        if isinstance(uploaded, UploadedFile):  # a new file, not the one already stored
            try:
                self.checked = check_download(uploaded)
            except ServiceError as exc:
                raise ValidationError(exc.message, code=exc.code) from None
        return uploaded

    def save(self, commit=True):
        if self.checked is not None:
            self.instance.original_name = self.checked.original_name
            self.instance.size = self.checked.size
            self.instance.content_type = self.checked.content_type
        return super().save(commit)


@admin.register(Download)
class DownloadAdmin(_ContentAdmin):
    form = DownloadAdminForm
    list_display = ["title", "original_name", "size_text", "published", "published_at"]
    list_filter = ["published"]
    search_fields = ["title", "description", "original_name"]
    date_hierarchy = "published_at"
    readonly_fields = ["original_name", "size_text", "content_type"]

    @admin.display(description=_("大小"))
    def size_text(self, obj):
        return filesizeformat(obj.size) if obj.size else "—"

    def save_model(self, request, obj, form, change):
        new_file = form.checked is not None
        old_name = None
        if change and new_file:
            old_name = Download.objects.filter(pk=obj.pk).values_list("file", flat=True).first()
        try:
            super().save_model(request, obj, form, change)
        except BaseException:
            # stored under downloads/ only once the row was saved: remove it with the row
            if new_file and obj.file.name.startswith("downloads/"):
                default_storage.delete(obj.file.name)
            raise
        if old_name and old_name != obj.file.name:
            transaction.on_commit(lambda: default_storage.delete(old_name))

    def delete_model(self, request, obj):
        name = obj.file.name
        super().delete_model(request, obj)
        if name:
            transaction.on_commit(lambda: default_storage.delete(name))
