from django.core.management.base import BaseCommand, CommandError

from rencai.audit.services import audit_verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log and name the first broken row."

    def handle(self, *args, **options):
        report = audit_verify_chain()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at row {report.first_broken_id}: {report.reason} "
                f"({report.checked} rows before it verified)."
            )
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {report.checked} rows verified.")
        )
