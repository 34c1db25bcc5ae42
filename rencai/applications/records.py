"""What the eligibility rules and the engine read on every submission (issue 7), in
plain SQL.

A submission reads the applicant's own records, their other applications of the program,
the application's attached materials, its 容缺 declarations and its last version number.
Built by the ORM these reads cost more Python than the rest of the submission together
(each query is compiled anew); here each is one statement written once per process from the
models' own table and column names, so a renamed field still lands here. The same
statements run on SQLite and PostgreSQL. ``tests/test_rule_records.py`` checks every
answer against the ORM's for the same rows, so the two definitions cannot drift apart
(the talent category in force and the exception-list bar are defined in
``talent.services.categories_in_force`` and ``integrity.services.barring_entries``)."""

import datetime
import functools
import json
from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class PersonRecord:
    """What the rules read from a person's own records."""

    education: str | None = None  # the highest level, a key of rules.EDUCATION_RANK
    has_profile: bool = False
    has_qualification: bool = False
    first_contract: datetime.date | None = None  # the first labour contract's start
    category_id: int | None = None  # the talent category in force today
    barred_id: int | None = None  # the exception-list entry that bars them on the day


@dataclass(frozen=True)
class Other:
    """One of the applicant's other applications of the same program."""

    number: str | None
    state: str
    period_start: datetime.date | None
    period_end: datetime.date | None
    months: int | None


