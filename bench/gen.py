"""The benchmark's data generator (issue 7): a big city's database on PostgreSQL.

500,000 applications across the person programmes of the demo city, its employers and
districts, in every state a deadline day leaves (暂存, at the employer, at the district,
at the city, approved, rejected), each with its events and attached materials; and a
pool of applicants whose drafts are complete and ready to submit, logged in, for the load
test. Rows go in with PostgreSQL's COPY, so the whole load takes about a minute; who acts
at each stage is resolved by the engine itself (``transitions._place_at_stage``), once per
programme, employer and stage."""

import datetime
import hashlib
import itertools
import json
import secrets
import time

from django.contrib.sessions.backends.db import SessionStore
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from rencai.accounts.models import User
from rencai.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationMaterial,
    ApplicationVersion,
)
from rencai.errors import ServiceError
from rencai.fields import EncryptedCharField
from rencai.identity import resident_id_check_digit
from rencai.orgs.models import Employer
from rencai.profiles.models import Education, Material, Profile, School
from rencai.programs.models import Program

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# What a deadline day leaves behind: (state, stage index or None, share in percent).
MIX = [
    ("draft", None, 10),
    ("submitted", 0, 30),
    ("in_review", 1, 20),
    ("in_review", 2, 10),
    ("approved", None, 25),
    ("rejected", None, 5),
]
READY_PROGRAM = "grad_living"
NOTICE_ITEMS = 10_000


def _fill(model, overrides: dict, now) -> dict:
    """Every concrete column of ``model`` with the override, the field's default, or the
    value Django would write (auto_now, blank text, NULL)."""
    row = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        name = field.attname
        if name in overrides:
            value = overrides[name]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        elif field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        else:
            value = ""
        if field.get_internal_type() == "JSONField" and value is not None:
            value = json.dumps(value, ensure_ascii=False)
        row[field.column] = value
    # Encrypted personal data (issue 8): ciphertext and its lookup hash, as save() stores.
    for field in model._meta.concrete_fields:
        if isinstance(field, EncryptedCharField) and row[field.column]:
            plain = row[field.column]
            row[field.column] = field.get_prep_value(plain)
            if field.index_field:
                row[model._meta.get_field(field.index_field).column] = field.index_of(plain)
    return row


