"""Import other agencies' data from a CSV (UTF-8) or XLSX file: the insured persons, the
pension contributions or the education certificates (F21–F23; columns in
docs/operations.md "Outside data")."""

from django.core.management.base import BaseCommand, CommandError

from rencai.accounts.models import User
from rencai.integrations.services import KINDS, ImportFileError, import_file


class Command(BaseCommand):
    help = "Import insured persons, pension contributions or education certificates (CSV/XLSX)."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=KINDS, help="what the file holds")
        parser.add_argument("file", help="a .csv (UTF-8) or .xlsx file with a header row")
        parser.add_argument("--user", help="username of the administrator doing the import")

    def handle(self, *args, kind, file, user=None, **options):
        actor = None
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user {user!r}")
        try:
            batch = import_file(kind, file, actor=actor)
        except ImportFileError as exc:
            raise CommandError(f"{file}: {exc.message}") from None
        for row in batch.rejected_rows:
            self.stdout.write(
                self.style.WARNING(f"{batch.file_name} 第{row['line']}行 拒绝：{row['reason']}")
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{batch.get_kind_display()}：导入{batch.accepted_count}行"
                f"（其中替换已有记录{batch.replaced_count}行），"
                f"拒绝{batch.rejected_count}行。批次 #{batch.pk}"
            )
        )
