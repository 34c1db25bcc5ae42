"""A small demo set of the managed lists (F14), loaded by ``load_demo``. Idempotent."""

from rencai.profiles.models import Qualification, School

DEMO_SCHOOLS = [
    # (name, Ministry of Education institution code, region)
    ("北京大学", "10001", "北京市"),
    ("中国人民大学", "10002", "北京市"),
    ("清华大学", "10003", "北京市"),
    ("北京师范大学", "10027", "北京市"),
    ("内蒙古大学", "10126", "内蒙古自治区"),
    ("哈尔滨工业大学", "10213", "黑龙江省"),
    ("复旦大学", "10246", "上海市"),
    ("上海交通大学", "10248", "上海市"),
    ("南京大学", "10284", "江苏省"),
    ("浙江大学", "10335", "浙江省"),
    ("武汉大学", "10486", "湖北省"),
    ("中山大学", "10558", "广东省"),
    ("四川大学", "10610", "四川省"),
    ("西安交通大学", "10698", "陕西省"),
]

DEMO_QUALIFICATIONS = [
    ("电工", Qualification.Level.LEVEL_4),
    ("电工", Qualification.Level.LEVEL_3),
    ("焊工", Qualification.Level.LEVEL_3),
    ("钳工", Qualification.Level.LEVEL_2),
    ("数控车工", Qualification.Level.LEVEL_1),
    ("育婴员", Qualification.Level.LEVEL_5),
]


def load_demo_lists() -> tuple[int, int]:
    """Create or refresh the demo schools and qualifications; returns their counts."""
    for name, code, region in DEMO_SCHOOLS:
        School.objects.update_or_create(
            name=name, defaults={"code": code, "region": region, "active": True}
        )
    for name, level in DEMO_QUALIFICATIONS:
        Qualification.objects.update_or_create(name=name, level=level, defaults={"active": True})
    return len(DEMO_SCHOOLS), len(DEMO_QUALIFICATIONS)
