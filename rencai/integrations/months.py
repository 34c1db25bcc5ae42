"""Months as ``datetime.date`` values on the first day of the month."""

import datetime
import re

_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:\s*[-/.]\s*(\d{1,2})\s*日?)?$")


def parse_month(value) -> datetime.date:
    """``2019-06``, ``2019-6``, ``201906``, ``2019/06``, ``2019年6月``, a full date such as
    ``2019/6/1``, a date or a datetime → the first day of that month. Raises ValueError."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = str(value or "").strip()
    if text.isdigit():
        if len(text) != 6:
            raise ValueError(text)  # "20196" is ambiguous
        year, month, day = int(text[:4]), int(text[4:]), None
    else:
        match = _MONTH.match(text)
        if not match:
            raise ValueError(text)
        year, month = int(match.group(1)), int(match.group(2))
        day = int(match.group(3)) if match.group(3) else None
    if year < 1900:
        raise ValueError(text)
    datetime.date(year, month, day or 1)  # ValueError for month 13 or 2019-02-30
    return datetime.date(year, month, 1)


def month_range(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """Every month from ``start`` to ``end``, both included."""
    start, end = start.replace(day=1), end.replace(day=1)
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(datetime.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def month_label(month: datetime.date) -> str:
    """2017年1月"""
    return f"{month.year}年{month.month}月"