@dataclass(frozen=True)
class Attached:
    """A material attached to the application for one material type."""

    material_type: str
    material_id: int
    original_name: str

    @property
    def extension(self) -> str:
        name = self.original_name
        return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _col(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _date(value) -> datetime.date | None:
    """A date column's value: SQLite answers text."""
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


def _day(value: datetime.date):
    return connection.ops.adapt_datefield_value(value)


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@functools.cache
def _person_sql(vendor: str, by_id_number: bool) -> str:
    from rencai.applications.rules import EDUCATION_RANK
    from rencai.integrity.models import ExceptionEntry
    from rencai.profiles.models import Education, HeldQualification, Profile, WorkHistory
    from rencai.talent.models import TalentCategory

    E, W, T, X = Education, WorkHistory, TalentCategory, ExceptionEntry
    rank = " ".join(f"WHEN '{level}' THEN {r:d}" for level, r in EDUCATION_RANK.items())
    who = f"{_col(X, 'person')} = %s"
    if by_id_number:  # a re-registered person is still barred (integrity.services)
        who = f"({who} OR ({_col(X, 'id_type')} = %s AND {_col(X, 'id_number_index')} = %s))"
    return f"""SELECT
 (SELECT {_col(E, "level")} FROM {_table(E)} WHERE {_col(E, "owner")} = %s
  ORDER BY CASE {_col(E, "level")} {rank} ELSE 0 END DESC,
  {_col(E, "graduation_date")}, {_col(E, "id")} LIMIT 1),
 (SELECT COUNT(*) FROM {_table(Profile)} WHERE {_col(Profile, "user")} = %s),
 (SELECT COUNT(*) FROM (SELECT 1 FROM {_table(HeldQualification)}
  WHERE {_col(HeldQualification, "owner")} = %s LIMIT 1) q),
 (SELECT MIN({_col(W, "contract_start")}) FROM {_table(W)}
  WHERE {_col(W, "owner")} = %s AND {_col(W, "kind")} = 'work'),
 (SELECT {_col(T, "id")} FROM {_table(T)} WHERE {_col(T, "person")} = %s
  AND {_col(T, "state")} = 'active' AND {_col(T, "valid_from")} <= %s
  AND {_col(T, "valid_until")} >= %s ORDER BY {_col(T, "id")} LIMIT 1),
 (SELECT {_col(X, "id")} FROM {_table(X)} WHERE {who}
  AND {_col(X, "lifted_at")} IS NULL AND {_col(X, "starts_on")} <= %s
  AND {_col(X, "ends_on")} > %s
  ORDER BY {_col(X, "ends_on")} DESC, {_col(X, "id")} DESC LIMIT 1)"""


def _person_params(user, today: datetime.date, now: datetime.date) -> tuple[bool, list]:
    from rencai.integrity.models import ExceptionEntry

    pk = user.pk
    by_id_number = bool(user.id_number)
    params = [pk, pk, pk, pk, pk, _day(now), _day(now), pk]
    if by_id_number:
        index = ExceptionEntry._meta.get_field("id_number").index_of(user.id_number)
        params += [user.id_type or "", index]
    return by_id_number, [*params, _day(today), _day(today)]


def _person(row) -> PersonRecord:
    return PersonRecord(
        education=row[0],
        has_profile=bool(row[1]),
        has_qualification=bool(row[2]),
        first_contract=_date(row[3]),
        category_id=row[4],
        barred_id=row[5],
    )


def person_record(user, today: datetime.date, now: datetime.date) -> PersonRecord:
    """The person's records in one statement: the talent category in force on ``now``,
    the bar in force on ``today`` (the day the pre-check asks about)."""
    by_id_number, params = _person_params(user, today, now)
    return _person(_fetch(_person_sql(connection.vendor, by_id_number), params)[0])


# Each list below is read by a SELECT whose columns are named c0, c1, …: on its own, or,
# for a submission, inside one statement with the others (``submission_records``), as a
# JSON array of its rows. The rows are put in order here, in Python, in both cases.


@functools.cache
def _others_rows(vendor: str, states: tuple[str, ...]) -> str:
    from rencai.applications.models import Application as A

    marks = ", ".join(["%s"] * len(states))
    return f"""SELECT {_col(A, "number")} c0, {_col(A, "state")} c1, {_col(A, "period_start")} c2,
 {_col(A, "period_end")} c3, {_col(A, "months")} c4, {_col(A, "id")} c5 FROM {_table(A)}
 WHERE {_col(A, "applicant")} = %s AND {_col(A, "program")} = %s
 AND {_col(A, "state")} IN ({marks}) AND {_col(A, "deleted_at")} IS NULL
 AND {_col(A, "id")} <> %s"""


def _others_params(app, states) -> list:
    return [app.applicant_id, app.program_id, *states, app.pk or 0]


def _others(rows) -> list[Other]:
    rows = sorted(rows, key=lambda row: row[5])
    return [Other(n, s, _date(start), _date(end), months) for n, s, start, end, months, _ in rows]


def others_of(app, states: tuple[str, ...]) -> list[Other]:
    """The applicant's other applications of the program in ``states``, oldest first."""
    return _others(_fetch(_others_rows(connection.vendor, states), _others_params(app, states)))


@functools.cache
def _attachments_rows(vendor: str) -> str:
    from rencai.applications.models import ApplicationMaterial as L
    from rencai.profiles.models import Material as M

    return f"""SELECT l.{_col(L, "material_type")} c0, l.{_col(L, "material")} c1,
 m.{_col(M, "original_name")} c2 FROM {_table(L)} l
 JOIN {_table(M)} m ON m.{_col(M, "id")} = l.{_col(L, "material")}
 WHERE l.{_col(L, "application")} = %s"""


def _attachments(rows) -> list[Attached]:
    return [Attached(*row) for row in sorted(rows, key=lambda row: (row[0], row[1]))]


def attachments_of(app) -> list[Attached]:
    """The attached materials, by type and then by material."""
    return _attachments(_fetch(_attachments_rows(connection.vendor), [app.pk]))


@functools.cache
def _gaps_rows(vendor: str) -> str:
    from rencai.applications.models import ApplicationGap as G

    return f"""SELECT {_col(G, "id")} c0, {_col(G, "material_type")} c1, {_col(G, "state")} c2,
 {_col(G, "deadline")} c3 FROM {_table(G)} WHERE {_col(G, "application")} = %s"""


def _gaps(app, rows) -> list:
    from rencai.applications.models import ApplicationGap

    return [
        ApplicationGap(
            id=pk, application_id=app.pk, material_type=kind, state=state, deadline=_date(day)
        )
        for pk, kind, state, day in sorted(rows, key=lambda row: row[0])
    ]


def gaps_of(app) -> list:
    """The 容缺 declarations, as unsaved-looking model rows with the fields the rules and
    the submission's audit row read (id, material type, state, deadline)."""
    return _gaps(app, _fetch(_gaps_rows(connection.vendor), [app.pk]))


@functools.cache
def _version_sql(vendor: str) -> str:
    from rencai.applications.models import ApplicationVersion as V

    return f"""SELECT MAX({_col(V, "number")}) FROM {_table(V)}
 WHERE {_col(V, "application")} = %s"""


def last_version_number(app) -> int:
    """The number of the application's latest snapshot (F35), 0 before the first."""
    return _fetch(_version_sql(connection.vendor), [app.pk])[0][0] or 0


def _as_json(vendor: str, rows_sql: str, columns: int) -> str:
    """A SELECT of rows (columns c0…) as one JSON array of arrays (``[]`` for none)."""
    names = ", ".join(f"r.c{i}" for i in range(columns))
    if vendor == "postgresql":
        return f"(SELECT COALESCE(json_agg(json_build_array({names})), '[]') FROM ({rows_sql}) r)"
    return f"(SELECT json_group_array(json_array({names})) FROM ({rows_sql}) r)"


@functools.cache
def _bundle_sql(vendor: str, by_id_number: bool, states: tuple[str, ...]) -> str:
    person = _person_sql(vendor, by_id_number).removeprefix("SELECT")
    return f"""SELECT {person},
 {_as_json(vendor, _others_rows(vendor, states), 6)},
 {_as_json(vendor, _attachments_rows(vendor), 3)},
 {_as_json(vendor, _gaps_rows(vendor), 4)},
 ({_version_sql(vendor)})"""


@dataclass(frozen=True)
class Bundle:
    person: PersonRecord
    others: list[Other]
    attachments: list[Attached]
    gaps: list
    last_version: int


def _json(value) -> list:
    return json.loads(value) if isinstance(value, str | bytes) else value


def submission_records(app, states: tuple[str, ...], today, now) -> Bundle:
    """Everything above for one application and its applicant, in one statement: a
    submission reads all of it (five round trips to the database become one)."""
    by_id_number, person_params = _person_params(app.applicant, today, now)
    sql = _bundle_sql(connection.vendor, by_id_number, states)
    params = [*person_params, *_others_params(app, states), app.pk, app.pk, app.pk]
    row = _fetch(sql, params)[0]
    return Bundle(
        person=_person(row),
        others=_others(_json(row[6])),
        attachments=_attachments(_json(row[7])),
        gaps=_gaps(app, _json(row[8])),
        last_version=row[9] or 0,
    )
