"""Periodic jobs: close public notices whose period has ended (F41), cancel what a
容缺 gap left open past its deadline (F47) and tell agencies that a grade ends soon (F59).
Run it from cron or a timer every few minutes; it is idempotent."""

from django.core.management.base import BaseCommand

from rencai.agency.services import expiry_notices
from rencai.applications.transitions import gaps_expire, notices_expire


class Command(BaseCommand):
    help = "Run the periodic jobs (public-notice expiry, 容缺 deadlines, grade expiry notices)."

    def handle(self, *args, **options):
        passed = notices_expire()
        self.stdout.write(f"notices: {passed} entries passed")
        expired = gaps_expire()
        self.stdout.write(f"gaps: {expired} expired")
        told = expiry_notices()
        self.stdout.write(f"grades: {told} expiry notices sent")
