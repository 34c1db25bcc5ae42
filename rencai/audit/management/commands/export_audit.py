from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rencai.audit.services import audit_export


class Command(BaseCommand):
    help = (
        "Export the audit chain to a JSON Lines file for off-site shipping (one row per "
        "line with its hashes, then a manifest). Check a copy with "
        "`verify_audit_chain --file`."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="file to write (refused if it exists)")
        parser.add_argument(
            "--after-id", type=int, default=0, help="export only rows after this id"
        )

    def handle(self, *args, path, after_id, **options):
        target = Path(path)
        if target.exists():
            raise CommandError(f"{target} exists: choose a new file name")
        if not target.parent.is_dir():
            raise CommandError(f"{target.parent} is not a folder")
        partial = target.with_name(target.name + ".partial")
        with partial.open("w", encoding="utf-8") as out:
            manifest = audit_export(out, after_id=after_id)
        partial.rename(target)
        self.stdout.write(
            self.style.SUCCESS(
                f"Exported {manifest['rows']} audit rows (ids {manifest['first_id']}–"
                f"{manifest['last_id']}) to {target}."
            )
        )
