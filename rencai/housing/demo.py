"""Demo housing, after the operator's manual (section 2): one 人才驿站 hotel and two 人才公寓
communities with unit types A–D and their rooms, each with a few generated pictures. No
VR links: an operator sets the real panorama addresses in the admin.
``load_demo`` calls ``load_demo_housing()`` after it has made the regions; running it again
changes nothing."""

import hashlib
import struct
import zlib

from django.core.files.base import ContentFile
from django.db import transaction

from rencai.housing.models import (
    Community,
    HousingPicture,
    Room,
    Station,
    StationRoomType,
    UnitType,
)
from rencai.orgs.models import Region

STATION_DESCRIPTION = (
    "酒店是具有先进的设备设施和功能齐全的酒店。集餐饮、住宿、娱乐、会议、休闲为一体。"
    "酒店精美欧陆风情的装修，细致入微的服务，浪漫舒适的客房，恬静优雅的酒吧，"
    "为您提供时尚，温馨，便捷，安全，实惠为一体的优质服务，是商务会客，朋友相聚，"
    "休闲出行的理想家园。"
)

# unit type -> (area m², layout, {building: room numbers}) as listed in the manual
UNIT_TYPES = {
    "A 户型": ("89.50", "三室两厅", {"1号楼": (1, 4), "5号楼": (1, 4), "16号楼": (1, 4)}),
    "B 户型": ("76.20", "两室两厅", {"1号楼": (2, 3), "5号楼": (2, 3), "16号楼": (2, 3)}),
    "C 户型": ("64.80", "两室一厅", {"2号楼": (1, 4), "3号楼": (1, 4), "7号楼": (1, 4)}),
    "D 户型": ("45.30", "一室一厅", {"2号楼": (2, 3), "3号楼": (2, 3), "7号楼": (2, 3)}),
}

COMMUNITIES = [
    ("山水华府·兰花园", "襄阳市襄城区卧龙大桥与檀溪路交汇", 0, (46, 125, 50)),
    ("汉水华城悦苑", "襄阳市樊城区长虹路与人民路交叉口", 1, (21, 101, 192)),
]


def make_png(width: int, height: int, rgb: tuple[int, int, int], stripe: int = 0) -> bytes:
    """A small valid PNG: one colour, with lighter horizontal stripes every ``stripe`` rows
    (0: none). Built with zlib and struct only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    light = bytes(min(255, c + 80) for c in rgb)
    rows = []
    for y in range(height):
        colour = light if stripe and (y // stripe) % 2 else bytes(rgb)
        rows.append(b"\x00" + colour * width)  # filter type 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def _add_picture(*, caption: str, rgb, stripe=0, kind=HousingPicture.Kind.PHOTO, order=0, **owner):
    if HousingPicture.objects.filter(caption=caption, **owner).exists():
        return
    data = make_png(360, 240, rgb, stripe)
    picture = HousingPicture(
        kind=kind,
        caption=caption,
        order=order,
        original_name=f"{caption}.png",
        content_type="image/png",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        **owner,
    )
    picture.file.save("demo.png", ContentFile(data), save=False)
    picture.save()


def _districts() -> tuple[Region, Region]:
    districts = list(Region.objects.filter(level=Region.Level.DISTRICT).order_by("code")[:2])
    if not districts:
        raise RuntimeError("load_demo_housing needs the demo regions: run load_demo first.")
    return districts[0], districts[-1]


@transaction.atomic
def load_demo_housing() -> None:
    first, second = _districts()
    station, _ = Station.objects.update_or_create(
        name="江南园林景观酒店",
        defaults={
            "district": first,
            "address": "湖北省襄阳市襄城区檀溪路176号",
            "description": STATION_DESCRIPTION,
            "phone": "0710-3600000",
            "active": True,
        },
    )
    for name, beds, rooms, text in [
        ("标准间", 2, 20, "两张单人床，独立卫浴，免费宽带。"),
        ("大床房", 1, 10, "一张双人床，独立卫浴，免费宽带。"),
    ]:
        StationRoomType.objects.update_or_create(
            station=station, name=name, defaults={"beds": beds, "rooms": rooms, "description": text}
        )
    _add_picture(station=station, caption="酒店外景", rgb=(183, 28, 28), stripe=30)
    _add_picture(station=station, caption="标准间", rgb=(121, 85, 72), stripe=0, order=1)

    for name, address, which, rgb in COMMUNITIES:
        community, _ = Community.objects.update_or_create(
            name=name,
            defaults={
                "district": first if which == 0 else second,
                "address": address,
                "description": f"{name}人才公寓，拎包入住，周边配套齐全。",
                "active": True,
                "order": which,
            },
        )
        _add_picture(community=community, caption=f"{name}小区实景", rgb=rgb, stripe=24)
        for order, (unit_name, (area, layout, buildings)) in enumerate(UNIT_TYPES.items()):
            unit_type, _ = UnitType.objects.update_or_create(
                community=community,
                name=unit_name,
                defaults={"area": area, "layout": layout, "order": order},
            )
            _add_picture(
                unit_type=unit_type,
                caption=f"{unit_name}平面图",
                rgb=(250, 250, 250),
                stripe=20,
                kind=HousingPicture.Kind.FLOOR_PLAN,
            )
            _add_picture(unit_type=unit_type, caption=f"{unit_name}客厅", rgb=rgb, order=1)
            for building, numbers in buildings.items():
                for number in numbers:
                    Room.objects.get_or_create(
                        community=community,
                        building=building,
                        number=f"{number}号房",
                        defaults={"unit_type": unit_type},
                    )
