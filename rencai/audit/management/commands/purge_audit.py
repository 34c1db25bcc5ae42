from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rencai.audit.services import audit_purge


class Command(BaseCommand):
    help = (
        "Remove audit rows older than RENCAI_AUDIT_RETENTION_DAYS (at least 180), only if "
        "the given export holds every one of them unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument("--archive", required=True, help="a file written by export_audit")

    def handle(self, *args, archive, **options):
        path = Path(archive)
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        try:
            with path.open(encoding="utf-8") as lines:
                result = audit_purge(
                    archive_lines=lines, retention_days=settings.RENCAI_AUDIT_RETENTION_DAYS
                )
        except (ValueError, UnicodeDecodeError) as exc:
            raise CommandError(str(exc)) from None
        if not result["rows"]:
            self.stdout.write("Nothing is older than the retention period.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Purged {result['rows']} audit rows through id {result['through_id']}."
                )
            )
