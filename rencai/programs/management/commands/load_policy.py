from django.core.management.base import BaseCommand, CommandError

from rencai.programs.loader import load_pack
from rencai.programs.schema import PackError


class Command(BaseCommand):
    help = "Load or update a policy pack (YAML) from policies/. See docs/policy-packs.md."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="policy pack files, e.g. policies/city.yaml")

    def handle(self, *args, **options):
        for path in options["paths"]:
            try:
                report = load_pack(path)
            except PackError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"{path}: pack {report.pack}: {len(report.created)} new, "
                f"{len(report.updated)} updated (new version), {len(report.unchanged)} unchanged, "
                f"{len(report.deactivated)} deactivated"
            )
