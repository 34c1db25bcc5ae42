"""``PreparedGet`` (rencai/prepared.py, issue 7) answers what ``QuerySet.get`` answers:
the same field values, the same related objects already loaded, None for a missing key,
on SQLite and PostgreSQL, with the statement compiled once."""

import datetime
from decimal import Decimal

import pytest
from django.db import transaction

from rencai.applications.models import Application
from rencai.prepared import PreparedGet
from rencai.programs.models import Program

RELATED = ("program", "program_version", "employer", "applicant")


def values(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def apps(city):
    program = Program.objects.get(code="grad_living")
    common = {"program": program, "program_version": program.current_version}
    with_everything = Application.objects.create(
        **common,
        applicant=city.applicant,
        employer=city.tech,
        state="approved",
        number="SB1",
        data={"start_month": "2025-01", "note": "中文"},
        amount=Decimal("1234.50"),
        period_start=datetime.date(2025, 1, 1),
        months=12,
        decided_at=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
    )
    without_employer = Application.objects.create(
        **common, applicant=city.applicant, state="draft", data={}
    )
    return [with_everything, without_employer]


def test_the_prepared_read_builds_what_get_builds(apps, django_assert_num_queries):
    prepared = PreparedGet(
        lambda: Application.objects.select_for_update(of=("self",)).select_related(*RELATED)
    )
    with transaction.atomic():
        for app in apps:
            with django_assert_num_queries(1):
                got = prepared(app.pk)
            expected = (
                Application.objects.select_for_update(of=("self",))
                .select_related(*RELATED)
                .get(pk=app.pk)
            )
            assert type(got) is Application and got.pk == app.pk
            assert values(got) == values(expected)
            assert not got._state.adding and got._state.db == "default"
            with django_assert_num_queries(0):  # the related objects came with it
                related = [getattr(got, name) for name in RELATED]
            for mine, theirs in zip(related, (getattr(expected, n) for n in RELATED), strict=True):
                assert (mine is None) == (theirs is None)
                if mine is not None:
                    assert type(mine) is type(theirs) and values(mine) == values(theirs)
        # the encrypted ID number and the JSON form come back decrypted and parsed
        assert got.applicant.id_number == apps[1].applicant.id_number
        first = prepared(apps[0].pk)
        assert first.data["note"] == "中文" and first.amount == Decimal("1234.50")
        assert first.decided_at == apps[0].decided_at
        assert prepared(0) is None
    assert list(prepared._statements) == ["default"]  # compiled once


def test_a_prepared_read_refuses_a_query_with_more_than_the_key():
    prepared = PreparedGet(lambda: Application.objects.filter(state="draft"))
    with pytest.raises(ValueError, match="not only the key"):
        prepared(1)


def test_insert_one_and_update_one_store_what_save_stores(apps):
    """rencai.bulk: the statements a submission writes with, built once per model."""
    from rencai.applications.models import ApplicationEvent
    from rencai.bulk import insert_one, update_one

    app = apps[1]
    event = insert_one(
        ApplicationEvent(
            application=app,
            action="submit",
            actor_name="张晓明",
            from_state="draft",
            to_state="submitted",
        )
    )
    stored = ApplicationEvent.objects.get(pk=event.pk)
    assert values(stored) == values(event) and stored.at is not None  # auto_now_add filled

    app.state, app.data, app.amount = "returned", {"k": "值"}, Decimal("9.90")
    update_one(app)
    again = Application.objects.get(pk=app.pk)
    assert values(again) == values(app)
    assert (
        again.state == "returned" and again.data == {"k": "值"} and again.amount == Decimal("9.90")
    )

    gone = Application(pk=0, program_id=app.program_id, program_version_id=app.program_version_id)
    with pytest.raises(Application.DoesNotExist):
        update_one(gone)


def test_dates_written_by_update_one_are_stored_as_save_stores_them(apps):
    """rencai.bulk on PostgreSQL hands a date and an aware datetime to the driver as they
    are (issue 7); a naive datetime still goes through its field (made aware in the
    city's time zone, with Django's warning), and ``auto_now`` still sets the update time.
    On SQLite every date goes through its field."""
    from rencai.bulk import update_one

    app, twin = apps
    updated_before = Application.objects.get(pk=app.pk).updated_at
    beijing = datetime.timezone(datetime.timedelta(hours=8))
    app.submitted_at = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=beijing)
    app.period_end = datetime.date(2025, 12, 1)
    app.decided_at = twin.decided_at = datetime.datetime(2026, 3, 2, 10, 0)  # naive
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        update_one(app)
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        twin.save()
    stored = Application.objects.get(pk=app.pk)
    assert stored.submitted_at == datetime.datetime(2026, 3, 1, 1, 30, tzinfo=datetime.UTC)
    assert stored.period_end == datetime.date(2025, 12, 1)
    assert stored.decided_at == Application.objects.get(pk=twin.pk).decided_at
    assert stored.decided_at == datetime.datetime(2026, 3, 2, 2, 0, tzinfo=datetime.UTC)
    assert stored.updated_at > updated_before


