"""Import records of an earlier system (F11): a CSV (UTF-8, with or without BOM) with an
``id_number`` column (or 身份证号 / 证件号码), an optional ``name`` (姓名) column, and any
other columns, which are kept as the record's data. Rows with an invalid ID number are
rejected and reported; nothing is half-imported (one transaction). Records whose ID number
belongs to an account are linked at once; the others are linked when that person registers."""

import csv
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from rencai.accounts.models import LegacyRecord, User
from rencai.audit.services import audit_record
from rencai.identity import clean_resident_id

ID_COLUMNS = ("id_number", "身份证号", "身份证号码", "证件号码")
NAME_COLUMNS = ("name", "姓名")


class Command(BaseCommand):
    help = "Import records of an earlier system from a CSV file (F11)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--source", default="", help="where the records come from")

    def handle(self, path, source, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"File not found: {file}")
        with file.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            id_col = next((c for c in ID_COLUMNS if c in header), None)
            if id_col is None:
                raise CommandError(f"No ID number column; expected one of {', '.join(ID_COLUMNS)}")
            name_col = next((c for c in NAME_COLUMNS if c in header), None)
            records, rejected = [], []
            for line, row in enumerate(reader, start=2):
                try:
                    number = clean_resident_id(row.get(id_col, "")).number
                except ValidationError as exc:
                    rejected.append((line, " ".join(exc.messages)))
                    continue
                data = {k: v for k, v in row.items() if k not in (id_col, name_col) and k}
                records.append(
                    LegacyRecord(
                        id_number=number,
                        name=(row.get(name_col) or "").strip() if name_col else "",
                        source=source or file.name,
                        data=data,
                    )
                )
        with transaction.atomic():
            LegacyRecord.objects.bulk_create(records, batch_size=1000)
            owners = dict(
                User.objects.filter(
                    id_number__in={r.id_number for r in records}, closed_at__isnull=True
                ).values_list("id_number", "pk")
            )
            linked = 0
            for number, user_id in owners.items():
                linked += LegacyRecord.objects.filter(id_number=number, user__isnull=True).update(
                    user_id=user_id, linked_at=timezone.now()
                )
            audit_record(
                action="legacy.import",
                object_type="file",
                object_id=file.name[:40],
                extra={"imported": len(records), "rejected": len(rejected), "linked": linked},
            )
        for line, reason in rejected:
            self.stdout.write(self.style.WARNING(f"line {line} rejected: {reason}"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {len(records)} records ({linked} linked to existing accounts), "
                f"rejected {len(rejected)}."
            )
        )
