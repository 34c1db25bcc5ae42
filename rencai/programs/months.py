"""Month arithmetic for claims (F19, F25). A claim month is written "YYYY-MM".

The manuals write "申请月数 = 申请结束时间 - 申请开始时间 - 扣减月数". Both ends are claimed
months, so by default they both count (January to December is 12 months); a pack can set
``period.inclusive: false`` for the literal difference."""

import datetime
import re

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(value: str) -> int:
    """ "2024-03" → a month index (years × 12 + month − 1). Raises ValueError."""
    match = MONTH.match(value or "")
    if not match:
        raise ValueError(f"not a month: {value!r}")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1900 <= year <= 2999:
        raise ValueError(f"year out of range: {value!r}")
    return year * 12 + month - 1


def month_start(index: int) -> datetime.date:
    return datetime.date(index // 12, index % 12 + 1, 1)


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def span_months(start: int, end: int, *, inclusive: bool = True) -> int:
    """Months from start to end (indices); negative when end is before start."""
    return end - start + (1 if inclusive else 0)


def claimed_months(start: int, end: int, deducted: int, *, inclusive: bool = True) -> int:
    return span_months(start, end, inclusive=inclusive) - deducted


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Two inclusive month ranges share at least one month."""
    return a[0] <= b[1] and b[0] <= a[1]


def overlapping_months(a: tuple[int, int], b: tuple[int, int]) -> list[int]:
    return list(range(max(a[0], b[0]), min(a[1], b[1]) + 1))


def add_years(day: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