def copy(model, rows) -> int:
    """COPY ``rows`` (dicts of column → value, from ``_fill``) into the model's table."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    columns = list(first)
    count = 0
    with connection.cursor() as cursor:
        sql = f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as out:
            for row in itertools.chain([first], rows):
                out.write_row([row[c] for c in columns])
                count += 1
    return count


def _id_number(n: int) -> str:
    born = datetime.date(1975, 1, 1) + datetime.timedelta(days=n % 9000)
    first17 = f"990102{born:%Y%m%d}{n // 9000:03d}"
    return first17 + resident_id_check_digit(first17)


def _people(prefix: str, start: int, count: int, employers: list, now) -> list[int]:
    copy(
        User,
        (
            _fill(
                User,
                {
                    "password": "!bench",
                    "username": f"{prefix}{n:06d}",
                    "real_name": f"测试{n:06d}",
                    "id_number": _id_number(n),
                    "id_type": "resident_id",
                    "gender": "M" if n % 2 else "F",
                    "phone": f"139{n:08d}",
                    "kind": User.Kind.PERSON,
                    "employer_id": employers[n % len(employers)].pk,
                    "registration_status": "approved",
                    "is_active": True,
                    "date_joined": now,
                },
                now,
            )
            for n in range(start, start + count)
        ),
    )
    return list(
        User.objects.filter(username__startswith=prefix).order_by("id").values_list("pk", flat=True)
    )


class Stages:
    """Who acts at stage k of programme p for employer e, resolved by the engine."""

    def __init__(self):
        self.cache = {}

    def at(self, program, employer, index):
        key = (program.pk, employer.pk, index)
        if key not in self.cache:
            from rencai.applications import transitions

            app = Application(
                program=program,
                program_version=program.current_version,
                employer=employer,
                chain=0,
            )
            stages = app.stages
            kind = stages[index].get("kind", "review") if index < len(stages) else None
            if kind not in ("review", "all_of", "notice"):
                self.cache[key] = None
            else:
                try:
                    transitions._place_at_stage(app, index)
                except ServiceError:
                    self.cache[key] = None
                else:
                    self.cache[key] = (
                        app.stage_employer_id,
                        app.stage_authority_id,
                        app.stage_kind,
                        stages[index]["name"],
                    )
        return self.cache[key]


def _materials(owner_ids: list[int], types: list[str], now) -> dict:
    """One stored PDF shared by every generated material row (the rows are what the
    benchmark reads; the file is really there for the checks that open it)."""
    name = default_storage.save("bench/material.pdf", ContentFile(PDF))
    digest = hashlib.sha256(PDF).hexdigest()
    copy(
        Material,
        (
            _fill(
                Material,
                {
                    "owner_id": owner,
                    "material_type": kind,
                    "file": name,
                    "original_name": f"{kind}.pdf",
                    "size": len(PDF),
                    "content_type": "application/pdf",
                    "sha256": digest,
                    "uploaded_at": now,
                },
                now,
            )
            for owner in owner_ids
            for kind in types
        ),
    )
    found = {}
    for pk, owner, kind in Material.objects.filter(owner_id__in=owner_ids).values_list(
        "pk", "owner_id", "material_type"
    ):
        found[(owner, kind)] = pk
    return found


def _profiles(owner_ids: list[int], now) -> None:
    school = School.objects.order_by("id").first()
    copy(
        Profile,
        (
            _fill(
                Profile,
                {
                    "user_id": owner,
                    "ethnicity": "01",
                    "party": "13",
                    "household_address": "示范市东城区幸福路1号",
                    "current_address": "示范市东城区幸福路1号",
                    "position": "工程师",
                },
                now,
            )
            for owner in owner_ids
        ),
    )
    copy(
        Education,
        (
            _fill(
                Education,
                {
                    "owner_id": owner,
                    "school_id": school.pk,
                    "major": "计算机科学与技术",
                    "level": "bachelor",
                    "degree": "bachelor",
                    "graduation_date": datetime.date(2020, 6, 30),
                    "diploma_number": f"10248120200{owner:07d}",
                    "is_highest": True,
                },
                now,
            )
            for owner in owner_ids
        ),
    )


def generate(total: int, ready: int, log) -> dict:
    """Fill the database. Returns what the load test needs: the ready drafts and the
    sessions of their applicants."""
    now = timezone.now()
    employers = list(Employer.objects.filter(kind__in=["enterprise", "institution"]).order_by("id"))
    big = Employer.objects.get(name="示范市星河科技有限公司")
    # the demo's big employer has 2/9 of the people: its roster is the 100k-row export
    others = [e for e in employers if e != big]
    weighted = [big, big, *itertools.islice(itertools.cycle(others), 7)]
    programs = [
        p
        for p in Program.objects.filter(active=True, applicant_kind="person")
        .select_related("current_version")
        .order_by("id")
        if p.current_version.definition["chains"]
    ]
    per_person = 10
    people_count = total // per_person
    log(f"  {people_count} people, {len(programs)} programmes, {len(employers)} employers")
    people = _people("bp", 0, people_count, weighted, now)
    employer_of = dict(User.objects.filter(pk__in=people).values_list("pk", "employer_id"))
    employer_by_id = {e.pk: e for e in employers}
    _materials(people, ["diploma"], now)
    stages = Stages()
    mix = [(state, stage) for state, stage, share in MIX for _ in range(share)]
    for program in programs:  # resolved before the COPY: it holds the connection
        for employer in employers:
            for _, stage, _ in MIX:
                if stage is not None:
                    stages.at(program, employer, stage)

    def application_rows():
        n = 0
        for person in people:
            employer = employer_by_id[employer_of[person]]
            for k in range(per_person):
                program = programs[(person + k) % len(programs)]
                state, stage = mix[(n * 7 + k) % len(mix)]
                placed = stages.at(program, employer, stage) if stage is not None else None
                if stage is not None and placed is None:
                    state, stage = "approved", None  # a chain without that stage
                year = 2010 + k
                values = {
                    "number": None if state == "draft" else f"BN{n:010d}",
                    "program_id": program.pk,
                    "program_version_id": program.current_version_id,
                    "applicant_id": person,
                    "employer_id": employer.pk,
                    "state": state,
                    "chain": 0,
                    "stage": stage or 0,
                    "stage_kind": placed[2] if placed else "",
                    "stage_employer_id": placed[0] if placed else None,
                    "stage_authority_id": placed[1] if placed else None,
                    "stage_entered_at": now - datetime.timedelta(minutes=n % 20000)
                    if placed
                    else None,
                    "data": {
                        "start_month": f"{year}-01",
                        "end_month": f"{year}-12",
                        "deducted_months": 0,
                    },
                    "period_start": datetime.date(year, 1, 1),
                    "period_end": datetime.date(year, 12, 31),
                    "months": 12,
                    "amount": 6000,
                    "version": 2 if state != "draft" else 1,
                    "submitted_at": None if state == "draft" else now,
                    "decided_at": now if state in ("approved", "rejected") else None,
                }
                n += 1
                yield _fill(Application, values, now)

    log(f"  applications: {copy(Application, application_rows())}")
    with connection.cursor() as cursor:
        # events: a create for every application, a submit for every sent one, a
        # decision for the settled ones; one attached material each
        cursor.execute(
            f"""
            INSERT INTO {ApplicationEvent._meta.db_table}
              (application_id, action, actor_id, actor_name, role, organisation,
               stage_name, from_state, to_state, opinion, at)
            SELECT a.id, e.action, a.applicant_id, '测试', '申请人', '', '', e.from_state,
                   e.to_state, '', %s
            FROM {Application._meta.db_table} a
            CROSS JOIN LATERAL (VALUES ('create', '', 'draft', true),
                                       ('submit', 'draft', 'submitted', a.state <> 'draft'),
                                       ('approve', 'submitted', a.state,
                                        a.state IN ('approved', 'rejected')))
                 AS e(action, from_state, to_state, wanted)
            WHERE e.wanted AND a.applicant_id = ANY(%s)
            """,
            [now, people],
        )
        events = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {ApplicationMaterial._meta.db_table}
              (application_id, material_type, material_id)
            SELECT a.id, 'diploma', m.id
            FROM {Application._meta.db_table} a
            JOIN {Material._meta.db_table} m
              ON m.owner_id = a.applicant_id AND m.material_type = 'diploma'
            WHERE a.applicant_id = ANY(%s)
            """,
            [people],
        )
        attached = cursor.rowcount
    log(f"  events: {events}, attached materials: {attached}")
    drafts = _ready_drafts(ready, people_count, weighted, now)
    notice = _notice_items(NOTICE_ITEMS, people, big, stages, now)
    log(f"  ready drafts: {len(drafts)}, waiting for a notice: {notice}")
    with connection.cursor() as cursor:
        # what autovacuum would do after a bulk load, done now rather than while the
        # measurements run (it would take one of the two cores)
        cursor.execute("VACUUM ANALYZE")
    return drafts


