"""B3: the append-only, hash-chained audit log."""

import importlib
import io
import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from rencai.audit.models import AuditEntry
from rencai.audit.services import audit_record, audit_verify_chain


def make_rows(n=5):
    return [
        audit_record(action=f"test.{i}", object_type="demo", object_id=str(i), after={"value": i})
        for i in range(n)
    ]


def test_chain_verifies(db):
    rows = make_rows()
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    report = audit_verify_chain()
    assert report.ok and report.checked == 5
    out = io.StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "5 rows verified" in out.getvalue()


def _tamper(sql, params):
    """Edit the table as an attacker with full database access would: switch the
    append-only trigger off first (it refuses the edit otherwise), then on again."""
    mig = importlib.import_module("rencai.audit.migrations.0002_append_only_trigger")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_append_only")
        else:
            for drop in mig.SQLITE_DROP:
                cursor.execute(drop)
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_append_only")
        else:
            for create in mig.SQLITE_CREATE:
                cursor.execute(create)


def test_edited_row_is_detected_and_named(db):
    rows = make_rows()
    _tamper(
        "UPDATE audit_auditentry SET summary = %s WHERE id = %s",
        ['{"after": {"value": 999}}', rows[2].pk],
    )
    report = audit_verify_chain()
    assert report.first_broken_id == rows[2].pk
    with pytest.raises(CommandError, match=f"row {rows[2].pk}"):
        call_command("verify_audit_chain", stdout=io.StringIO())


def test_deleted_row_is_detected(db):
    rows = make_rows()
    _tamper("DELETE FROM audit_auditentry WHERE id = %s", [rows[1].pk])
    assert audit_verify_chain().first_broken_id == rows[2].pk


def test_database_refuses_update_and_postgresql_delete(db):
    rows = make_rows(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=rows[0].pk).update(action="forged")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AuditEntry.objects.filter(pk=rows[0].pk).delete()
        assert audit_verify_chain().ok
    else:
        # SQLite lets the test flush delete rows; a deleted row breaks the chain instead.
        AuditEntry.objects.filter(pk=rows[0].pk).delete()
        assert audit_verify_chain().first_broken_id == rows[1].pk


def test_audit_row_rolls_back_with_its_change(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="test.rollback")
        raise RuntimeError
    assert not AuditEntry.objects.filter(action="test.rollback").exists()
    assert audit_verify_chain().ok


def test_admin_cannot_edit_or_delete_audit_rows(client, city):
    make_rows(1)
    client.force_login(city.admin)
    row = AuditEntry.objects.first()
    page = client.get(f"/admin/audit/auditentry/{row.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert (
        client.post(f"/admin/audit/auditentry/{row.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert AuditEntry.objects.filter(pk=row.pk).exists()


def test_admin_changes_are_audited_and_the_user_list_does_not_grow_queries(
    client, city, django_assert_max_num_queries
):
    client.force_login(city.admin)
    employer = city.tech
    response = client.post(
        f"/admin/orgs/employer/{employer.pk}/change/",
        {
            "name": "示范市星河科技股份有限公司",
            "credit_code": employer.credit_code,
            "kind": employer.kind,
            "district": employer.district_id,
            "contact_name": "王经理",
            "phone": employer.phone,
            "licence_number": "",
            "status": "approved",
            "review_opinion": "",
            "membership_set-TOTAL_FORMS": "0",
            "membership_set-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = AuditEntry.objects.filter(action="admin.change", object_id=str(employer.pk)).get()
    assert row.actor == city.admin and row.summary["fields"] == ["name"]
    assert audit_verify_chain().ok
    from rencai.accounts.models import LoginLock, User

    for i in range(30):  # a list of 30+ users, some locked: the query count stays flat
        user = User.objects.create_user(username=f"bulk{i}", password="x")
        if i % 3 == 0:
            LoginLock.objects.create(key=f"user:{user.pk}", user=user, locked_at=user.date_joined)
    with django_assert_max_num_queries(15):
        assert client.get("/admin/accounts/user/").status_code == 200


def test_writers_appending_at_once_leave_one_unbroken_chain(transactional_db):
    """Issue 7: on PostgreSQL one row is appended by the database function
    ``audit_append_one`` (lock, last hash, insert in one call); on SQLite by the IMMEDIATE
    transaction. Eight writers at once, each in its own transaction with a change of its
    own: every row links to the one before it, and each stored hash is the one Python
    computes from the stored fields (Chinese text included: the payload is hashed as
    UTF-8 on both sides)."""
    from tests.test_concurrency import race

    def write(i):
        with transaction.atomic():
            audit_record(
                action="test.race",
                role=f"申请人{i}",
                object_type="demo",
                object_id=str(i),
                after={"意见": f"同意 {i}", "amount": i * 100},
            )

    assert race([lambda i=i: write(i) for i in range(8)]) == ["ok"] * 8
    rows = list(AuditEntry.objects.order_by("id"))
    assert sorted(r.object_id for r in rows) == [str(i) for i in range(8)]
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert all(r.hash == r.compute_hash() for r in rows)
    assert audit_verify_chain().ok
