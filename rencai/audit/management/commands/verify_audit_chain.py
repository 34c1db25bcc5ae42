from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rencai.audit.services import audit_verify_chain, audit_verify_file


class Command(BaseCommand):
    help = (
        "Verify the hash chain of the audit log and name the first broken row; with "
        "--file, verify an exported copy instead (no database needed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", help="a file written by export_audit")

    def handle(self, *args, file=None, **options):
        if file:
            try:
                with Path(file).open(encoding="utf-8") as lines:
                    report = audit_verify_file(lines)
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"Cannot read the audit export {file}: {exc}") from None
            if not report.ok:
                raise CommandError(f"Audit export {file} broken: {report.error}.")
            self.stdout.write(
                self.style.SUCCESS(f"Audit export intact: {len(report.rows)} rows verified.")
            )
            return
        report = audit_verify_chain()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at row {report.first_broken_id}: {report.reason} "
                f"({report.checked} rows before it verified)."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {report.checked} rows verified.")
        )
