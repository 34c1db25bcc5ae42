"""Issue 8, faults: the database connections are killed under applicants who submit, and
a task worker is killed in the middle of a batch job. Nothing acknowledged is lost and
nothing is done twice. Runs on SQLite and on PostgreSQL (CI runs both), never skipped.

Both tests start real processes against the test database: gunicorn with
``gunicorn.conf.py`` (threaded workers, persistent connections checked before reuse, as in
production) and ``manage.py db_worker``, with tests/security/settings_faults.py (tasks kept
in the database, and the fault hooks). On PostgreSQL the server's connections are ended
with ``pg_terminate_backend``; SQLite has no server, so the hook there makes every
connection open at the moment of the "kill" fail at its next statement, its transaction
rolled back, as PostgreSQL does.

Counts (``security_counts("faults")``): submissions acknowledged, submissions lost (must be
0), duplicates (must be 0), connection kills, attempts cut by a kill, answers the client
dropped, retries answered by their idempotency key, jobs killed, jobs lost or doubled (must
be 0)."""

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, connections
from django.utils import timezone

from rencai.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationVersion,
    BatchJob,
)
from rencai.audit.models import AuditEntry
from rencai.audit.services import audit_verify_chain
from rencai.notifications.models import Message
from tests.conftest import build_city
from tests.test_applications import TODAY, living, submit
from tests.test_workbench import people

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CLIENTS = 24  # applicants submitting at once
KILLS = 6  # rounds of killing every connection of the server
ITEMS = 30  # applications in the batch job whose worker is killed
CSRF = "f" * 32  # the client's CSRF cookie and form token (Django accepts the plain secret)


# --- processes against the test database ----------------------------------------------


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = quote(s["USER"] or "")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"])
    host = s["HOST"] or "127.0.0.1"
    return f"postgres://{auth}@{host}:{s['PORT'] or 5432}/{quote(s['NAME'])}"


