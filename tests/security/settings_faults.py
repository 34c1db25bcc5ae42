"""Settings of the servers and task workers that tests/security/test_faults.py starts as
subprocesses: the test settings, tasks kept in the database (the suite itself runs them
at once), and fault hooks that environment variables switch on:

- ``RENCAI_FAULT_KILL_FILE`` (SQLite, which has no server whose connections could be
  ended): a file holding a number. When the test raises it, every connection opened before
  fails at its next statement with OperationalError and its transaction is rolled back,
  as a PostgreSQL connection ended by ``pg_terminate_backend`` does.
- ``RENCAI_FAULT_SLOW_SQL`` and ``RENCAI_FAULT_SLOW_SECONDS``: sleep before every statement
  containing that text (e.g. ``INSERT INTO "applications_applicationevent"``), inside
  the transaction that runs it, so that a fault lands in the middle of a transaction.
- ``RENCAI_FAULT_BATCH_CHUNK``: items per chunk of a batch job (1000 in production).

Never used outside these tests."""

import os
import time
from pathlib import Path

from django.db.backends.signals import connection_created

from rencai.settings_test import *  # noqa: F403

TASKS = {"default": {"BACKEND": "rencai.ops.tasks.DatabaseBackend", "QUEUES": ["default"]}}

_KILL_FILE = os.environ.get("RENCAI_FAULT_KILL_FILE")
_SLOW_SQL = os.environ.get("RENCAI_FAULT_SLOW_SQL")
_SLOW_SECONDS = float(os.environ.get("RENCAI_FAULT_SLOW_SECONDS") or 0)
_BATCH_CHUNK = os.environ.get("RENCAI_FAULT_BATCH_CHUNK")


def _generation() -> int:
    try:
        return int(Path(_KILL_FILE).read_text() or 0)
    except (OSError, ValueError):
        return 0


def _faults(execute, sql, params, many, context):
    from django.db import OperationalError

    connection = context["connection"]
    if _SLOW_SQL and _SLOW_SQL in sql:
        time.sleep(_SLOW_SECONDS)
    if _KILL_FILE and _generation() > connection.fault_born:
        connection.close()  # the database drops it: its open transaction is rolled back
        raise OperationalError("terminating connection due to administrator command (simulated)")
    return execute(sql, params, many, context)


def _on_connect(sender, connection, **kwargs):
    if _BATCH_CHUNK:
        from rencai.applications import transitions

        transitions.BATCH_CHUNK = int(_BATCH_CHUNK)
    connection.fault_born = _generation() if _KILL_FILE else 0
    if (_KILL_FILE or _SLOW_SQL) and _faults not in connection.execute_wrappers:
        connection.execute_wrappers.append(_faults)


connection_created.connect(_on_connect)
