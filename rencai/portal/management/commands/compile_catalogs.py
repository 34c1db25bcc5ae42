from django.conf import settings
from django.core.management.base import BaseCommand

from rencai.i18n_catalogs import compile_all


class Command(BaseCommand):
    help = "Compile the project's .po catalogs to .mo without GNU gettext."

    def handle(self, *args, **options):
        for locale_dir in settings.LOCALE_PATHS:
            for mo in compile_all(locale_dir):
                self.stdout.write(f"compiled {mo.relative_to(settings.BASE_DIR)}")