def test_combined_writes_are_stored_at_the_end_and_a_failing_one_stores_none(apps):
    """rencai.bulk.combined (issue 7): a submission's writes and its audit row go out as one
    statement. They are all there when the block ends, the audit row linked into the
    chain; if one is refused, the error is Django's and nothing of the block is stored."""
    from django.db import IntegrityError, connection
    from django.test.utils import CaptureQueriesContext

    from rencai.applications.models import ApplicationEvent, ApplicationVersion
    from rencai.audit.models import AuditEntry
    from rencai.audit.services import audit_record, audit_verify_chain
    from rencai.bulk import combined, insert_one, update_one

    app = apps[1]

    def event(action):
        return ApplicationEvent(
            application=app, action=action, actor_name="张晓明", from_state="draft", to_state="x"
        )

    audits = AuditEntry.objects.count()
    with transaction.atomic(), CaptureQueriesContext(connection) as sent:
        app.state = "returned"
        with combined():
            update_one(app)
            insert_one(ApplicationVersion(application=app, number=1, reason="submitted", data={}))
            written = insert_one(event("submit"))
            entry = audit_record(action="application.submit", obj=app, after={"state": "x"})
            if connection.vendor == "postgresql":
                assert written.pk is None and entry.pk is None  # sent at the end
        assert entry.pk is not None and len(entry.hash) == 64  # read back then
    if connection.vendor == "postgresql":  # one statement, logged with its values
        (statement,) = [q["sql"] for q in sent.captured_queries]
        assert statement.startswith('WITH w0 AS (UPDATE "applications_application"')
        assert "audit_append_one" in statement and "张晓明" in statement
    assert Application.objects.get(pk=app.pk).state == "returned"
    assert list(app.versions.values_list("number", flat=True)) == [1]
    assert list(app.events.values_list("action", flat=True)) == ["submit"]
    assert AuditEntry.objects.latest("id").pk == entry.pk
    assert AuditEntry.objects.count() == audits + 1 and audit_verify_chain().ok

    # the same snapshot number again: refused by the database, as an IntegrityError
    with pytest.raises(IntegrityError), transaction.atomic():
        app.state = "approved"
        with combined():
            update_one(app)
            insert_one(event("approve"))
            insert_one(ApplicationVersion(application=app, number=1, reason="returned", data={}))
            audit_record(action="application.approve", obj=app)
    assert Application.objects.get(pk=app.pk).state == "returned"
    assert list(app.events.values_list("action", flat=True)) == ["submit"]
    assert AuditEntry.objects.count() == audits + 1
    # and the connection works on
    assert app.versions.count() == 1

    # an exception inside the block sends nothing
    with pytest.raises(RuntimeError), transaction.atomic():
        with combined():
            insert_one(event("withdraw"))
            raise RuntimeError("refused before the end")
    assert list(app.events.values_list("action", flat=True)) == ["submit"]


