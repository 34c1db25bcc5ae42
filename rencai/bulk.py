"""Writing many rows at once, and one row the cheapest way (issue 7).

``insert_many`` stores new model instances the fastest way the database offers: on
PostgreSQL one COPY (several times faster than a multi-row INSERT, whose statement Django
builds and PostgreSQL parses for every 500 rows), elsewhere ``bulk_create``. The values
are prepared by each field exactly as ``save`` prepares them (``pre_save`` fills
``auto_now`` fields, ``get_db_prep_save`` converts). Ids are not read back: use it for
rows nobody refers to in the same transaction (events, audit rows, in-app messages), or
ask for them to be taken beforehand (``numbered``, the SMS outbox).

``insert_one`` and ``update_one`` are ``save(force_insert=True)`` and ``save()`` of an
existing row, for the rows written on every submission: the statement is built once per
process and model instead of by the ORM each time (the building cost more than
PostgreSQL's work). The values are prepared the same way, and ``pre_save`` and
``post_save`` are sent as ``save`` sends them (django-tasks-db sets a task's run time in
one)."""

import contextlib
import contextvars
import datetime
import functools

import psycopg
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import signals


def insert_many(model, objs, *, batch_size: int = 1000, numbered: bool = False) -> int:
    """Store ``objs``. ``numbered``: each instance gets its id, for a caller that hands
    the ids on (the SMS outbox to its delivery task); on PostgreSQL they are taken from the
    table's sequence in one statement and written by the COPY, elsewhere ``bulk_create``
    reads them back."""
    if numbered and not isinstance(model._meta.pk, models.AutoField):
        # only a key the database numbers has a sequence to take the ids from
        raise ValueError(f"insert_many: {model.__name__}'s key is not numbered by the database")
    objs = list(objs)
    if not objs:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=batch_size)
        return len(objs)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    table = connection.ops.quote_name(model._meta.db_table)
    if numbered:
        pk = model._meta.pk
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk.column, len(objs)],
            )
            for obj, (number,) in zip(objs, cursor.fetchall(), strict=True):
                obj.pk = number
                obj._state.adding, obj._state.db = False, connection.alias
        fields = [pk, *fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    plan = _plan(fields, connection.vendor)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row(_row(obj, plan, add=True))
    return len(objs)


# Fields of these exact classes (not subclasses: an encrypted field is a CharField) have
# no ``pre_save`` of their own and store a value of the named type as it is: what
# ``get_db_prep_save`` would give. Checking the value's type is cheaper than calling it,
# 40 times per row in a batch of 10,000 (issue 7); any other value goes through it.
_PLAIN = {
    **dict.fromkeys(
        (
            models.BigIntegerField,
            models.IntegerField,
            models.PositiveBigIntegerField,
            models.PositiveIntegerField,
            models.PositiveSmallIntegerField,
            models.SmallIntegerField,
            models.ForeignKey,
        ),
        int,
    ),
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
}
# On PostgreSQL a date, and a datetime with its time zone, are stored as they are (the
# backend's ``adapt_date*field_value`` answer them unchanged; elsewhere they become text).
# A naive datetime still goes through its field, which warns and makes it aware.
_PLAIN_POSTGRESQL = {
    **_PLAIN,
    models.DateField: datetime.date,
    models.DateTimeField: datetime.datetime,
}


def _plan(fields, vendor: str) -> list[tuple]:
    """Per field: the field, its attribute, the type of a value stored as it is (or
    None), and whether its ``pre_save`` must run (any field but a plain one, and a date
    that ``auto_now`` or ``auto_now_add`` sets)."""
    plain_types = _PLAIN_POSTGRESQL if vendor == "postgresql" else _PLAIN
    plan = []
    for f in fields:
        plain = plain_types.get(type(f))
        pre_save = (
            plain is None or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        )
        plan.append((f, f.attname, plain, pre_save))
    return plan


def default_connection():
    """The default connection itself: each attribute read through ``connection``, the
    thread's proxy, looks the connection up again (a context-local read, about a
    microsecond), and a submission's writes read dozens (issue 7)."""
    return connections[DEFAULT_DB_ALIAS]


def _row(obj, plan, *, add: bool) -> list:
    """The values ``save`` would write: first every field's own ``pre_save`` (auto_now
    values, the blind index of an encrypted value), then each value prepared by its field,
    a plain value of a plain field as it is."""
    db = default_connection()
    for field, _attname, _plain, pre_save in plan:
        if pre_save:
            field.pre_save(obj, add=add)
    values = []
    for field, attname, plain, _pre_save in plan:
        value = getattr(obj, attname)
        if plain is None or not (
            (type(value) is plain and (plain is not datetime.datetime or value.tzinfo is not None))
            or (value is None and field.null)
        ):
            value = field.get_db_prep_save(value, db)
        values.append(value)
    return values


@functools.cache
def _insert_statement(model, vendor: str) -> tuple[str, list]:
    # every column but a key the database numbers (a UUID key is set by the model)
    fields = [f for f in model._meta.concrete_fields if not f.db_returning]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
    return sql, _plan(fields, vendor)


@functools.cache
def _update_statement(model, vendor: str) -> tuple[str, list]:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    sets = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    return f"UPDATE {table} SET {sets} WHERE {pk} = %s", _plan(fields, vendor)  # noqa: S608


class _Writes:
    """What a ``combined`` block sends at its end."""

    def __init__(self):
        self.parts: list[tuple[str, list]] = []  # the data-modifying statements
        self.last: tuple[str, list, object] | None = None  # the one whose row is read


_combining: contextvars.ContextVar[_Writes | None] = contextvars.ContextVar(
    "rencai_combined", default=None
)


@contextlib.contextmanager
def combined():
    """On PostgreSQL the ``insert_one`` and ``update_one`` calls inside, and at most one
    ``returning`` call, go to the database at the end of the block as one statement
    (``WITH w0 AS (UPDATE …), w1 AS (INSERT …) SELECT …``, each part run exactly once): one
    round trip, and one statement for PostgreSQL to bind and run instead of one each
    (issue 7: a submission's writes). Nothing is read back before then: a row the
    database numbers keeps no id, and the caller vouches that an updated row exists (it
    holds the row's lock). An error raises at the end of the block, as Django's error, and
    nothing of the block is stored; an exception inside the block sends nothing. Use it
    inside a transaction. Elsewhere each call runs at once."""
    if connection.vendor != "postgresql":
        yield
        return
    writes = _Writes()
    token = _combining.set(writes)
    try:
        yield
    finally:
        _combining.reset(token)
    if writes.parts or writes.last:
        _send(writes)


def _send(writes: _Writes) -> None:
    """The block's statement, through Django's cursor (its error wrapping, its execute
    wrappers, its query log) on a psycopg cursor that numbers the placeholders once per
    statement shape: psycopg parses a statement's ``%s`` anew on every run once it has
    more than 50 parameters (it caches only shorter ones), and this one has more."""
    sql, params, on_row = writes.last or ("SELECT 1", [], None)
    if writes.parts:
        ctes = ", ".join(f"w{i} AS ({part})" for i, (part, _) in enumerate(writes.parts))
        sql = f"WITH {ctes} {sql}"
        params = [*(p for _, values in writes.parts for p in values), *params]
    db = default_connection()
    db.ensure_connection()
    with db.wrap_database_errors:
        # what ``connection.cursor()`` does, with this cursor class
        cursor = db._prepare_cursor(_NumberedCursor(db.connection))
    with cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if on_row is not None:
        on_row(row)


class _NumberedCursor(psycopg.RawCursor):
    """psycopg's cursor for PostgreSQL's own ``$1…$n`` placeholders, given ``%s`` ones."""

    def execute(self, query, params=None, **kwargs):
        return super().execute(_numbered(query), params, **kwargs)


@functools.lru_cache(maxsize=64)
def _numbered(sql: str) -> str:
    """``sql`` with psycopg's ``%s`` placeholders numbered ``$1``, ``$2``… (the statements
    here are built from table and column names: no literal ``%``)."""
    if "%%" in sql:
        raise ValueError("combined: a literal % in a statement is not supported")
    first, *rest = sql.split("%s")
    return first + "".join(f"${n}{piece}" for n, piece in enumerate(rest, start=1))


def returning(sql: str, params: list, on_row) -> None:
    """Run ``sql``, a statement that answers one row, and hand the row to ``on_row``;
    inside ``combined``, at the end of the block, as the statement's main query."""
    writes = _combining.get()
    if writes is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            on_row(cursor.fetchone())
        return
    if writes.last is not None:
        raise ValueError("combined: one statement per block may answer a row")
    writes.last = (sql, list(params), on_row)


def _store(obj, *, add: bool):
    """``save()`` with the statement built once: pre_save, the fields' own preparation,
    one INSERT (reading the id back) or UPDATE (of a row that must exist), post_save.
    Inside ``combined`` the statement is sent at the end of the block and nothing is read
    back (see there)."""
    db = default_connection()
    model, alias = type(obj), db.alias
    signals.pre_save.send(sender=model, instance=obj, raw=False, using=alias, update_fields=None)
    sql, plan = (_insert_statement if add else _update_statement)(model, db.vendor)
    params = _row(obj, plan, add=add) if add else [*_row(obj, plan, add=add), obj.pk]
    writes = _combining.get()
    if writes is not None:
        writes.parts.append((sql, params))
    else:
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            if add:
                obj.pk = cursor.fetchone()[0]
            elif cursor.rowcount != 1:
                raise model.DoesNotExist(f"{model.__name__} {obj.pk} is not stored")
    obj._state.adding, obj._state.db = False, alias
    signals.post_save.send(
        sender=model, instance=obj, created=add, raw=False, using=alias, update_fields=None
    )
    return obj


def insert_one(obj):
    """Store a new model instance and set its id (see the module's docstring)."""
    return _store(obj, add=True)


def update_one(obj) -> None:
    """Write every field of a stored instance (``save()`` of an existing row)."""
    _store(obj, add=False)
