"""Tasks left RUNNING by a task worker that died (issue 8).

django_tasks_db marks a task RUNNING when a worker claims it and never looks at it again:
if that worker is killed (SIGKILL, out of memory, a machine that stops), the task stays
RUNNING for ever and nobody runs it. Our ``db_worker`` (rencai/ops/management/commands)
names each worker ``rencai:<host>:<boot>:<pid>`` and, when it starts and every minute
while it runs, puts back in the queue the RUNNING tasks whose worker was on this machine
and is gone (its process no longer exists, or the machine has restarted since).
``manage.py requeue_stale_tasks`` does the same by hand, and can also requeue the tasks of
workers on other machines (``--older-than``) or of every worker (``--all``), which only an
operator who knows they are stopped may ask for.

A requeued task runs again from its start, so every task must be safe to run again: a
batch job (rencai.applications.transitions.batch_run) writes each chunk of items in one
transaction with its progress and goes on after the last finished chunk; SMS delivery
skips messages already marked sent."""

import logging
import os
import socket
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

log = logging.getLogger(__name__)

PREFIX = "rencai"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip().replace("-", "")[:8]
    except OSError:
        return "0"


def _host() -> str:
    return socket.gethostname().replace(":", "_")[:24] or "host"


def _process_start(pid: int) -> str | None:
    """When the process started (clock ticks since boot, /proc/PID/stat), or None when it
    does not exist or has died (a zombie not yet reaped); "0" without /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if not Path("/proc/self/stat").exists():  # no /proc here: ask the kernel
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return None
            except PermissionError:
                pass
            return "0"
        return None
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # from field 3 (state) on
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]  # field 22, starttime


def worker_id(pid: int | None = None) -> str:
    """This process's worker id: the machine (host name and boot), the process and when it
    started, so that a worker elsewhere on this machine can tell whether it is gone."""
    pid = pid or os.getpid()
    return f"{PREFIX}:{_host()}:{_boot_id()}:{pid}:{_process_start(pid) or 0}"


def worker_gone(worker: str) -> bool | None:
    """True when ``worker`` ran on this machine and is gone, False when it is alive here,
    None when this machine cannot tell (another machine, or not one of our ids)."""
    parts = worker.split(":")
    if len(parts) != 5 or parts[0] != PREFIX or parts[1] != _host():
        return None
    if parts[2] != _boot_id():
        return True  # the machine restarted since: every worker of that boot is gone
    try:
        pid = int(parts[3])
    except ValueError:
        return None
    started = _process_start(pid)
    # gone, or the process number now belongs to a process started later
    return started is None or (started != "0" and started != parts[4])


def requeue_stale_tasks(
    *, older_than: timedelta | None = None, everyone: bool = False
) -> list[DBTaskResult]:
    """Put back in the queue (READY) the RUNNING tasks whose worker is gone; with
    ``older_than`` also those running longer than that whose worker this machine cannot
    check; with ``everyone`` all RUNNING tasks. Returns the tasks requeued."""
    requeued = []
    now = timezone.now()
    for result in DBTaskResult.objects.running().order_by("started_at"):
        worker = result.worker_ids[-1] if result.worker_ids else ""
        gone = worker_gone(worker)
        if not everyone and gone is False:
            continue
        if not everyone and gone is None:
            if older_than is None or not result.started_at or now - result.started_at < older_than:
                continue
        with transaction.atomic():  # still RUNNING under that worker: another sweep may be first
            row = DBTaskResult.objects.select_for_update().filter(pk=result.pk).first()
            if row is None or row.status != TaskResultStatus.RUNNING:
                continue
            if row.worker_ids != result.worker_ids:
                continue
            row.status, row.started_at = TaskResultStatus.READY, None
            row.save(update_fields=["status", "started_at"])
        log.warning(
            "Requeued task %s (%s): its worker %s is gone", result.pk, result.task_path, worker
        )
        requeued.append(row)
    return requeued
