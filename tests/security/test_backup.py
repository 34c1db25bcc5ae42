"""Issue 8, backup and restore: ``manage.py backup`` and ``manage.py restore``
(rencai/ops/backup.py) round-trip a populated database and its stored files. After a
restore into a wiped database every table has the same rows (compared column by column
with plain SQL, not with the backup's own checksums), every stored file the same bytes,
and the audit chain verifies. A damaged backup, or a database that is not empty, is
refused with nothing changed. Runs on SQLite and on PostgreSQL."""

import hashlib
import io
import shutil

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from rencai.accounts.models import User
from rencai.applications import transitions as t
from rencai.applications.models import Application
from rencai.audit.models import AuditEntry
from rencai.audit.services import audit_record, audit_verify_chain
from rencai.ops.backup import table_models
from rencai.profiles.models import Material
from tests.conftest import build_city, prepare_applicant
from tests.test_applications import living, submit

# The restore empties tables with TRUNCATE on PostgreSQL, which a transaction holding
# deferred foreign-key checks refuses: these tests commit as they go.
pytestmark = pytest.mark.django_db(transaction=True)


def rows_by_table() -> dict[str, tuple[int, str]]:
    """(row count, sha256 of every column of every row in key order), per table, read with
    plain SQL."""
    out = {}
    with connection.cursor() as cursor:
        for model in table_models():
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")
            rows = cursor.fetchall()
            out[model._meta.db_table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return out


def stored_bytes(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def populated(media):
    """The demo city, an application with uploaded materials submitted and approved once,
    and so audit rows, messages, events and version snapshots."""
    city = build_city()
    applicant = prepare_applicant(city.applicant)
    app = submit(living(applicant))
    t.approve(actor=city.employer_admin, application=app, opinion="同意")
    assert Material.objects.filter(owner=applicant).count() == 4
    assert app.attachments.exists() and AuditEntry.objects.count() > 2
    return app


def test_a_backup_restored_into_a_wiped_database_gives_the_same_rows_and_files(
    populated, media, tmp_path, security_counts
):
    counts = security_counts("backup")
    before, files_before = rows_by_table(), stored_bytes(media)
    assert files_before and sum(n for n, _ in before.values()) > 100
    call_command("backup", str(tmp_path / "backup"), stdout=io.StringIO())
    users = (tmp_path / "backup" / "db" / "accounts.User.jsonl").read_text(encoding="utf-8")
    # encrypted columns are copied as stored: no plain ID number in the backup
    assert populated.applicant.id_number not in users and "enc1:" in users

    # disaster: the database emptied (as a freshly migrated one) and the files gone
    call_command("flush", "--noinput", verbosity=0)
    shutil.rmtree(media)
    assert not Application.objects.exists() and not User.objects.exists()

    call_command("restore", str(tmp_path / "backup"), stdout=io.StringIO())
    after, files_after = rows_by_table(), stored_bytes(media)
    differ = sorted(table for table in before if before[table] != after[table])
    assert not differ, differ
    assert files_after == files_before
    counts.add("tables compared", len(before))
    counts.add("rows restored", sum(n for n, _ in after.values()))
    counts.add("files restored", len(files_after))
    counts.add("tables or files differing", len(differ))
    call_command("verify_audit_chain", stdout=io.StringIO())

    # the platform goes on: files open through the storage, new rows get new ids
    material = Material.objects.filter(owner=populated.applicant).first()
    with default_storage.open(material.file.name) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == material.sha256
    audit_record(action="ops.check_after_restore")
    assert audit_verify_chain().ok
    t.approve(actor=User.objects.get(username="dongcheng_reviewer"), application=populated)
    assert Application.objects.get(pk=populated.pk).stage == 2


def test_a_restore_refuses_a_damaged_backup_or_a_database_in_use_and_changes_nothing(
    populated, media, tmp_path
):
    backup = tmp_path / "backup"
    call_command("backup", str(backup), verbosity=0)
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", str(backup), verbosity=0)
    before, files_before = rows_by_table(), stored_bytes(media)
    with pytest.raises(CommandError, match="has accounts in it"):
        call_command("restore", str(backup), verbosity=0)

    stored = next(p for p in (backup / "files").rglob("*") if p.is_file())
    good = stored.read_bytes()
    stored.write_bytes(good + b"tampered")
    with pytest.raises(CommandError, match="damaged"):
        call_command("restore", str(backup), "--replace", verbosity=0)
    stored.write_bytes(good)
    table = backup / "db" / "applications.Application.jsonl"
    table.write_text(table.read_text(encoding="utf-8").replace('"state":"', '"state":"x'))
    with pytest.raises(CommandError, match="damaged"):
        call_command("restore", str(backup), "--replace", verbosity=0)
    assert rows_by_table() == before and stored_bytes(media) == files_before

    # with --replace a good backup replaces what is there: the same content again
    shutil.rmtree(backup)
    call_command("backup", str(backup), verbosity=0)
    Application.objects.filter(pk=populated.pk).update(last_opinion="changed after the backup")
    (media / "stray.txt").write_bytes(b"not in the backup")
    call_command("restore", str(backup), "--replace", verbosity=0)
    assert rows_by_table() == before and stored_bytes(media) == files_before
    assert connection.vendor in ("sqlite", "postgresql")
