"""Read replicas (issue 7): the router sends reads to "replica" only inside
``use_replica()``, never writes, never reads in a transaction on default, never anything
when no replica is configured; the scope is per thread and per asyncio task. The
integration test adds a "replica" alias mirroring the test database and proves that an
export reads through that connection while the pages around it read on default. Runs on
SQLite and on PostgreSQL."""

import asyncio
import concurrent.futures
import copy
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.db import connections, transaction
from django.db import router as django_router
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rencai import dbrouter
from rencai.applications.models import Application
from rencai.dbrouter import REPLICA, ReplicaRouter, on_replica, use_replica
from tests.conftest import build_city, prepare_applicant
from tests.test_applications import living, submit
from tests.test_exports import sheet_rows
from tests.test_notice import publish
from tests.test_notice import two_at_notice as two_at_notice  # the fixture, used below

BASE_DIR = Path(__file__).resolve().parent.parent


def routed(monkeypatch, *, replica: bool) -> ReplicaRouter:
    """The router reading a settings stub with or without a "replica" database (the real
    settings and connections are left alone)."""
    databases = {"default": {}, **({REPLICA: {}} if replica else {})}
    monkeypatch.setattr(dbrouter, "settings", SimpleNamespace(DATABASES=databases))
    return ReplicaRouter()


@pytest.fixture
def router(monkeypatch):
    return routed(monkeypatch, replica=True)


def read_db(router) -> str:
    return router.db_for_read(Application)


# --- the router's decisions -------------------------------------------------------------------


def test_reads_go_to_the_replica_only_inside_the_scope(router):
    assert read_db(router) == "default"
    with use_replica():
        assert read_db(router) == REPLICA
        assert router.db_for_read(Application, instance=Application()) == REPLICA
    assert read_db(router) == "default"


def test_writes_always_go_to_default_even_inside_the_scope(router):
    with use_replica():
        assert router.db_for_write(Application) == "default"
        assert router.db_for_write(Application, instance=Application()) == "default"


def test_without_a_replica_everything_goes_to_default(monkeypatch):
    router = routed(monkeypatch, replica=False)
    with use_replica():
        assert read_db(router) == "default"
        assert router.db_for_write(Application) == "default"


def test_an_object_read_on_the_replica_is_read_again_on_default_outside_the_scope(router):
    # Returning None would let Django follow the hint to the instance's database.
    obj = Application()
    obj._state.db = REPLICA
    assert router.db_for_read(Application, instance=obj) == "default"


def test_relations_between_default_and_replica_and_migrations_only_on_default(router):
    a, b, c = Application(), Application(), Application()
    a._state.db, b._state.db, c._state.db = "default", REPLICA, "elsewhere"
    assert router.allow_relation(a, b) is True
    assert router.allow_relation(b, b) is True
    assert router.allow_relation(a, c) is None  # not ours to decide
    assert router.allow_migrate("default", "applications") is True
    assert router.allow_migrate(REPLICA, "applications") is False


@pytest.mark.django_db(transaction=True)
def test_reads_inside_a_transaction_on_default_stay_on_default(router):
    with use_replica():
        assert read_db(router) == REPLICA
        with transaction.atomic():
            assert read_db(router) == "default"  # it must see its own writes
        assert read_db(router) == REPLICA


# --- the scope ----------------------------------------------------------------------------------


def test_scopes_nest_and_the_state_comes_back_after_an_exception(router):
    with use_replica():
        with use_replica():
            assert read_db(router) == REPLICA
        assert read_db(router) == REPLICA  # the inner exit keeps the outer scope
    assert read_db(router) == "default"
    with pytest.raises(RuntimeError), use_replica():
        raise RuntimeError("boom")
    assert read_db(router) == "default"


def test_use_replica_as_a_decorator(router):
    @use_replica()
    def decide():
        return read_db(router)

    assert (decide(), decide()) == (REPLICA, REPLICA)  # a fresh scope for every call
    assert read_db(router) == "default"


def test_a_scope_in_one_thread_does_not_leak_into_another(router):
    entered, checked, seen = threading.Event(), threading.Event(), {}

    def in_scope():
        with use_replica():
            seen["worker"] = read_db(router)
            entered.set()
            checked.wait(10)

    worker = threading.Thread(target=in_scope)
    worker.start()
    assert entered.wait(10)
    seen["main while the worker is in its scope"] = read_db(router)
    checked.set()
    worker.join(10)
    with use_replica():
        outside = threading.Thread(target=lambda: seen.__setitem__("new thread", read_db(router)))
        outside.start()
        outside.join(10)
        seen["main in its scope"] = read_db(router)
    assert seen == {
        "worker": REPLICA,
        "main while the worker is in its scope": "default",
        "new thread": "default",
        "main in its scope": REPLICA,
    }


def test_a_scope_in_one_asyncio_task_does_not_leak_into_another(router):
    async def main():
        entered, release = asyncio.Event(), asyncio.Event()

        async def in_scope():
            with use_replica():
                entered.set()
                await release.wait()
                return read_db(router)

        async def outside():
            await entered.wait()
            decision = read_db(router)
            release.set()
            return decision

        return await asyncio.gather(in_scope(), outside())

    # in a thread of its own: the browser tests leave an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, main()).result() == [REPLICA, "default"]


