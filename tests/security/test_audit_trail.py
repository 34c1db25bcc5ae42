"""Issue 8, part 7: every denied access is logged; the chain is verified in the database
and in an exported copy; rows are kept for the retention period and purged after it only
when an off-site export holds them. (UPDATE/DELETE refused by the database trigger:
tests/test_audit.py::test_database_refuses_update_and_postgresql_delete.)"""

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from rencai.audit.models import GENESIS, AuditEntry
from rencai.audit.services import (
    audit_export,
    audit_purge,
    audit_record,
    audit_verify_chain,
    audit_verify_file,
)
from tests.test_applications import living, submit


def denied_rows():
    return list(AuditEntry.objects.filter(action="access.denied").order_by("id"))


def test_a_denied_page_and_api_request_are_logged_with_who_what_and_where(
    city, ready_applicant, client, security_counts
):
    app = submit(living(ready_applicant))
    client.force_login(city.outsider_reviewer)  # another district, not the applicant
    before = AuditEntry.objects.count()

    page = client.get(reverse("applications:pdf", args=[app.pk]), REMOTE_ADDR="10.1.2.3")
    api = client.get(f"/api/applications/{app.pk}", REMOTE_ADDR="10.1.2.3")

    assert page.status_code == 404 and api.status_code == 404
    rows = denied_rows()
    assert len(rows) == 2 and AuditEntry.objects.count() == before + 2
    assert {r.object_type for r in rows} == {
        "applications:pdf",
        "api-1.0.0:application_detail",
    }
    for row in rows:
        assert row.actor_id == city.outsider_reviewer.pk
        assert row.ip == "10.1.2.3"
        assert row.summary["status"] == 404 and row.summary["method"] == "GET"
        assert str(app.pk) in row.object_id and str(app.pk) in row.summary["path"]
    # The person asking sees nothing of it: the same answer as for an id that does not exist.
    absent = client.get(reverse("applications:pdf", args=[2**31 - 1]))
    assert absent.status_code == 404 and absent.content == page.content
    assert audit_verify_chain().ok
    security_counts("audit").add("denied requests logged", len(denied_rows()))


def test_a_refused_write_is_logged_as_denied_and_an_unknown_address_is_not(city, client):
    client.force_login(city.admin)
    row = audit_record(action="test.row")
    refused = client.post(f"/admin/audit/auditentry/{row.pk}/delete/", {"post": "yes"})
    assert refused.status_code == 403
    assert [(r.summary["method"], r.summary["status"]) for r in denied_rows()] == [("POST", 403)]
    # A mistyped address names no object: a plain 404, not an access attempt.
    assert client.get("/no-such-page/").status_code == 404
    assert len(denied_rows()) == 1


def _rows(n, **fields):
    return [audit_record(action=f"test.{i}", object_id=str(i), **fields) for i in range(n)]


def _export(after_id=0) -> str:
    out = io.StringIO()
    audit_export(out, after_id=after_id)
    return out.getvalue()


def test_an_exported_copy_verifies_on_its_own_and_any_edit_to_it_is_named(db, tmp_path):
    rows = _rows(5, after={"phone": "138****0000"})
    path = tmp_path / "audit.jsonl"
    call_command("export_audit", str(path), stdout=io.StringIO())
    out = io.StringIO()
    call_command("verify_audit_chain", "--file", str(path), stdout=out)
    assert "5 rows verified" in out.getvalue()
    with pytest.raises(CommandError, match="exists"):
        call_command("export_audit", str(path), stdout=io.StringIO())

    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["manifest"]["last_hash"] == rows[-1].hash
    edited = lines.copy()
    third = json.loads(edited[2])
    third["action"] = "test.forged"
    edited[2] = json.dumps(third)
    report = audit_verify_file(edited)
    assert not report.ok and f"row {rows[2].pk}" in report.error
    assert "no manifest" in audit_verify_file(lines[:-1]).error  # cut short in transit
    assert not audit_verify_file(lines[:2] + lines[3:]).ok  # a row dropped


def test_rows_past_retention_are_purged_only_with_an_archive_and_the_chain_still_verifies(
    db, time_machine
):
    time_machine.move_to(datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC))
    old = _rows(3)
    time_machine.move_to(datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC))
    archive = _export().splitlines()  # the three old rows, shipped off-site
    recent = _rows(2)

    # An archive that lacks a row to purge is refused and nothing is removed.
    partial = _export(after_id=old[0].pk).splitlines()
    with pytest.raises(ValueError, match="not in the archive"):
        audit_purge(archive_lines=partial, retention_days=365)
    assert AuditEntry.objects.count() == 5
    with pytest.raises(ValueError, match="below the minimum"):
        audit_purge(archive_lines=archive, retention_days=90)

    assert audit_purge(archive_lines=archive, retention_days=365)["rows"] == 3
    assert not AuditEntry.objects.filter(pk__in=[r.pk for r in old]).exists()
    assert AuditEntry.objects.filter(pk__in=[r.pk for r in recent]).count() == 2
    purge = AuditEntry.objects.get(action="audit.purge")
    assert purge.summary["last_purged_hash"] == old[-1].hash
    assert AuditEntry.objects.order_by("id").first().prev_hash == old[-1].hash != GENESIS
    report = audit_verify_chain()
    assert report.ok and report.checked == 3  # two recent rows and the purge record
    # Nothing is older than a year any more: a second purge removes nothing.
    assert audit_purge(archive_lines=archive, retention_days=365)["rows"] == 0


def test_a_prefix_deleted_behind_the_purge_breaks_the_chain(db):
    rows = _rows(3)
    if connection.vendor == "postgresql":
        # Without the purge's flag the trigger refuses it...
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(pk=rows[0].pk).delete()
        # ...and with the flag set by hand, nothing records it: the chain breaks.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL rencai.audit_purge = 'on'")
            cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [rows[0].pk])
    else:
        AuditEntry.objects.filter(pk=rows[0].pk).delete()
    assert audit_verify_chain().first_broken_id == rows[1].pk


def test_the_commands_name_a_missing_or_unreadable_file_instead_of_failing(db, tmp_path):
    binary = tmp_path / "audit.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("verify_audit_chain", "--file", str(tmp_path / "none.jsonl"))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("verify_audit_chain", "--file", str(binary))
    with pytest.raises(CommandError, match="not a folder"):
        call_command("export_audit", str(tmp_path / "no" / "audit.jsonl"))
    with pytest.raises(CommandError):
        call_command("purge_audit", "--archive", str(binary))
