"""On PostgreSQL, one audit row is appended by one call of ``audit_append_one`` (issue 7).

Appends are serialised by an advisory lock held to the end of the writer's transaction.
Done from Python, the lock, the read of the chain's last hash and the insert were three
round trips, and after each one the writer's thread had to win back its process's
interpreter lock while the other writers queued behind the chain lock: under load the
submissions spent a third of their time waiting there. The function takes the lock,
reads the last hash with a snapshot taken after the lock (each statement of a volatile
PL/pgSQL function takes its own) and inserts the row with its hash, all in one call.
The hash is the one ``AuditEntry.compute_hash`` computes: SHA-256 of the previous hash
followed by the row's payload, as UTF-8, in hex. The payload is written by Python
(``AuditEntry.payload``) and passed in, so there is one definition of it."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_append_one(
    p_lock bigint, p_payload text, p_at timestamptz, p_actor_id bigint,
    p_actor_repr varchar, p_role varchar, p_action varchar, p_object_type varchar,
    p_object_id varchar, p_summary jsonb, p_ip inet
) RETURNS TABLE (new_id bigint, new_prev_hash varchar, new_hash varchar) AS $$
DECLARE
    prev varchar;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock);
    SELECT a.hash INTO prev FROM audit_auditentry a ORDER BY a.id DESC LIMIT 1;
    prev := coalesce(nullif(prev, ''), repeat('0', 64));
    RETURN QUERY
    INSERT INTO audit_auditentry AS a
        (at, actor_id, actor_repr, role, action, object_type, object_id, summary, ip,
         prev_hash, hash)
    VALUES
        (p_at, p_actor_id, p_actor_repr, p_role, p_action, p_object_type, p_object_id,
         p_summary, p_ip, prev, encode(sha256(convert_to(prev || p_payload, 'UTF8')), 'hex'))
    RETURNING a.id, a.prev_hash, a.hash;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""
DROP = """
DROP FUNCTION IF EXISTS audit_append_one(
    bigint, text, timestamptz, bigint, varchar, varchar, varchar, varchar, varchar, jsonb, inet
);
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_purge_past_retention")]

    operations = [migrations.RunPython(forwards, backwards)]
