"""Roll-up reports (汇总上报) on the CHAIN pack: the county organisation department bundles
applications into a numbered report to the city HR bureau, which accepts it (the items
move on), returns it whole (every item goes back to the county), or returns single items
(the rest stay in the report)."""

import pytest
from django.http import Http404
from django.urls import reverse

from rencai.applications import transitions as t
from rencai.applications.models import Application, BatchReport, ReportItem
from rencai.errors import ServiceError
from rencai.orgs.models import Authority
from tests.test_dispatch import org_reviewer
from tests.test_notice import two_at_notice  # noqa: F401  (fixture)


@pytest.fixture
def county_org(city):
    return org_reviewer(city.dongcheng, Authority.Kind.ORG_DEPARTMENT, "dc_org")


@pytest.fixture
def two_to_report(city, two_at_notice, county_org):  # noqa: F811
    t.notice_publish(
        actor=city.district_reviewer, application_ids=[a.pk for a in two_at_notice], title="公示"
    )
    from django.utils import timezone

    t.notices_expire(now=timezone.now() + __import__("datetime").timedelta(days=8))
    apps = []
    for app in two_at_notice:
        app = t.approve(actor=county_org, application=Application.objects.get(pk=app.pk))
        assert (
            app.current_stage["code"] == "city_hr"
            and app.stage_authority == county_org.memberships.get().authority
        )
        apps.append(app)
    return apps


def test_a_report_is_accepted_and_its_items_move_on(city, two_to_report, county_org):
    with pytest.raises(ServiceError, match="汇总上报环节"):
        t.approve(actor=county_org, application=two_to_report[0])
    report = t.report_submit(actor=county_org, application_ids=[a.pk for a in two_to_report])
    assert report.number.startswith("BG") and report.item_count == 2
    assert str(report.total) == "6000.00"
    with pytest.raises(Http404):  # reported: the item now lies with the city HR bureau
        t.report_submit(actor=county_org, application_ids=[two_to_report[0].pk])
    with pytest.raises(Http404):
        t.report_accept(actor=county_org, report_id=report.pk)  # the sender cannot accept
    with pytest.raises(Http404):
        t.report_accept(actor=city.outsider_reviewer, report_id=report.pk)
    t.report_accept(actor=city.city_reviewer, report_id=report.pk, opinion="汇总无误")
    for app in two_to_report:
        app = Application.objects.get(pk=app.pk)
        assert app.current_stage["code"] == "city_org"
        assert app.stage_authority.kind == "hr_bureau"  # the city HR bureau reports next
    with pytest.raises(ServiceError, match="已处理"):
        t.report_accept(actor=city.city_reviewer, report_id=report.pk)


def test_a_returned_report_sends_every_item_back(city, two_to_report, county_org):
    report = t.report_submit(actor=county_org, application_ids=[a.pk for a in two_to_report])
    with pytest.raises(ServiceError, match="退回原因"):
        t.report_return(actor=city.city_reviewer, report_id=report.pk, opinion="")
    t.report_return(actor=city.city_reviewer, report_id=report.pk, opinion="金额合计有误")
    assert BatchReport.objects.get(pk=report.pk).status == "returned"
    for app in two_to_report:
        app = Application.objects.get(pk=app.pk)
        assert app.current_stage["code"] == "city_hr"
        assert app.stage_authority.kind == "org_department"  # back with the county
        assert app.events.filter(action="report_return", opinion="金额合计有误").exists()
    again = t.report_submit(actor=county_org, application_ids=[a.pk for a in two_to_report])
    assert again.item_count == 2


def test_a_single_item_is_returned_and_the_rest_accepted(city, two_to_report, county_org):
    first, second = two_to_report
    report = t.report_submit(actor=county_org, application_ids=[first.pk, second.pk])
    t.report_return_item(
        actor=city.city_reviewer, report_id=report.pk, application_id=first.pk, opinion="材料不全"
    )
    report.refresh_from_db()
    assert (report.item_count, str(report.total)) == (1, "3000.00")
    t.report_accept(actor=city.city_reviewer, report_id=report.pk)
    assert Application.objects.get(pk=first.pk).stage_authority.kind == "org_department"
    assert Application.objects.get(pk=second.pk).current_stage["code"] == "city_org"
    assert ReportItem.objects.get(application=first).status == "returned"


def test_report_desk_pages(city, two_to_report, county_org, client):
    client.force_login(county_org)
    page = client.get(reverse("review:reports")).content.decode()
    assert all(a.number in page for a in two_to_report)
    client.post(reverse("review:reports"), {"applications": [a.pk for a in two_to_report]})
    report = BatchReport.objects.get()
    client.force_login(city.city_reviewer)
    page = client.get(reverse("review:report", args=[report.pk])).content.decode()
    assert "接收报告" in page and "整批退回" in page
    client.post(reverse("review:report", args=[report.pk]), {"action": "accept", "opinion": ""})
    assert BatchReport.objects.get().status == "accepted"
    client.force_login(city.outsider_reviewer)
    assert client.get(reverse("review:report", args=[report.pk])).status_code == 404
