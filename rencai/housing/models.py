"""Talent housing (F51, F52): 人才驿站 hotels with their room types, 人才公寓 communities
with their unit types (户型) and rooms, the pictures shown to the public, the allocation of
an apartment room to an approved application, and the booking of a station stay.

Every write goes through ``services.py``; the admin edits the catalogue (stations,
communities, unit types, rooms, pictures) only."""

import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rencai.orgs.models import Region


def natural_key(text: str) -> tuple:
    """``"16号楼"`` after ``"5号楼"``: numbers inside names compare as numbers."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


class Station(models.Model):
    """A 人才驿站: a hotel where talent can stay for a short time."""

    name = models.CharField(_("名称"), max_length=100)
    district = models.ForeignKey(
        Region,
        verbose_name=_("所在区县"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.DISTRICT},
    )
    address = models.CharField(_("地址"), max_length=200)
    description = models.TextField(_("简介"), blank=True)
    vr_url = models.URLField(_("VR全景"), blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("人才驿站")
        verbose_name_plural = _("人才驿站")

    def __str__(self):
        return self.name


class StationRoomType(models.Model):
    station = models.ForeignKey(
        Station, verbose_name=_("人才驿站"), on_delete=models.CASCADE, related_name="room_types"
    )
    name = models.CharField(_("房型"), max_length=50, help_text=_("例如：标准间、大床房"))
    beds = models.PositiveSmallIntegerField(_("床位数"), default=1)
    rooms = models.PositiveIntegerField(_("房间数"), default=0)
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        ordering = ["station", "id"]
        verbose_name = _("驿站房型")
        verbose_name_plural = _("驿站房型")

    def __str__(self):
        return f"{self.station} · {self.name}"


class Community(models.Model):
    """A 人才公寓小区."""

    name = models.CharField(_("小区名称"), max_length=100)
    district = models.ForeignKey(
        Region,
        verbose_name=_("所在区县"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"level": Region.Level.DISTRICT},
    )
    address = models.CharField(_("地址"), max_length=200)
    description = models.TextField(_("简介"), blank=True)
    vr_url = models.URLField(_("VR全景"), blank=True)
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("人才公寓小区")
        verbose_name_plural = _("人才公寓小区")

    def __str__(self):
        return self.name


class UnitType(models.Model):
    """A 户型 of a community (A 户型: 两室一厅, 89 m²)."""

    community = models.ForeignKey(
        Community, verbose_name=_("小区"), on_delete=models.CASCADE, related_name="unit_types"
    )
    name = models.CharField(_("户型名称"), max_length=50, help_text=_("例如：A 户型"))
    area = models.DecimalField(_("面积（平方米）"), max_digits=7, decimal_places=2)
    layout = models.CharField(_("格局"), max_length=50, blank=True, help_text=_("例如：两室一厅"))
    vr_url = models.URLField(_("VR全景"), blank=True)
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["community", "order", "name"]
        verbose_name = _("户型")
        verbose_name_plural = _("户型")
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="housing_unit_type_unique")
        ]

    def __str__(self):
        return f"{self.community} · {self.name}"


class Room(models.Model):
    """One apartment: ``1号楼`` ``1号房``."""

    community = models.ForeignKey(
        Community, verbose_name=_("小区"), on_delete=models.PROTECT, related_name="rooms"
    )
    unit_type = models.ForeignKey(
        UnitType, verbose_name=_("户型"), on_delete=models.PROTECT, related_name="rooms"
    )
    building = models.CharField(_("楼栋"), max_length=30, help_text=_("例如：1号楼"))
    number = models.CharField(_("房号"), max_length=30, help_text=_("例如：1号房"))

    class Meta:
        ordering = ["community", "building", "number"]
        verbose_name = _("公寓房间")
        verbose_name_plural = _("公寓房间")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "building", "number"], name="housing_room_unique"
            )
        ]

    def __str__(self):
        return f"{self.community.name} {self.label}"

    def clean(self):
        if self.unit_type_id and self.community_id:
            if (
                UnitType.objects.filter(pk=self.unit_type_id)
                .values_list("community_id", flat=True)
                .first()
                != self.community_id
            ):
                raise ValidationError({"unit_type": _("请选择本小区的户型。")})

    @property
    def label(self) -> str:
        return f"{self.building}{self.number}"

    def sort_key(self) -> tuple:
        return (natural_key(self.building), natural_key(self.number))


def picture_path(instance, filename: str) -> str:
    """``housing/<random>.<ext>``: nothing in the stored name comes from the uploader
    except the extension, which the upload check has matched to the content."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"housing/{uuid.uuid4().hex}.{ext}"


