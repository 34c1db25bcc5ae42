"""Writing many rows at once, and one row the cheapest way (issue 7).

``insert_many`` stores new model instances the fastest way the database offers: on
PostgreSQL one COPY (several times faster than a multi-row INSERT, whose statement Django
builds and PostgreSQL parses for every 500 rows), elsewhere ``bulk_create``. The values
are prepared by each field exactly as ``save`` prepares them (``pre_save`` fills
``auto_now`` fields, ``get_db_prep_save`` converts). Ids are not read back: use it for
rows nobody refers to in the same transaction (events, audit rows, in-app messages).

``insert_one`` and ``update_one`` are ``save(force_insert=True)`` and ``save()`` of an
existing row, for the rows written on every submission: the statement is built once per
process and model instead of by the ORM each time (the building cost more than
PostgreSQL's work). The values are prepared the same way, and ``pre_save`` and
``post_save`` are sent as ``save`` sends them (django-tasks-db sets a task's run time in
one)."""

import functools

from django.db import connection, models
from django.db.models import signals


def insert_many(model, objs, *, batch_size: int = 1000) -> int:
    objs = list(objs)
    if not objs:
        return 0
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=batch_size)
        return len(objs)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    plain = [(f, f.attname, _PLAIN.get(type(f))) for f in fields]
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([_prepared(obj, *field) for field in plain])
    return len(objs)


# Fields of these exact classes (not subclasses: an encrypted field is a CharField) store a
# value of the named type as it is: what ``pre_save`` and ``get_db_prep_save`` would give.
# Checking the value's type is cheaper than calling them, 40 times per row in a batch of
# 10,000 (issue 7); any other value goes through them.
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


def _prepared(obj, field, attname, plain_type):
    value = getattr(obj, attname)
    if value is None or type(value) is plain_type:
        if plain_type is not None and (value is not None or field.null):
            return value
    return field.get_db_prep_save(field.pre_save(obj, add=True), connection)


@functools.cache
def _insert_statement(model, vendor: str) -> tuple[str, list]:
    # every column but a key the database numbers (a UUID key is set by the model)
    fields = [f for f in model._meta.concrete_fields if not f.db_returning]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
    return sql, fields


@functools.cache
def _update_statement(model, vendor: str) -> tuple[str, list]:
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    sets = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    return f"UPDATE {table} SET {sets} WHERE {pk} = %s", fields  # noqa: S608


def _store(obj, *, add: bool):
    """``save()`` with the statement built once: pre_save, the fields' own preparation,
    one INSERT (reading the id back) or UPDATE (of a row that must exist), post_save."""
    model, alias = type(obj), connection.alias
    signals.pre_save.send(sender=model, instance=obj, raw=False, using=alias, update_fields=None)
    sql, fields = (_insert_statement if add else _update_statement)(model, connection.vendor)
    for field in fields:  # first all of them: auto_now values, a blind index of a value
        field.pre_save(obj, add=add)
    params = [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        if add:
            cursor.execute(sql, params)
            obj.pk = cursor.fetchone()[0]
        else:
            cursor.execute(sql, [*params, obj.pk])
            if cursor.rowcount != 1:
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
