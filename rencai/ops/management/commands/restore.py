from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rencai.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup` into this database (migrated to the same "
        "migrations, and empty unless --replace) and file store, and check the result against "
        "the backup's manifest (docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Throw away the accounts, applications and files already here.",
        )

    def handle(self, *args, directory, database, replace, **options):
        try:
            manifest = restore(Path(directory), using=database, replace=replace)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(t["rows"] for t in manifest["tables"].values())
        files = len(manifest["files"] or {})
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored and verified {rows} rows of {len(manifest['tables'])} tables and "
                f"{files} files from {directory}. Run `manage.py verify_audit_chain` next."
            )
        )