def _notice_items(count: int, people: list[int], employer, stages, now) -> int:
    """CHAIN living-subsidy applications approved by the district and waiting at its
    public-notice stage (F41): what the notice benchmark publishes in one notice."""
    program = Program.objects.get(code="chain_living")
    index = next(
        i
        for i, s in enumerate(program.definition["chains"][0]["stages"])
        if s.get("kind") == "notice"
    )
    placed = stages.at(program, employer, index)
    if placed is None:
        raise SystemExit("the chain_living notice stage has no district HR bureau")
    owners = list(
        User.objects.filter(pk__in=people, employer=employer).values_list("pk", flat=True)[:count]
    )
    return copy(
        Application,
        (
            _fill(
                Application,
                {
                    "number": f"BNN{n:09d}",
                    "program_id": program.pk,
                    "program_version_id": program.current_version_id,
                    "applicant_id": owner,
                    "employer_id": employer.pk,
                    "state": "in_review",
                    "stage": index,
                    "stage_kind": placed[2],
                    "stage_authority_id": placed[1],
                    "stage_entered_at": now,
                    "data": {"start_month": "2009-01", "end_month": "2009-12"},
                    "months": 12,
                    "amount": 6000,
                    "version": 4,
                    "submitted_at": now,
                },
                now,
            )
            for n, owner in enumerate(owners)
        ),
    )