def process_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="tests.security.settings_faults",
        DATABASE_URL=database_url(),
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(log: Path) -> str:
    """The end of a subprocess's log, for a failure message."""
    try:
        return log.read_text(errors="replace")[-4000:]
    except OSError as exc:
        return f"({log}: {exc})"


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextlib.contextmanager
def gunicorn(tmp_path, **env):
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "w")
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py")],
        cwd=ROOT,
        env=process_env(
            **{
                "RENCAI_BIND": f"127.0.0.1:{port}",
                "WEB_WORKERS": 2,
                "WEB_THREADS": 16,
                # persistent connections, health-checked before reuse
                "DATABASE_CONN_MAX_AGE": 60,
                **env,
            }
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while request(port, "GET", "/accounts/login/")[0] != 200:
            assert server.poll() is None, tail(tmp_path / "gunicorn.log")
            assert time.monotonic() < deadline, "gunicorn did not answer in 60 s"
            time.sleep(0.1)
        yield port
    finally:
        stop(server)
        log.close()


def request(port, method, path, body="", cookie="", *, drop=False) -> tuple[int, str]:
    """(status, Location); status -1 when the connection failed; with ``drop`` the request
    is sent and the connection closed without reading the answer (an answer lost on the
    way back): (0, "")."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body.encode() or None, headers=headers)
        if drop:
            return 0, ""
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    except OSError:
        return -1, ""
    finally:
        conn.close()


# --- killing every connection of the server ---------------------------------------------


class Killer:
    """Ends every database connection but the test's own: pg_terminate_backend on
    PostgreSQL, the hook of settings_faults on SQLite."""

    def __init__(self, tmp_path):
        self.file = tmp_path / "kill-generation"
        self.file.write_text("0")
        self.rounds = 0
        self.ended = 0

    def env(self) -> dict:
        return {"RENCAI_FAULT_KILL_FILE": self.file} if connection.vendor == "sqlite" else {}

    def kill(self) -> None:
        self.rounds += 1
        if connection.vendor == "sqlite":
            self.file.write_text(str(self.rounds))
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "select count(pg_terminate_backend(pid)) from pg_stat_activity"
                " where datname = current_database() and pid <> pg_backend_pid()"
                " and backend_type = 'client backend'"
            )
            self.ended += cursor.fetchone()[0]


# --- 8a: connections killed while applicants submit -------------------------------------


def sessions_for(users) -> list[str]:
    """A signed-in session per user, written as Django's login writes it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    keys = []
    for user in users:
        store = SessionStore()
        store.update(
            {
                SESSION_KEY: str(user.pk),
                BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
                HASH_SESSION_KEY: user.get_session_auth_hash(),
                "_touched": int(time.time()),
            }
        )
        store.create()
        keys.append(store.session_key)
    return keys


def test_killed_database_connections_lose_no_acknowledged_submission_and_double_none(
    media, tmp_path, security_counts
):
    counts = security_counts("faults")
    city = build_city()
    applicants = people(city, CLIENTS)
    drafts = [living(p) for p in applicants]
    keys = sessions_for(applicants)
    killer = Killer(tmp_path)
    server_log = tmp_path / "gunicorn.log"
    outcomes: list[dict] = [{} for _ in drafts]

    def applicant(i, port, start, kills_over):
        """Submit with the version seen (the idempotency key) until the answer says
        submitted. Every third applicant comes after the kills and loses the answer to its
        first attempt on the way back: its retry must answer as that attempt did."""
        draft = drafts[i]
        path = f"/applications/{draft.pk}/submit/"
        body = f"csrfmiddlewaretoken={CSRF}&commitment=on&version={draft.version}"
        cookie = f"sessionid={keys[i]}; csrftoken={CSRF}"
        out = outcomes[i]
        out.update(attempts=[], acknowledged=False, refused=False, late=i % 3 == 0)
        (kills_over if out["late"] else start).wait(30)
        time.sleep(0.02 * i)  # arrivals spread over half a second
        deadline = time.monotonic() + 90  # generous: a loaded machine is slow, not wrong
        while time.monotonic() < deadline and len(out["attempts"]) < 60:
            out["last_sent"] = timezone.now()
            drop = out["late"] and not out["attempts"]
            status, location = request(port, "POST", path, body, cookie, drop=drop)
            out["attempts"].append(status)
            if status == 302 and location.endswith(f"/applications/{draft.pk}/"):
                out["acknowledged"] = True
                return
            if status == 302:  # sent back to the form: refused, not a fault
                out["refused"], out["location"] = True, location
                return
            if drop:
                written_by_then(draft.pk)
            else:
                time.sleep(min(0.1 * len(out["attempts"]), 0.5))

    def written_by_then(pk):
        """The applicant waits and sends again; the lost attempt went through meanwhile."""
        try:
            for _ in range(100):
                if Application.objects.filter(pk=pk, state=Application.State.SUBMITTED).exists():
                    return
                time.sleep(0.1)
        finally:
            connections.close_all()  # this thread's

    with gunicorn(
        tmp_path,
        RENCAI_FAULT_SLOW_SQL='INSERT INTO "applications_applicationevent"',
        RENCAI_FAULT_SLOW_SECONDS=0.2,  # each submit holds its transaction open that long
        **killer.env(),
    ) as port:
        start, kills_over = threading.Event(), threading.Event()
        threads = [
            threading.Thread(target=applicant, args=(i, port, start, kills_over))
            for i in range(CLIENTS)
        ]
        for th in threads:
            th.start()
        start.set()
        time.sleep(0.3)  # the first submits are inside their transactions
        while killer.rounds < KILLS:
            killer.kill()
            time.sleep(0.2)
        kills_over.set()
        for th in threads:
            th.join(120)
        assert not any(th.is_alive() for th in threads)
    # The notices are written by the task worker, from the task row each submission
    # stored in its own transaction: one per submission written, none for the rest.
    worker = db_worker(tmp_path, "notices", "--batch")
    assert worker.wait(120) == 0, tail(tmp_path / "notices.log")

    acknowledged = [d for d, o in zip(drafts, outcomes, strict=True) if o["acknowledged"]]
    lost = duplicates = replayed = 0
    for draft, out in zip(drafts, outcomes, strict=True):
        app = Application.objects.get(pk=draft.pk)
        submits = ApplicationEvent.objects.filter(application=app, action="submit")
        snapshots = ApplicationVersion.objects.filter(application=app, reason="submitted").count()
        audits = AuditEntry.objects.filter(
            action="application.submit", object_id=str(app.pk)
        ).count()
        told = Message.objects.filter(user=app.applicant, title="申报已提交").count()
        written = submits.count()
        if out["acknowledged"] and (app.state != Application.State.SUBMITTED or written != 1):
            lost += 1
        duplicates += max(written - 1, 0) + max(snapshots - 1, 0) + max(audits - 1, 0)
        duplicates += max(told - 1, 0)
        duplicates += Application.objects.filter(applicant=app.applicant).count() - 1
        # nothing half-written: all of the submission or none of it
        assert {written, snapshots, audits, told} in ({0}, {1}), (app.pk, written, snapshots)
        assert app.version == draft.version + (1 if written else 0)
        if written and out["acknowledged"] and submits.get().at < out["last_sent"]:
            replayed += 1  # written by an earlier attempt, acknowledged by the retry
    cut = sum(1 for o in outcomes for s in o["attempts"][:-1] if s != 0)
    counts.add("submissions acknowledged", len(acknowledged))
    counts.add("submissions lost", lost)
    counts.add("duplicates", duplicates)
    counts.add("connection kills", killer.rounds)
    counts.add("attempts cut by a kill", cut)
    counts.add("answers the client dropped", sum(1 for o in outcomes if 0 in o["attempts"]))
    counts.add("retries answered by their idempotency key", replayed)
    refused = [
        (d.pk, o.get("location")) for d, o in zip(drafts, outcomes, strict=True) if o["refused"]
    ]
    assert not refused, refused
    assert lost == 0 and duplicates == 0
    # every applicant got there in the end
    assert len(acknowledged) == CLIENTS, ([o["attempts"] for o in outcomes], tail(server_log))
    assert cut > 0, "no kill landed inside a request: the test proved nothing"
    assert replayed > 0, "no retry met a submission already written: the key was not tried"
    if connection.vendor == "postgresql":
        assert killer.ended > 0
    assert audit_verify_chain().ok


# --- 8b: a task worker killed in the middle of a batch job ------------------------------


def db_worker(tmp_path, name, *args, **env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--interval=0.1", *args],
        cwd=ROOT,
        env=process_env(**env),
        stdout=open(tmp_path / f"{name}.log", "w"),
        stderr=subprocess.STDOUT,
    )


def test_a_worker_killed_mid_job_leaves_the_job_to_the_next_worker_done_exactly_once(
    media, tmp_path, settings, security_counts
):
    from django_tasks_db.models import DBTaskResult

    from rencai.applications import transitions as t

    counts = security_counts("faults")
    city = build_city()
    apps = [submit(living(p)) for p in people(city, ITEMS)]
    settings.TASKS = {  # from here on tasks wait in the database for a worker
        "default": {"BACKEND": "rencai.ops.tasks.DatabaseBackend", "QUEUES": ["default"]}
    }
    job = t.batch_start(
        actor=city.employer_admin, application_ids=[a.pk for a in apps], action="approve"
    )
    task = DBTaskResult.objects.get(task_path__endswith="run_batch_job")
    # Chunks of 5 items; each chunk waits 0.3 s after its approvals, before the job's
    # progress is written and the chunk commits: the kill lands inside a chunk.
    slow = {
        "RENCAI_FAULT_BATCH_CHUNK": 5,
        "RENCAI_FAULT_SLOW_SQL": 'UPDATE "applications_batchjob"',
        "RENCAI_FAULT_SLOW_SECONDS": 0.3,
    }
    first = db_worker(tmp_path, "worker-1", **slow)
    try:
        deadline = time.monotonic() + 60
        while BatchJob.objects.get(pk=job.pk).done < 10:  # two chunks committed
            assert first.poll() is None, tail(tmp_path / "worker-1.log")
            assert time.monotonic() < deadline, tail(tmp_path / "worker-1.log")
            time.sleep(0.02)
        time.sleep(0.15)  # the third chunk is being written
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        stop(first)
    counts.add("jobs killed")

    job.refresh_from_db()
    task.refresh_from_db()
    assert job.status == BatchJob.Status.RUNNING and 10 <= job.done < ITEMS, job.done
    assert task.status == "RUNNING"  # left by the dead worker: django_tasks_db never rereads it
    # What the job recorded as done is exactly what was written: the cut chunk left nothing.
    moved = Application.objects.filter(pk__in=job.application_ids, stage=1).count()
    assert moved == job.done

    # A new worker puts the task back in the queue and the job goes on after its last chunk.
    second = db_worker(tmp_path, "worker-2", "--batch", **slow)
    try:
        second.wait(120)
    finally:
        stop(second)
    assert second.returncode == 0, tail(tmp_path / "worker-2.log")
    assert "Requeued task" in (tmp_path / "worker-2.log").read_text()

    job.refresh_from_db()
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL" and len(task.worker_ids) == 2
    approvals = dict.fromkeys(job.application_ids, 0)
    for pk in ApplicationEvent.objects.filter(
        application_id__in=job.application_ids, action="approve"
    ).values_list("application_id", flat=True):
        approvals[pk] += 1
    audits = AuditEntry.objects.filter(action="application.approve").count()
    lost = sum(1 for n in approvals.values() if n == 0)
    doubled = sum(1 for n in approvals.values() if n > 1)
    counts.add("jobs lost or doubled", 1 if lost or doubled or audits != ITEMS else 0)
    assert (lost, doubled, audits) == (0, 0, ITEMS)
    assert (job.status, job.done, job.failed, job.errors) == ("done", ITEMS, 0, [])
    assert set(Application.objects.values_list("stage", flat=True)) == {1}
    # the next stage hears once, of every item, those of the killed run included
    told = Message.objects.filter(user=city.district_reviewer)
    assert told.count() == 1 and f"{ITEMS} 件申报" in told.get().title
    assert audit_verify_chain().ok


def test_a_running_worker_sends_the_messages_a_submission_left_in_its_event(tmp_path, settings):
    """The database task backend: a submission's messages wait in its event (issue 7) and a
    running ``db_worker`` sends them within its polling interval, then clears them (F38)."""
    from rencai.applications import transitions as t

    city = build_city()
    person = people(city, 1)[0]
    draft = living(person)
    settings.TASKS = {
        "default": {"BACKEND": "rencai.ops.tasks.DatabaseBackend", "QUEUES": ["default"]}
    }
    app = t.submit(actor=person, application=draft, commitment_accepted=True, today=TODAY)
    event = ApplicationEvent.objects.get(application=app, action="submit")
    assert event.notices is not None
    assert not Message.objects.filter(user=person, title="申报已提交").exists()

    worker = db_worker(tmp_path, "notices")  # not --batch: it keeps running
    try:
        deadline = time.monotonic() + 30
        while not Message.objects.filter(user=person, title="申报已提交").exists():
            assert worker.poll() is None, tail(tmp_path / "notices.log")
            assert time.monotonic() < deadline, tail(tmp_path / "notices.log")
            time.sleep(0.1)
    finally:
        stop(worker)
    assert Message.objects.filter(title__startswith="待审核", body__contains=app.number).exists()
    event.refresh_from_db()
    assert event.notices is None


@pytest.mark.django_db
def test_requeue_stale_tasks_leaves_live_workers_and_other_machines_alone():
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from rencai.ops import workers

    dead_pid = 4194303  # above any pid a process here has (pid_max at most 2^22)

    def running(worker, minutes=1):
        return DBTaskResult.objects.create(
            status="RUNNING",
            args_kwargs={"args": [0], "kwargs": {}},
            task_path="rencai.applications.tasks.run_batch_job",
            backend_name="default",
            run_after=timezone.now(),
            started_at=timezone.now() - timedelta(minutes=minutes),
            worker_ids=[worker],
        )

    alive = running(workers.worker_id())  # this very process
    dead = running(workers.worker_id().rsplit(":", 2)[0] + f":{dead_pid}:123")
    elsewhere = running("rencai:another-host:abcd0123:77:456", minutes=30)
    foreign = running("a3f9c0d2e1", minutes=5)
    assert workers.worker_gone(alive.worker_ids[0]) is False
    assert [r.pk for r in workers.requeue_stale_tasks()] == [dead.pk]
    assert [r.pk for r in workers.requeue_stale_tasks(older_than=timedelta(minutes=10))] == [
        elsewhere.pk
    ]
    assert {r.pk for r in workers.requeue_stale_tasks(everyone=True)} == {alive.pk, foreign.pk}
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"READY"}
