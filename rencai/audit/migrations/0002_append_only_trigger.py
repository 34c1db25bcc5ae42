"""Refuse changes to the audit table at the database level, so that not even a bug or a
stray SQL session can rewrite history: UPDATE and DELETE on PostgreSQL (TRUNCATE stays
possible for the test suite's flush), UPDATE on SQLite (which has no TRUNCATE: its flush
deletes rows). Someone who can drop the trigger can still edit rows; the hash chain
detects that, and detects a deleted row too."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'audit_auditentry is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_append_only
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
"""
DROP = """
DROP TRIGGER IF EXISTS audit_append_only ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_refuse_change();
"""


SQLITE_CREATE = [
    f"""CREATE TRIGGER audit_append_only_{op.lower()} BEFORE {op} ON audit_auditentry
    BEGIN SELECT RAISE(ABORT, 'audit_auditentry is append-only: {op} refused'); END;"""
    for op in ("UPDATE",)
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS audit_append_only_update;"]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(CREATE)
    elif vendor == "sqlite":
        for sql in SQLITE_CREATE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(DROP)
    elif vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
