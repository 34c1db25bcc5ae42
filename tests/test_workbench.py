"""The reviewer workbench (issue 4, B6): filters, search by ID number, sorting by waiting
time, items past the stage's deadline flagged, and batch approve / return of selected
items or of everything matching, run as a background job with a result report."""

import datetime

import pytest
from django.urls import reverse

from rencai.accounts.models import User
from rencai.applications.models import Application, BatchJob
from tests.conftest import PASSWORD, make_id, prepare_applicant
from tests.test_applications import living, submit


def people(city, n):
    out = []
    for i in range(n):
        number = make_id(f"9901021996010{i:04d}")
        user = User.objects.create_user(
            username=number,
            id_number=number,
            password=PASSWORD,
            kind=User.Kind.PERSON,
            real_name=f"测试{i:02d}",
            employer=city.tech,
            registration_status="approved",
        )
        out.append(prepare_applicant(user))
    return out


@pytest.fixture
def many(city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return [submit(living(p)) for p in people(city, 12)]


def test_filters_and_search_by_id_number(city, many, client):
    client.force_login(city.employer_admin)
    url = reverse("review:applications")
    page = client.get(url).content.decode()
    assert all(a.number in page for a in many)
    target = many[3]
    page = client.get(url, {"q": target.applicant.id_number}).content.decode()
    assert target.number in page and many[4].number not in page
    assert "共 1 条" in page
    page = client.get(url, {"program": "grad_rent"}).content.decode()
    assert "目前没有待您审核的申报" in page
    page = client.get(url, {"min": "99999"}).content.decode()
    assert "目前没有待您审核的申报" in page
    page = client.get(url, {"from": "2000-01-01", "min": "bad"}).content.decode()
    assert many[0].number in page  # a malformed filter is ignored, not an error


def test_items_past_the_deadline_are_flagged(city, many, client, time_machine):
    client.force_login(city.employer_admin)
    assert "超期" not in client.get(reverse("review:applications")).content.decode()
    time_machine.move_to(datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=11))
    # the employer stage allows 10 days
    client.force_login(city.employer_admin)  # the old session has expired meanwhile
    page = client.get(reverse("review:applications")).content.decode()
    assert page.count('class="overdue"') == len(many) and "超期" in page


def test_batch_approve_everything_matching(city, many, client, django_capture_on_commit_callbacks):
    client.force_login(city.employer_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("review:applications"), {"select_all": "1", "action": "approve"}
        )
    job = BatchJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "review:job", args=[job.pk]
    )
    assert (job.status, job.total, job.done, job.failed) == ("done", 12, 12, 0)
    assert set(Application.objects.values_list("stage", flat=True)) == {1}
    # The district reviewer hears once, with the count, not twelve times.
    from rencai.notifications.models import Message

    told = Message.objects.filter(user=city.district_reviewer)
    assert told.count() == 1 and "12 件申报" in told.get().title
    page = client.get(reverse("review:job", args=[job.pk])).content.decode()
    assert "共 12 条，成功 12 条，未能处理 0 条" in page and 'http-equiv="refresh"' not in page


def test_batch_return_needs_a_reason_and_reports_what_it_could_not_do(
    city, many, client, django_capture_on_commit_callbacks
):
    client.force_login(city.employer_admin)
    url = reverse("review:applications")
    chosen = [many[0].pk, many[1].pk]
    page = client.post(url, {"applications": chosen, "action": "return"}).content.decode()
    assert "批量回退时请填写回退原因" in page and not BatchJob.objects.exists()
    from rencai.applications import transitions as t

    t.approve(actor=city.employer_admin, application=many[1])  # already moved on
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"applications": chosen, "action": "return", "opinion": "请补充材料"})
    job = BatchJob.objects.get()
    assert (job.done, job.failed) == (1, 1)
    assert job.errors[0]["number"] == many[1].number
    assert Application.objects.get(pk=many[0].pk).state == "returned"
    client.force_login(city.district_reviewer)
    assert client.get(reverse("review:job", args=[job.pk])).status_code == 404  # not theirs


