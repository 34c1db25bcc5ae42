"""Periodic jobs: close public notices whose period has ended (F41). Run it from cron or
a timer every few minutes; it is idempotent."""

from django.core.management.base import BaseCommand

from rencai.applications.transitions import notices_expire


class Command(BaseCommand):
    help = "Run the periodic jobs (public-notice expiry)."

    def handle(self, *args, **options):
        passed = notices_expire()
        self.stdout.write(f"notices: {passed} entries passed")
