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
import functools

from django.db import connection, models
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
    plan = _plan(fields)
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


def _plan(fields) -> list[tuple]:
    return [(f, f.attname, _PLAIN.get(type(f))) for f in fields]


def _row(obj, plan, *, add: bool) -> list:
    """The values ``save`` would write: first every field's own ``pre_save`` (auto_now
    values, the blind index of an encrypted value), then each value prepared by its field,
    a plain value of a plain field as it is."""
    for field, _attname, plain in plan:
        if plain is None:
            field.pre_save(obj, add=add)
    values = []
    for field, attname, plain in plan:
        value = getattr(obj, attname)
        if plain is None or not (type(value) is plain or (value is None and field.null)):
            value = field.get_db_prep_save(value, connection)
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
    return sql, _plan(fields)


@functools.cache
def _update_statement(model, vendor: str) -> tuple[str, list]:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    sets = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    return f"UPDATE {table} SET {sets} WHERE {pk} = %s", _plan(fields)  # noqa: S608


@contextlib.contextmanager
def pipelined():
    """On PostgreSQL, the statements run inside go out without waiting for each answer
    (psycopg's pipeline mode): ``insert_one`` and ``update_one`` calls that read nothing back
    cost one round trip together, not one each (issue 7). An error still raises, at the
    first statement whose answer is read or at the end of the block, as Django's error.
    Only statements belong inside: no COPY (``insert_many``), nothing that may run other
    code (a task backend that runs the task at once)."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


def _pipelining() -> bool:
    return connection.vendor == "postgresql" and bool(connection.connection.pgconn.pipeline_status)


def _store(obj, *, add: bool):
    """``save()`` with the statement built once: pre_save, the fields' own preparation,
    one INSERT (reading the id back) or UPDATE (of a row that must exist), post_save.
    Inside ``pipelined`` nothing is read back: a row the database numbers keeps no id,
    and the caller vouches that an updated row exists (it holds the row's lock)."""
    model, alias = type(obj), connection.alias
    signals.pre_save.send(sender=model, instance=obj, raw=False, using=alias, update_fields=None)
    sql, plan = (_insert_statement if add else _update_statement)(model, connection.vendor)
    params = _row(obj, plan, add=add)
    with connection.cursor() as cursor:
        if add:
            cursor.execute(sql, params)
            if not _pipelining():
                obj.pk = cursor.fetchone()[0]
        else:
            cursor.execute(sql, [*params, obj.pk])
            if not _pipelining() and cursor.rowcount != 1:
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