def test_on_replica_scopes_each_step_of_a_lazy_iterable_and_not_its_consumer(router):
    produced, consumed, closed = [], [], []

    def rows():
        try:
            for i in range(3):
                produced.append(read_db(router))
                yield i
        finally:
            closed.append(True)

    for i in on_replica(rows()):
        consumed.append(read_db(router))
        if i == 1:
            break  # the consumer stops early: the source is closed, no scope stays open
    assert produced == [REPLICA, REPLICA]
    assert consumed == ["default", "default"]
    assert closed == [True]
    assert read_db(router) == "default"


# --- settings -----------------------------------------------------------------------------------


def settings_with(env: dict) -> dict:
    """Import rencai.settings in a fresh interpreter with ``env`` (the test process's
    settings are already loaded and stay untouched)."""
    code = (
        "import json, rencai.settings as s;"
        "print(json.dumps({'dbs': s.DATABASES, 'routers': s.DATABASE_ROUTERS}, default=str))"
    )
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_REPLICA_URL"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_database_replica_url_adds_a_mirrored_replica_and_the_router_is_always_set():
    without = settings_with({})
    assert REPLICA not in without["dbs"]
    assert without["routers"] == ["rencai.dbrouter.ReplicaRouter"]
    replica = settings_with({"DATABASE_REPLICA_URL": "postgres://ro@replica.local:5433/rencai"})
    assert replica["routers"] == ["rencai.dbrouter.ReplicaRouter"]
    got = replica["dbs"][REPLICA]
    assert (got["HOST"], got["PORT"], got["USER"], got["NAME"]) == (
        "replica.local",
        "5433",
        "ro",
        "rencai",
    )
    assert got["TEST"] == {"MIRROR": "default"}


# --- integration: exports read through the "replica" connection -------------------------------


@pytest.fixture
def replica_alias(transactional_db):
    """A "replica" database that is the test database itself, reached through its own
    connection. When DATABASE_REPLICA_URL is set the configured mirror is used as is;
    otherwise the alias is added now and removed again before the database is flushed
    (Django reads DATABASES once, so override_settings cannot add one). Its connection is
    opened here: the test case only lets aliases it knew at set-up open one lazily."""
    if REPLICA in connections:
        yield connections[REPLICA]
        return
    databases = django_settings.DATABASES
    assert databases is connections.settings  # one dict: the router sees what Django uses
    entry = copy.deepcopy(connections["default"].settings_dict)  # the test database's name
    entry["TEST"] = {**entry.get("TEST", {}), "MIRROR": "default"}
    databases[REPLICA] = entry
    try:
        connections[REPLICA].connect()
        yield connections[REPLICA]
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del databases[REPLICA]


def queries_of(capture, *needles: str) -> list[str]:
    return [q["sql"] for q in capture.captured_queries if all(n in q["sql"] for n in needles)]


ROSTER_SELECT = ('"accounts_user"."real_name"', 'FROM "applications_application"')


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_exports_read_on_the_replica_and_the_pages_around_them_on_default(
    replica_alias, client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    city = build_city()
    applicant = prepare_applicant(city.applicant)
    submit(living(applicant))
    assert Application.objects.all().db == "default"
    with use_replica():
        assert Application.objects.all().db == REPLICA  # the installed router, real settings
    roster = reverse("applications:roster")

    client.force_login(city.employer_admin)
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(replica_alias) as on_replica_db,
    ):
        rows = sheet_rows(client.get(roster + "?export=xlsx"))
    assert len(rows) == 2 and rows[1][1] == "张晓明"  # the row really came from the replica
    assert queries_of(on_replica_db, *ROSTER_SELECT)  # the roster's SELECT ran there …
    assert not queries_of(on_default, *ROSTER_SELECT)  # … and not on default
    assert on_default.captured_queries  # the session and the user were read on default

    with CaptureQueriesContext(replica_alias) as on_replica_db:
        page = client.get(roster).content.decode()  # a page outside any scope
    assert "张晓明" in page and on_replica_db.captured_queries == []

    client.force_login(city.city_reviewer)
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(replica_alias) as on_replica_db,
    ):
        rows = sheet_rows(client.get(reverse("review:statistics") + "?export=xlsx"))
    assert ("高校毕业生生活补助", 1, 6000.0) in rows
    assert queries_of(on_replica_db, "SUM(") and not queries_of(on_default, "SUM(")
    assert django_router.db_for_read(Application) == "default"  # nothing left in scope


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_the_public_notice_export_reads_its_entries_on_the_replica(
    replica_alias, city, two_at_notice, client
):
    notice = publish(city, two_at_notice)
    client.force_login(city.district_reviewer)
    with (
        CaptureQueriesContext(connections["default"]) as on_default,
        CaptureQueriesContext(replica_alias) as on_replica_db,
    ):
        rows = sheet_rows(client.get(reverse("review:notice", args=[notice.pk]) + "?export=xlsx"))
    assert len(rows) == 3  # the header and the two entries, read on the replica
    entries = ('FROM "applications_noticeentry"', '"masked_id_number"')
    assert queries_of(on_replica_db, *entries) and not queries_of(on_default, *entries)
