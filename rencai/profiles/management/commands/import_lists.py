"""Import the managed lists (F14) from UTF-8 CSV files with a header row (a BOM is fine).

Schools: ``name`` (or 学校名称/名称), optional ``code`` (院校代码), ``region`` (所在地区),
``active`` (启用: 1/0, true/false, 是/否). Qualifications: ``name`` (or 职业名称/名称),
``level`` (等级: 1–5, or 五级…一级, 初级工…高级技师), optional ``active``.

Rows are matched by name (schools) or name and level (qualifications) and created or
updated. Invalid rows are rejected and reported by line number; the valid rows of a file
are imported in one transaction with one audit row."""

import csv
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rencai.audit.services import audit_record
from rencai.profiles.models import Qualification, School

SCHOOL_COLUMNS = {
    "name": ("name", "学校名称", "名称"),
    "code": ("code", "院校代码", "代码"),
    "region": ("region", "所在地区", "地区"),
    "active": ("active", "启用"),
}
QUALIFICATION_COLUMNS = {
    "name": ("name", "职业名称", "职业（工种）名称", "名称"),
    "level": ("level", "等级"),
    "active": ("active", "启用"),
}
TRUE = {"", "1", "true", "yes", "y", "是", "启用"}
FALSE = {"0", "false", "no", "n", "否", "停用"}
CODE_RE = re.compile(r"^[0-9A-Za-z]{1,20}$")


def _level_lookup() -> dict[str, str]:
    lookup = {}
    for value, label in Qualification.Level.choices:
        lookup[value] = value
        lookup[str(label)] = value
        for part in str(label).split("/"):
            lookup[part] = value
    return lookup


class RowError(Exception):
    pass


def _columns(header: list[str], wanted: dict, path: Path) -> dict:
    found = {}
    for key, names in wanted.items():
        found[key] = next((n for n in names if n in header), None)
    if found["name"] is None:
        raise CommandError(f"{path}: no name column; expected one of {', '.join(wanted['name'])}")
    return found


def _get(row: dict, column: str | None) -> str:
    return " ".join((row.get(column) or "").split()) if column else ""


def _active(row, column) -> bool:
    value = _get(row, column).lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise RowError(f"active must be 1/0, true/false or 是/否, not {value!r}")


def _name(row, column) -> str:
    name = _get(row, column)
    if not name:
        raise RowError("name is empty")
    if len(name) > 100:
        raise RowError("name is longer than 100 characters")
    return name


def _read(path: Path):
    if not path.is_file():
        raise CommandError(f"File not found: {path}")
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            rows = [(line, row) for line, row in enumerate(reader, start=2)]
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    return header, rows


class Command(BaseCommand):
    help = "Import the school and vocational-qualification lists from CSV files (F14)."

    def add_arguments(self, parser):
        parser.add_argument("--schools", type=Path, help="CSV of schools")
        parser.add_argument("--qualifications", type=Path, help="CSV of qualifications")

    def handle(self, *args, schools=None, qualifications=None, **options):
        if not schools and not qualifications:
            raise CommandError("Give --schools FILE.csv and/or --qualifications FILE.csv")
        if schools:
            self._import(Path(schools), "schools", self._school_rows)
        if qualifications:
            self._import(Path(qualifications), "qualifications", self._qualification_rows)

    def _import(self, path: Path, label: str, parse):
        header, rows = _read(path)
        accepted, rejected = parse(path, header, rows)
        with transaction.atomic():
            created = updated = 0
            for lookup, defaults in accepted:
                model = School if label == "schools" else Qualification
                _obj, was_created = model.objects.update_or_create(**lookup, defaults=defaults)
                created += was_created
                updated += not was_created
            audit_record(
                action=f"lists.import_{label}",
                object_type="file",
                object_id=path.name[:40],
                extra={"created": created, "updated": updated, "rejected": len(rejected)},
            )
        for line, reason in rejected:
            self.stdout.write(self.style.WARNING(f"{path.name} line {line} rejected: {reason}"))
        self.stdout.write(
            self.style.SUCCESS(
                f"{label}: {created} created, {updated} updated, {len(rejected)} rejected."
            )
        )

    def _school_rows(self, path, header, rows):
        cols = _columns(header, SCHOOL_COLUMNS, path)
        accepted, rejected, names, codes = [], [], set(), {}
        taken = dict(School.objects.exclude(code="").values_list("code", "name"))
        for line, row in rows:
            try:
                name = _name(row, cols["name"])
                code = _get(row, cols["code"])
                region = _get(row, cols["region"])
                if code and not CODE_RE.match(code):
                    raise RowError(f"code {code!r} must be 1–20 letters or digits")
                if len(region) > 50:
                    raise RowError("region is longer than 50 characters")
                if name in names:
                    raise RowError(f"{name} appears twice in the file")
                if code and (codes.get(code, name) != name or taken.get(code, name) != name):
                    raise RowError(f"code {code} already belongs to another school")
                active = _active(row, cols["active"])
            except RowError as exc:
                rejected.append((line, str(exc)))
                continue
            names.add(name)
            if code:
                codes[code] = name
            accepted.append(({"name": name}, {"code": code, "region": region, "active": active}))
        return accepted, rejected

    def _qualification_rows(self, path, header, rows):
        cols = _columns(header, QUALIFICATION_COLUMNS, path)
        if cols["level"] is None:
            raise CommandError(f"{path}: no level column; expected level or 等级")
        levels = _level_lookup()
        accepted, rejected, seen = [], [], set()
        for line, row in rows:
            try:
                name = _name(row, cols["name"])
                raw = _get(row, cols["level"])
                level = levels.get(raw)
                if level is None:
                    raise RowError(f"level {raw!r} is not one of 1–5 or 五级…一级")
                if (name, level) in seen:
                    raise RowError(f"{name} {raw} appears twice in the file")
                active = _active(row, cols["active"])
            except RowError as exc:
                rejected.append((line, str(exc)))
                continue
            seen.add((name, level))
            accepted.append(({"name": name, "level": level}, {"active": active}))
        return accepted, rejected
