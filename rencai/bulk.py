"""Writing many rows at once (issue 7).

``insert_many`` stores new model instances the fastest way the database offers: on
PostgreSQL one COPY (several times faster than a multi-row INSERT, whose statement Django
builds and PostgreSQL parses for every 500 rows), elsewhere ``bulk_create``. The values
are prepared by each field exactly as ``save`` prepares them (``pre_save`` fills
``auto_now`` fields, ``get_db_prep_save`` converts). Ids are not read back: use it for
rows nobody refers to in the same transaction (events, audit rows, in-app messages)."""

from django.db import connection


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
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row(
                    [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
                )
    return len(objs)