def test_insert_many_stores_what_save_stores(apps):
    """rencai.bulk.insert_many (COPY on PostgreSQL) passes plain values of plain fields as
    they are and everything else through the field: the rows equal saved ones, and an
    encrypted field is encrypted, with its blind index, as ``save`` does it."""
    from django.db import connection

    from rencai.bulk import insert_many
    from rencai.notifications.models import SmsMessage

    saved = apps[0]
    copy = Application(**{**values(saved), "id": None, "number": "SB2"})
    insert_many(Application, [copy])
    stored = Application.objects.get(number="SB2")
    skip = {"id", "number", "created_at", "updated_at"}
    assert {k: v for k, v in values(stored).items() if k not in skip} == {
        k: v for k, v in values(saved).items() if k not in skip
    }

    by_save = SmsMessage.objects.create(phone="13800000009", purpose="测试", body="正文 1")
    insert_many(SmsMessage, [SmsMessage(phone="13800000009", purpose="测试", body="正文 1")])
    by_copy = SmsMessage.objects.exclude(pk=by_save.pk).get()
    assert (by_copy.phone, by_copy.purpose, by_copy.body, by_copy.status) == (
        "13800000009",
        "测试",
        "正文 1",
        "queued",
    )
    assert by_copy.phone_index == by_save.phone_index is not None
    assert list(SmsMessage.objects.filter(phone="13800000009").order_by("id")) == [
        by_save,
        by_copy,
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM notifications_smsmessage")
        assert all("13800000009" not in row[0] for row in cursor.fetchall())


def test_sessions_and_users_read_by_prepared_statements_keep_djangos_rules(city):
    """Every signed-in request reads its session and its user this way (issue 7): an
    expired session is not loaded and a closed or inactive account is not let in."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from rencai.accounts.backends import IdentifierBackend
    from rencai.accounts.sessions import SessionStore

    store = SessionStore()
    store["answer"] = "四十二"
    store.create()
    assert SessionStore(store.session_key).load() == {"answer": "四十二"}
    Session.objects.filter(pk=store.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    expired = SessionStore(store.session_key)
    assert expired.load() == {} and expired.session_key is None
    assert SessionStore("x" * 32).load() == {}

    backend, user = IdentifierBackend(), city.applicant
    assert backend.get_user(str(user.pk)) == user  # the session keeps the id as text
    assert backend.get_user(user.pk).id_number == user.id_number
    assert backend.get_user(0) is None
    user.closed_at = timezone.now()
    user.save(update_fields=["closed_at"])
    assert backend.get_user(user.pk) is None


def test_a_submission_leaves_its_notices_in_its_event_for_the_worker_only_if_it_commits(
    city, ready_applicant, settings, monkeypatch
):
    """With the database task backend (a worker runs) a submission's messages are written
    into its event, with its other writes (issue 7: no task row per submission). They are
    stored if and only if the submission is; the worker then tells the applicant and the
    first stage's reviewers, once, and clears them (F38)."""
    from django_tasks_db.models import DBTaskResult

    from rencai.applications import transitions as t
    from rencai.applications.models import ApplicationEvent
    from rencai.applications.notices import send_pending
    from rencai.notifications.models import Message, SmsMessage
    from tests.test_applications import TODAY, living

    settings.TASKS = {
        "default": {"BACKEND": "rencai.ops.tasks.DatabaseBackend", "QUEUES": ["default"]}
    }
    draft = living(ready_applicant)
    pending = ApplicationEvent.objects.filter(notices__isnull=False)

    def refused(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(t, "_audit", refused)
    with pytest.raises(RuntimeError):
        t.submit(actor=ready_applicant, application=draft, commitment_accepted=True, today=TODAY)
    monkeypatch.undo()
    assert Application.objects.get(pk=draft.pk).state == "draft"
    assert not pending.exists()  # nobody is told of a submission that is not

    before, sms_before = Message.objects.count(), SmsMessage.objects.count()
    app = t.submit(actor=ready_applicant, application=draft, commitment_accepted=True, today=TODAY)
    assert Application.objects.get(pk=app.pk).state == "submitted"
    event = pending.get()
    assert event.application_id == app.pk and event.action == "submit"
    assert not DBTaskResult.objects.exists()
    assert Message.objects.count() == before  # not yet: the worker sends them

    assert send_pending() == 1
    mine = Message.objects.filter(user=ready_applicant).latest("id")
    assert mine.title == "申报已提交" and app.number in mine.body
    assert mine.link == f"/applications/{app.pk}/"
    reviewers = Message.objects.exclude(user=ready_applicant).filter(title__startswith="待审核")
    assert reviewers.count() >= 1 and app.number in reviewers.first().body
    assert Message.objects.count() == before + 1 + reviewers.count()
    assert SmsMessage.objects.count() > sms_before
    assert not pending.exists()
    assert ApplicationEvent.objects.get(pk=event.pk).notices is None  # SQL NULL: sent
    assert send_pending() == 0  # sent once
    assert Message.objects.count() == before + 1 + reviewers.count()


def test_the_worker_sends_many_events_notices_in_queries_that_do_not_grow_with_them(
    city, settings, tmp_path
):
    """``notices.send_pending`` (issue 7): the worker sends up to 500 events' messages in one
    transaction; the users are read once and each stage's people once, so four
    submissions to the same stage cost the queries of one (F38)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rencai.applications import transitions as t
    from rencai.applications.notices import send_pending
    from rencai.notifications.models import Message
    from tests.test_applications import TODAY, living
    from tests.test_workbench import people

    settings.MEDIA_ROOT = tmp_path
    settings.TASKS = {
        "default": {"BACKEND": "rencai.ops.tasks.DatabaseBackend", "QUEUES": ["default"]}
    }
    applicants = people(city, 5)

    def submit(person):
        return t.submit(
            actor=person, application=living(person), commitment_accepted=True, today=TODAY
        )

    submit(applicants[0])
    with CaptureQueriesContext(connection) as one:
        assert send_pending() == 1
    apps = [submit(p) for p in applicants[1:]]
    with CaptureQueriesContext(connection) as four:
        assert send_pending() == 4
    assert len(four) == len(one), [q["sql"][:80] for q in four.captured_queries]
    for person, app in zip(applicants[1:], apps, strict=True):
        told = Message.objects.get(user=person, title="申报已提交")
        assert app.number in told.body
    reviewers = Message.objects.filter(title__startswith="待审核")
    assert reviewers.count() == 5 * reviewers.values("user").distinct().count()
    assert send_pending() == 0


@pytest.mark.django_db
def test_numbered_rows_are_stored_under_the_ids_they_were_given():
    """``insert_many(..., numbered=True)`` (the SMS outbox of a 10,000-item batch, issue 7):
    each instance has its id before the caller hands the ids on; the rows are stored under
    those ids, the phone encrypted and findable by its keyed hash, and the next row the
    ORM stores gets a later id."""
    from rencai.bulk import insert_many
    from rencai.notifications.models import SmsMessage

    rows = [
        SmsMessage(phone=f"1380013{i:04d}", purpose="notice", body=f"【审核进度】第{i}条")
        for i in range(3)
    ]
    assert insert_many(SmsMessage, rows, numbered=True) == 3
    ids = [row.pk for row in rows]
    assert None not in ids and len(set(ids)) == 3
    stored = {m.pk: m for m in SmsMessage.objects.filter(pk__in=ids)}
    assert [(stored[i].phone, stored[i].body) for i in ids] == [
        ("13800130000", "【审核进度】第0条"),
        ("13800130001", "【审核进度】第1条"),
        ("13800130002", "【审核进度】第2条"),
    ]
    assert all(m.status == "queued" and m.created_at for m in stored.values())
    assert SmsMessage.objects.filter(phone_index=rows[1].phone_index).get().pk == ids[1]
    later = SmsMessage.objects.create(phone="13800139999", purpose="notice", body="下一条")
    assert later.pk > max(ids)

    # a key the model sets itself (a UUID) has no sequence: refused before anything is written
    from django_tasks_db.models import DBTaskResult

    with pytest.raises(ValueError, match="not numbered by the database"):
        insert_many(DBTaskResult, [DBTaskResult(args_kwargs={})], numbered=True)
    assert SmsMessage.objects.count() == 4