@pytest.mark.django_db(transaction=True)
def test_the_database_worker_runs_a_batch_job(settings, tmp_path):
    """With the production backend the job waits in the database until `db_worker` (which
    `make run` starts) picks it up."""
    import io

    from django.core.management import call_command

    from rencai.applications import transitions as t
    from tests.conftest import build_city

    settings.MEDIA_ROOT = tmp_path
    settings.TASKS = {
        "default": {"BACKEND": "rencai.ops.tasks.DatabaseBackend", "QUEUES": ["default"]}
    }
    city = build_city()
    apps = [submit(living(p)) for p in people(city, 3)]
    job = t.batch_start(
        actor=city.employer_admin, application_ids=[a.pk for a in apps], action="approve"
    )
    assert BatchJob.objects.get(pk=job.pk).status == "queued"  # nothing ran yet
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
    job.refresh_from_db()
    assert (job.status, job.done) == ("done", 3)
    assert set(Application.objects.values_list("stage", flat=True)) == {1}


def test_a_batch_approval_writes_what_one_by_one_approvals_write_in_a_few_statements(
    city, many, django_capture_on_commit_callbacks
):
    """Issue 7: a batch writes every item's state, event, audit row and messages like
    ``approve`` does, but each table in one statement per chunk: the queries do not grow
    with the number of items (10,000 approvals took 115 s one by one)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rencai.applications import transitions as t
    from rencai.audit.models import AuditEntry
    from rencai.audit.services import audit_verify_chain
    from rencai.notifications.models import Message, SmsMessage

    def run(apps):
        job = t.batch_start(
            actor=city.employer_admin, application_ids=[a.pk for a in apps], action="approve"
        )
        with CaptureQueriesContext(connection) as ctx:
            with django_capture_on_commit_callbacks(execute=True):
                job = t.batch_run(job.pk)
        assert (job.done, job.failed) == (len(apps), 0)
        return len(ctx.captured_queries)

    versions = {a.pk: Application.objects.get(pk=a.pk).version for a in many}
    few, more = run(many[:3]), run(many[3:])
    assert more == few  # 3 items or 9: the same statements

    bureau = city.district_reviewer.memberships.get().authority
    for app in Application.objects.filter(pk__in=[a.pk for a in many]):
        assert (app.state, app.stage, app.stage_authority_id, app.version) == (
            "in_review",
            1,
            bureau.pk,
            versions[app.pk] + 1,  # one change: a stale form shows "handled by someone else"
        )
        event = app.events.order_by("-id").first()
        assert (event.action, event.actor_id, event.actor_org_employer_id) == (
            "approve",
            city.employer_admin.pk,
            city.tech.pk,
        )
        assert event.role and event.stage_name == "单位审核"
        assert AuditEntry.objects.filter(
            action="application.approve", object_id=str(app.pk)
        ).exists()
        assert Message.objects.filter(user=app.applicant, title="审核进度").count() == 1
    assert audit_verify_chain().ok
    # the next reviewer hears once per batch, by SMS too, sent by the worker after commit
    told = SmsMessage.objects.filter(phone=city.district_reviewer.phone)
    assert [m.status for m in told] == ["sent", "sent"]


def test_a_batch_item_refused_alone_leaves_the_rest_approved(
    city, many, django_capture_on_commit_callbacks
):
    from rencai.applications import transitions as t

    t.approve(actor=city.employer_admin, application=many[0])  # already moved on
    job = t.batch_start(
        actor=city.employer_admin, application_ids=[a.pk for a in many[:4]], action="approve"
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = t.batch_run(job.pk)
    assert (job.done, job.failed) == (3, 1)
    assert job.errors[0]["number"] == many[0].number
    moved = Application.objects.get(pk=many[0].pk)
    assert (moved.stage, moved.events.filter(action="approve").count()) == (1, 1)  # once
    assert set(
        Application.objects.filter(pk__in=[a.pk for a in many[1:4]]).values_list("stage", flat=True)
    ) == {1}
