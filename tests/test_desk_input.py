"""The notice, report and payout desks select what waits at them by the stage's kind in
SQL (not the first rows filtered in Python), the review queue shows only review stages,
and garbled posts to the desks give a message or a 404 — never a server error."""

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from rencai.applications import selectors
from rencai.applications import transitions as t
from rencai.applications.models import Application, BatchReport, PublicNotice
from rencai.errors import ServiceError
from tests.test_notice import two_at_notice  # noqa: F401  (fixture)
from tests.test_reports import county_org, two_to_report  # noqa: F401  (fixtures)


def test_the_notice_desk_and_the_queue_split_by_stage_kind(city, two_at_notice, client):  # noqa: F811
    authority = city.district_reviewer.memberships.get().authority_id
    waiting = selectors.desk_waiting({authority}, "notice")
    assert {a.pk for a in waiting} == {a.pk for a in two_at_notice}
    assert all(a.stage_kind == "notice" for a in waiting)
    client.force_login(city.district_reviewer)
    page = client.get(reverse("review:applications")).content.decode()
    queue = page.split("<tbody")[1].split("</tbody>")[0] if "<tbody" in page else ""
    assert not any(a.number in queue for a in two_at_notice)  # not approvable there
    desk = client.get(reverse("review:notices")).content.decode()
    assert all(a.number in desk for a in two_at_notice)


def test_the_backfill_reads_the_kind_from_each_applications_version(city, two_at_notice):  # noqa: F811
    from importlib import import_module

    migration = import_module("rencai.applications.migrations.0009_application_stage_kind")
    Application.objects.update(stage_kind="")
    migration.backfill(django_apps, None)
    kinds = set(Application.objects.filter(state="in_review").values_list("stage_kind", flat=True))
    assert kinds == {"notice"}


@pytest.mark.parametrize("ids", [["1", "x"], ["1; DROP TABLE"], [None]])
def test_garbled_ids_are_refused_with_a_message_and_nothing_is_published(
    city,
    two_at_notice,  # noqa: F811
    ids,
):
    with pytest.raises(ServiceError) as refused:
        t.notice_publish(actor=city.district_reviewer, application_ids=ids, title="公示")
    assert "所选申报有误" in refused.value.message
    assert not PublicNotice.objects.exists()


def test_garbled_ids_on_the_desk_pages_show_the_message(city, two_at_notice, client):  # noqa: F811
    client.force_login(city.district_reviewer)
    page = client.post(
        reverse("review:notices"), {"applications": ["abc"], "title": "公示"}
    ).content.decode()
    assert "所选申报有误，请刷新页面后重新选择。" in page
    assert not PublicNotice.objects.exists()


def test_an_overlong_notice_title_is_refused(city, two_at_notice):  # noqa: F811
    with pytest.raises(ServiceError) as refused:
        t.notice_publish(
            actor=city.district_reviewer,
            application_ids=[a.pk for a in two_at_notice],
            title="公" * 121,
        )
    assert "最多120个字" in refused.value.message
    assert not PublicNotice.objects.exists()


def test_a_garbled_objection_id_is_not_found(city, two_at_notice, client):  # noqa: F811
    notice = t.notice_publish(
        actor=city.district_reviewer, application_ids=[a.pk for a in two_at_notice], title="公示"
    )
    client.force_login(city.district_reviewer)
    response = client.post(
        reverse("review:notice", args=[notice.pk]),
        {"objection": "abc", "decision": "dismiss", "opinion": "核实无误"},
    )
    assert response.status_code == 404


def test_a_garbled_report_item_is_not_found(city, two_to_report, county_org, client):  # noqa: F811
    t.report_submit(actor=county_org, application_ids=[a.pk for a in two_to_report])
    report = BatchReport.objects.get()
    client.force_login(city.city_reviewer)
    response = client.post(
        reverse("review:report", args=[report.pk]),
        {"action": "return_item", "application": "x", "opinion": "材料不全"},
    )
    assert response.status_code == 404
    assert BatchReport.objects.get().item_count == 2


@pytest.mark.parametrize("raw", ["²", "１２", "9" * 20, "-1"])
def test_odd_digits_in_filters_and_message_ids_are_ignored_not_a_server_error(city, client, raw):
    """``"²".isdigit()`` is true but ``int("²")`` fails; 20 digits overflow the database."""
    from rencai.notifications.models import Message
    from rencai.notifications.services import notify

    client.force_login(city.district_reviewer)
    assert client.get(reverse("review:applications"), {"district": raw}).status_code == 200
    assert client.get(reverse("review:statistics"), {"year": raw}).status_code == 200
    notify(user=city.applicant, title="测试", body="一条消息", link="/")
    client.force_login(city.applicant)
    response = client.post(reverse("applications:inbox_read"), {"pk": raw})
    assert response.status_code == 302
    assert Message.objects.filter(user=city.applicant, read_at__isnull=True).exists()
