from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rencai.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up every table of the database and every file of the file store into DIR (new "
        "or empty), with a manifest of row counts and checksums (docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--database", default="default")

    def handle(self, *args, directory, database, **options):
        try:
            manifest = backup(Path(directory), using=database)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(t["rows"] for t in manifest["tables"].values())
        files = manifest["files"]
        self.stdout.write(
            self.style.SUCCESS(
                f"Backed up {rows} rows of {len(manifest['tables'])} tables and "
                + (f"{len(files)} files" if files is not None else "no files (not a directory)")
                + f" into {directory}."
            )
        )