class HousingPicture(models.Model):
    """A picture of exactly one station, community or unit type. Served to the public by
    ``housing:picture`` with the content type stored when it was checked."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("实景图")
        FLOOR_PLAN = "floor_plan", _("户型图")

    station = models.ForeignKey(
        Station,
        verbose_name=_("人才驿站"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pictures",
    )
    community = models.ForeignKey(
        Community,
        verbose_name=_("小区"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pictures",
    )
    unit_type = models.ForeignKey(
        UnitType,
        verbose_name=_("户型"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="pictures",
    )
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices, default=Kind.PHOTO)
    file = models.FileField(_("图片"), max_length=255, upload_to=picture_path)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    content_type = models.CharField(_("文件类型"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    order = models.PositiveIntegerField(_("排序"), default=0)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("图片")
        verbose_name_plural = _("图片")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(station__isnull=False, community__isnull=True, unit_type__isnull=True)
                    | Q(station__isnull=True, community__isnull=False, unit_type__isnull=True)
                    | Q(station__isnull=True, community__isnull=True, unit_type__isnull=False)
                ),
                name="housing_picture_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(kind="photo") | Q(unit_type__isnull=False),
                name="housing_picture_floor_plan_of_unit_type",
            ),
        ]

    def __str__(self):
        return self.caption or self.original_name or f"#{self.pk}"


class Allocation(models.Model):
    """A room given to the person of an approved apartment application. Active while
    ``ended_at`` is empty; the database allows one active allocation per room and one per
    application, so two staff acting at once can never give one room to two people."""

    room = models.ForeignKey(
        Room, verbose_name=_("房间"), on_delete=models.PROTECT, related_name="allocations"
    )
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("申报"),
        on_delete=models.PROTECT,
        related_name="housing_allocations",
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("入住人"),
        on_delete=models.PROTECT,
        related_name="housing_allocations",
    )
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("分配人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    allocated_at = models.DateTimeField(_("分配时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    end_reason = models.CharField(_("结束原因"), max_length=200, blank=True)

    class Meta:
        ordering = ["-allocated_at", "-id"]
        verbose_name = _("公寓分配")
        verbose_name_plural = _("公寓分配")
        constraints = [
            models.UniqueConstraint(
                fields=["room"],
                condition=Q(ended_at__isnull=True),
                name="housing_one_active_allocation_per_room",
            ),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(ended_at__isnull=True),
                name="housing_one_active_allocation_per_application",
            ),
        ]

    def __str__(self):
        return f"{self.room} · {self.person}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None


class StationBooking(models.Model):
    """A station stay, created when a station application is approved."""

    class State(models.TextChoices):
        BOOKED = "booked", _("已预订")
        CHECKED_IN = "checked_in", _("已入住")
        CHECKED_OUT = "checked_out", _("已退房")
        CANCELLED = "cancelled", _("已取消")

    application = models.OneToOneField(
        "applications.Application",
        verbose_name=_("申报"),
        on_delete=models.PROTECT,
        related_name="station_booking",
    )
    station = models.ForeignKey(
        Station, verbose_name=_("人才驿站"), on_delete=models.PROTECT, related_name="bookings"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("入住人"),
        on_delete=models.PROTECT,
        related_name="station_bookings",
    )
    date_from = models.DateField(_("入住日期"))
    date_to = models.DateField(_("离店日期"))
    state = models.CharField(
        _("状态"), max_length=12, choices=State.choices, default=State.BOOKED, db_index=True
    )
    created_at = models.DateTimeField(_("预订时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    checked_in_at = models.DateTimeField(_("入住时间"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("退房时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最近办理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-date_from", "-id"]
        verbose_name = _("驿站预订")
        verbose_name_plural = _("驿站预订")
        constraints = [
            models.CheckConstraint(
                condition=Q(date_to__gte=models.F("date_from")),
                name="housing_booking_dates_in_order",
            )
        ]

    def __str__(self):
        return f"{self.station} · {self.person} · {self.date_from}"