def _ready_drafts(count: int, start: int, employers: list, now) -> list[dict]:
    """``count`` applicants, each with a profile, a degree, the required materials and a
    complete grad_living draft: what a real applicant has the moment before 提交."""
    program = Program.objects.get(code=READY_PROGRAM)
    people = _people("br", start, count, employers, now)
    _profiles(people, now)
    types = [m["type"] for m in program.definition["materials"] if m.get("required")]
    materials = _materials(people, types, now)
    data = {
        "start_month": "2025-01",
        "end_month": "2025-12",
        "deducted_months": 0,
        "explanation": "无",
    }
    employer_of = dict(User.objects.filter(pk__in=people).values_list("pk", "employer_id"))
    copy(
        Application,
        (
            _fill(
                Application,
                {
                    "program_id": program.pk,
                    "program_version_id": program.current_version_id,
                    "applicant_id": person,
                    "employer_id": employer_of[person],
                    "state": "draft",
                    "data": data,
                    "version": 1,
                },
                now,
            )
            for person in people
        ),
    )
    apps = dict(
        Application.objects.filter(applicant_id__in=people).values_list("applicant_id", "pk")
    )
    copy(
        ApplicationMaterial,
        (
            {"application_id": apps[p], "material_type": t, "material_id": materials[(p, t)]}
            for p in people
            for t in types
        ),
    )
    copy(
        ApplicationVersion,
        (
            _fill(
                ApplicationVersion,
                {
                    "application_id": apps[p],
                    "number": 1,
                    "reason": "created",
                    "data": data,
                    "materials": [],
                },
                now,
            )
            for p in people
        ),
    )
    copy(
        ApplicationEvent,
        (
            _fill(
                ApplicationEvent,
                {
                    "application_id": apps[p],
                    "action": "create",
                    "actor_id": p,
                    "actor_name": "测试",
                    "from_state": "",
                    "to_state": "draft",
                },
                now,
            )
            for p in people
        ),
    )
    return [
        {"application": apps[p], "session": s, "user": p}
        for p, s in zip(people, sessions_for(people), strict=True)
    ]


def sessions_for(user_ids: list[int]) -> list[str]:
    """A logged-in session per user, written as Django's login would write it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.models import Session

    from rencai.accounts.middleware import TOTP_VERIFIED

    users = User.objects.in_bulk(user_ids)
    expire = timezone.now() + datetime.timedelta(days=1)
    store = SessionStore()
    keys = []
    rows = []
    for pk in user_ids:
        key = secrets.token_hex(16)
        data = {
            SESSION_KEY: str(pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: users[pk].get_session_auth_hash(),
            "_touched": int(time.time()),  # a session in use, as on a busy morning
        }
        if users[pk].is_privileged:  # a reviewer who has entered the second factor
            data[TOTP_VERIFIED] = True
        rows.append({"session_key": key, "session_data": store.encode(data), "expire_date": expire})
        keys.append(key)
    copy(Session, rows)
    return keys
