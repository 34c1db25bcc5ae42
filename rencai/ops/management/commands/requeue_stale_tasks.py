from datetime import timedelta

from django.core.management.base import BaseCommand

from rencai.ops.workers import requeue_stale_tasks


class Command(BaseCommand):
    help = (
        "Put back in the queue the tasks left RUNNING by task workers that are gone: those of "
        "this machine whose process no longer exists (db_worker does this by itself every "
        "minute); with --older-than MINUTES also tasks running that long on other machines; "
        "with --all every running task (only when no worker runs anywhere)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=float, metavar="MINUTES")
        parser.add_argument("--all", action="store_true", dest="everyone")

    def handle(self, *args, older_than, everyone, **options):
        requeued = requeue_stale_tasks(
            older_than=timedelta(minutes=older_than) if older_than is not None else None,
            everyone=everyone,
        )
        for result in requeued:
            self.stdout.write(f"requeued {result.pk} {result.task_path}")
        self.stdout.write(f"{len(requeued)} task(s) requeued.")
