"""Issue 8, part 1, beyond ids in the path: another district's queue (its ``?district=``
filter, ``status=handled``) and statistics export show nothing of it; a message id that is
not yours marks nothing; another district's application posted to a batch desk changes
nothing. The registry of such ids is still to be completed (see the
closing note of issue 8); these are the ones the issue names."""

import io

from openpyxl import load_workbook

from rencai.applications import transitions as t
from rencai.notifications.models import Message
from tests.test_applications import living, submit
from tests.test_notice import object_to, publish, two_at_notice  # noqa: F401 (a fixture)


def at_district(city, applicant):
    app = submit(living(applicant))
    return t.approve(actor=city.employer_admin, application=app, opinion="同意")


def test_another_districts_queue_and_statistics_show_nothing_of_it(
    city, ready_applicant, client, security_counts
):
    app = at_district(city, ready_applicant)
    counts = security_counts("authorization")
    client.force_login(city.district_reviewer)  # the control: dongcheng sees its item
    own = client.get("/staff/applications/", {"district": city.dongcheng.pk})
    assert app.number in own.content.decode()
    stats = client.get("/staff/statistics/", {"export": "xlsx"})
    assert "东城区" in _cells(b"".join(stats.streaming_content))

    client.force_login(city.outsider_reviewer)  # xicheng asks for dongcheng's
    for params in ({"district": city.dongcheng.pk}, {"status": "handled"}, {}):
        page = client.get("/staff/applications/", params)
        counts.add("requests tried")
        assert page.status_code == 200 and app.number not in page.content.decode()
    stats = client.get("/staff/statistics/", {"export": "xlsx"})
    counts.add("requests tried")
    assert stats.status_code == 200 and "东城区" not in _cells(b"".join(stats.streaming_content))


def test_another_districts_application_posted_to_every_batch_desk_changes_nothing(
    city, ready_applicant, client, security_counts
):
    from rencai.applications.models import Application, ApplicationEvent

    app = at_district(city, ready_applicant)
    before = Application.objects.values("state", "stage", "version").get(pk=app.pk)
    events = ApplicationEvent.objects.filter(application=app).count()
    client.force_login(city.outsider_reviewer)
    posts = [
        ("/staff/applications/", {"applications": [app.pk], "action": "approve"}),
        ("/staff/applications/", {"applications": [app.pk], "action": "return", "opinion": "x"}),
        ("/staff/notices/", {"applications": [app.pk], "title": "公示"}),
        ("/staff/reports/", {"applications": [app.pk]}),
        ("/staff/payouts/", {"applications": [app.pk]}),
    ]
    for path, data in posts:
        response = client.post(path, data)
        security_counts("authorization").add("requests tried")
        assert response.status_code in (200, 302, 404), (path, response.status_code)
        assert app.number not in response.content.decode(), path
    assert Application.objects.values("state", "stage", "version").get(pk=app.pk) == before
    assert ApplicationEvent.objects.filter(application=app).count() == events


def test_a_message_that_is_not_yours_is_not_marked_read(city, ready_applicant, client):
    at_district(city, ready_applicant)  # the applicant has progress messages
    theirs = Message.objects.filter(user=ready_applicant, read_at__isnull=True).first()
    assert theirs is not None
    client.force_login(city.employer_admin)
    client.post("/applications/messages/read/", {"pk": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None


def _cells(content: bytes) -> str:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c)


def test_another_districts_objection_cannot_be_resolved(city, two_at_notice, client):  # noqa: F811
    import pytest
    from django.http import Http404

    from rencai.applications.models import Objection

    notice = publish(city, two_at_notice)
    object_to(client, notice.entries.first())
    objection = Objection.objects.get()
    with pytest.raises(Http404):
        t.objection_resolve(
            actor=city.outsider_reviewer, objection_id=objection.pk, uphold=True, opinion="x"
        )
    client.force_login(city.outsider_reviewer)
    assert (
        client.post(
            f"/staff/notices/{notice.pk}/",
            {"objection": objection.pk, "decision": "uphold", "opinion": "x"},
        ).status_code
        == 404
    )
    objection.refresh_from_db()
    assert objection.status == Objection.Status.OPEN
