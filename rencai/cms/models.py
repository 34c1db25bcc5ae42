"""The public portal's content (F54): articles (政策指南, 公示公告, 招聘信息) and files to
download (资料下载), edited by administrators in the admin."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PublishedQuerySet(models.QuerySet):
    def visible(self, now=None):
        """What the public sees: published, and not dated in the future."""
        return self.filter(published=True, published_at__lte=now or timezone.now())


class PublishedContent(models.Model):
    """What articles and downloads share: the publication switch and date that
    ``visible()`` reads, and when the row was made and last changed."""

    published = models.BooleanField(_("已发布"), default=False)
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = PublishedQuerySet.as_manager()

    class Meta:
        abstract = True


class Article(PublishedContent):
    class Kind(models.TextChoices):
        POLICY_GUIDE = "policy_guide", _("政策指南")
        ANNOUNCEMENT = "announcement", _("公示公告")
        RECRUITMENT = "recruitment", _("招聘信息")
        # AGENCY (F60): the agency subsidies' policy documents
        AGENCY_RULES = "agency_rules", _("实施细则")

    kind = models.CharField(_("栏目"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    summary = models.CharField(
        _("摘要"), max_length=500, blank=True, help_text=_("显示在列表中，一两句话。")
    )
    body = models.TextField(
        _("正文"), help_text=_("纯文本。空一行分段；不支持 HTML，输入的标签会原样显示。")
    )
    source = models.CharField(_("发布单位"), max_length=100, blank=True)
    published_at = models.DateTimeField(
        _("发布时间"), default=timezone.now, help_text=_("晚于现在的，到时才对外显示。")
    )
    pinned = models.BooleanField(_("置顶"), default=False)
    # 招聘信息 only
    employer_name = models.CharField(_("招聘单位"), max_length=200, blank=True)
    positions = models.TextField(_("招聘岗位"), blank=True, help_text=_("一行一个岗位。"))
    contact = models.CharField(_("联系方式"), max_length=200, blank=True)
    deadline = models.DateField(_("报名截止日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("文章")
        verbose_name_plural = _("文章")
        ordering = ["-pinned", "-published_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "published", "-published_at"], name="cms_article_listing")
        ]

    def __str__(self):
        return self.title

    @property
    def position_lines(self) -> list[str]:
        return [line.strip() for line in self.positions.splitlines() if line.strip()]

    def is_closed(self, today=None) -> bool:
        """A recruitment notice whose deadline has passed (the deadline day itself is open)."""
        return self.deadline is not None and self.deadline < (today or timezone.localdate())


def download_path(instance, filename) -> str:
    """``downloads/<random>.<ext>``: the extension is the one the content check accepted
    (kept in ``original_name``); nothing else comes from the uploader."""
    ext = instance.original_name.rsplit(".", 1)[-1].lower() if instance.original_name else "bin"
    return f"downloads/{uuid.uuid4().hex}.{ext}"


class Download(PublishedContent):
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    file = models.FileField(_("文件"), upload_to=download_path, max_length=255)
    original_name = models.CharField(_("原文件名"), max_length=255, editable=False)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0, editable=False)
    content_type = models.CharField(_("文件类型"), max_length=100, editable=False)

    class Meta:
        verbose_name = _("资料下载")
        verbose_name_plural = _("资料下载")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["published", "-published_at"], name="cms_download_listing")]

    def __str__(self):
        return self.title

    @property
    def extension(self) -> str:
        return self.original_name.rsplit(".", 1)[-1].lower() if "." in self.original_name else ""
