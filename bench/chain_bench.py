"""Workbench benchmark (issue 4): 100,000 applications, then

- the reviewer queue page: latency (p50/p95 over 30 requests) and queries per request;
- a 10,000-item batch approval through the state machine (events, audit, notifications);
- a 100,000-row roster export: time and peak Python memory (tracemalloc).

Run:  make bench-chain   (PostgreSQL at $BENCH_DATABASE_URL, default rencai_bench)
It prints a table and writes bench/chain-results.json. Figures are for the machine it
runs on; the load benchmark of issue 7 (`make bench`) comes on top."""

import datetime
import json
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rencai.settings")
os.environ.setdefault("SMS_BACKEND", "rencai.notifications.sms.MemoryBackend")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from rencai.accounts.models import User  # noqa: E402
from rencai.applications import exports, transitions  # noqa: E402
from rencai.applications.models import Application  # noqa: E402
from rencai.identity import resident_id_check_digit  # noqa: E402
from rencai.orgs.models import Employer  # noqa: E402
from rencai.programs.models import Program  # noqa: E402

TOTAL = int(os.environ.get("BENCH_APPLICATIONS", "100000"))
BATCH = int(os.environ.get("BENCH_BATCH", "10000"))
PEOPLE = 2000


def log(msg):
    print(msg, flush=True)


def generate():
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # production storage
    call_command("load_demo", stdout=open(os.devnull, "w"))
    if Application.objects.count() >= TOTAL:
        log(f"data present: {Application.objects.count()} applications")
        return
    tech = Employer.objects.get(name="示范市星河科技有限公司")
    program = Program.objects.get(code="grad_living")
    version = program.current_version
    log(f"generating {PEOPLE} people and {TOTAL} applications …")
    people = []
    born = datetime.date(1980, 1, 1)
    for i in range(PEOPLE):
        first17 = f"990102{born + datetime.timedelta(days=i):%Y%m%d}{i % 1000:03d}"
        people.append(
            User(
                username=f"bench{i:05d}",
                id_number=first17 + resident_id_check_digit(first17),
                real_name=f"测试{i:04d}",
                kind=User.Kind.PERSON,
                employer=tech,
                registration_status="approved",
            )
        )
    User.objects.bulk_create(people, ignore_conflicts=True, batch_size=1000)
    people = list(User.objects.filter(username__startswith="bench").order_by("id"))
    now = timezone.now()
    rows = []
    for n in range(TOTAL):
        person = people[n % len(people)]
        rows.append(
            Application(
                number=f"BN{n:010d}",
                program=program,
                program_version=version,
                applicant=person,
                employer_id=person.employer_id,
                state=Application.State.SUBMITTED,
                stage=0,
                stage_employer_id=person.employer_id,
                stage_entered_at=now,
                data={"start_month": "2024-01", "end_month": "2024-12", "deducted_months": 0},
                months=12,
                amount=6000,
                submitted_at=now,
            )
        )
        if len(rows) == 5000:
            Application.objects.bulk_create(rows)
            rows = []
    if rows:
        Application.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # what autovacuum would do after a bulk load
    log(f"generated: {Application.objects.count()} applications")


def measure_queue(admin) -> dict:
    client = Client()
    client.force_login(admin)
    client.get("/staff/applications/")  # warm up
    times, queries = [], []
    for _ in range(30):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get("/staff/applications/")
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        queries.append(len(ctx.captured_queries))
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
        "queries": max(queries),
    }


def measure_batch(admin, employer) -> dict:
    ids = list(
        Application.objects.filter(stage_employer=employer, state="submitted")
        .order_by("id")
        .values_list("pk", flat=True)[:BATCH]
    )
    with transaction.atomic():
        job = transitions.batch_start(actor=admin, application_ids=ids, action="approve")
    started = time.perf_counter()
    job = transitions.batch_run(job.pk)  # what the worker runs
    seconds = time.perf_counter() - started
    return {
        "items": job.total,
        "done": job.done,
        "seconds": round(seconds, 1),
        "per_second": round(job.done / seconds, 1),
    }


def _export(qs) -> int:
    response = exports.xlsx_response(
        "b.xlsx", "roster", exports.ROSTER_HEADERS, exports.roster_rows(qs)
    )
    return sum(len(chunk) for chunk in response.streaming_content)


def measure_export(employer) -> dict:
    """Timed without tracing (tracemalloc slows Python down several times), then once
    more under tracemalloc for the peak memory."""
    qs = exports.roster_queryset(employer)
    started = time.perf_counter()
    size = _export(qs)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    _export(qs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "rows": qs.count(),
        "seconds": round(seconds, 1),
        "peak_mb": round(peak / 1024 / 1024, 1),
        "file_mb": round(size / 1024 / 1024, 1),
    }


def main():
    generate()
    tech = Employer.objects.get(name="示范市星河科技有限公司")
    admin = User.objects.get(username=tech.credit_code)
    results = {
        "applications": Application.objects.count(),
        "database": connection.vendor,
        "queue_page": measure_queue(admin),
        "batch_approval": measure_batch(admin, tech),
        "roster_export": measure_export(tech),
    }
    log("")
    log(f"{'what':<32}{'figure'}")
    q, b, e = results["queue_page"], results["batch_approval"], results["roster_export"]
    log(f"{'applications':<32}{results['applications']} ({results['database']})")
    log(f"{'queue page p50 / p95':<32}{q['p50_ms']} / {q['p95_ms']} ms, {q['queries']} queries")
    log(f"{'batch approval':<32}{b['done']}/{b['items']} in {b['seconds']} s ({b['per_second']}/s)")
    log(f"{'roster export':<32}{e['rows']} rows in {e['seconds']} s, peak {e['peak_mb']} MB")
    (ROOT / "bench" / "chain-results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
