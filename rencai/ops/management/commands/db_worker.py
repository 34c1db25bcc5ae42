"""``manage.py db_worker``: django_tasks_db's worker, plus recovery of the tasks of workers
that died (rencai/ops/workers.py). It names itself ``rencai:<host>:<boot>:<pid>:<start>``
unless ``--worker-id`` is given, and, when it starts and then every
``--recover-interval`` seconds, puts back in the queue the tasks left RUNNING by a worker
of this machine that is gone. It also sends the messages that steps left in their events
(``rencai.applications.notices``): every ``--interval`` seconds, at once again while there
were some, and with ``--batch`` all of them before it stops. Every option of
django_tasks_db's command works as before.

rencai.ops comes before django_tasks_db in INSTALLED_APPS, so this command is the one
``manage.py db_worker`` finds."""

import logging
import threading
import time

from django.db import connections
from django_tasks_db.management.commands import db_worker

from rencai.ops import workers

log = logging.getLogger("django_tasks_db")


def recover() -> int:
    try:
        return len(workers.requeue_stale_tasks())
    except Exception:  # the next sweep tries again; a worker must not die of this
        log.exception("Could not requeue the tasks of workers that are gone")
        return 0


def send_notices() -> int:
    from rencai.applications.notices import send_pending

    try:
        return send_pending()
    except Exception:  # the next turn tries again; a worker must not die of this
        log.exception("Could not send the messages waiting in events")
        return 0


class Command(db_worker.Command):
    help = (
        "Run a database background worker; tasks left running by a worker of this machine "
        "that died are put back in the queue when it starts and every minute."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        for action in parser._actions:
            if action.dest == "worker_id":
                action.default = None  # worked out in handle(): the pid is known there
        parser.add_argument(
            "--recover-interval",
            type=float,
            default=60.0,
            help="Seconds between two sweeps for tasks of dead workers (0: only at start).",
        )

    def handle(self, *args, recover_interval: float, worker_id: str | None, **options):
        self.configure_logging(options["verbosity"])
        requeued = recover()
        if requeued:
            log.warning("Requeued %d task(s) left running by workers that are gone", requeued)
        if recover_interval > 0 and not options["batch"]:  # --batch stops when the queue is empty

            def sweep():
                while True:
                    time.sleep(recover_interval)
                    recover()
                    connections.close_all()  # this thread's own connection

            threading.Thread(target=sweep, name="requeue-stale-tasks", daemon=True).start()
        if not options["batch"]:

            def notices():
                while True:
                    if not send_notices():
                        connections.close_all()  # this thread's own connection
                        time.sleep(options["interval"])

            threading.Thread(target=notices, name="send-notices", daemon=True).start()
        result = super().handle(*args, worker_id=worker_id or workers.worker_id(), **options)
        if options["batch"]:
            from rencai.applications.notices import send_all_pending

            send_all_pending()
        return result
