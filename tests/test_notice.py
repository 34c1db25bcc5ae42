"""The public notice (F41) on the CHAIN pack: the county HR bureau publishes approved
applications for 7 days with names and ID numbers masked; anyone may object; when the
period ends the entries without an open objection move on by themselves, an objected
entry waits for the bureau, which dismisses the objection (the entry passes) or upholds
it (the application goes back to review)."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse

from rencai.applications import transitions as t
from rencai.applications.models import Application, NoticeEntry, Objection, PublicNotice
from rencai.errors import ServiceError
from rencai.identity import mask_name
from tests.conftest import approved_person
from tests.test_dispatch import chain_living

S = Application.State


@pytest.fixture
def two_at_notice(city, ready_applicant):
    second = approved_person(city, "99010219990101001", "欧阳小明", "13900000301")
    apps = []
    for person in (ready_applicant, second):
        app = chain_living(person)
        app = t.approve(actor=city.employer_admin, application=app)
        app = t.approve(actor=city.district_reviewer, application=app)
        assert app.current_stage["kind"] == "notice"
        apps.append(app)
    return apps


def publish(city, apps):
    return t.notice_publish(
        actor=city.district_reviewer,
        application_ids=[a.pk for a in apps],
        title="2024年第一批高校毕业生生活补助拟发放名单公示",
    )


def object_to(client, entry, content="该人员2024年上半年不在本单位工作"):
    return client.post(
        reverse("portal:notice", args=[entry.notice_id]),
        {
            "entry": entry.pk,
            "name": "李先生",
            "contact": "13900001111",
            "content": content,
            "captcha_0": "x",
            "captcha_1": "PASSED",
        },
    )


def test_masking():
    assert [mask_name(n) for n in ("张三", "张小三", "欧阳小明", "李")] == [
        "张*",
        "张*三",
        "欧**明",
        "李",
    ]


def test_notice_stage_cannot_be_approved_directly(city, two_at_notice):
    with pytest.raises(ServiceError, match="公示环节"):
        t.approve(actor=city.district_reviewer, application=two_at_notice[0])


def test_publish_shows_masked_list_and_expiry_moves_entries_on(
    city, two_at_notice, client, time_machine
):
    time_machine.move_to("2026-11-23 10:00 +08:00", tick=False)
    first, second = two_at_notice
    notice = publish(city, two_at_notice)
    assert notice.ends_at - notice.starts_at == datetime.timedelta(days=7)
    page = client.get(reverse("portal:notice", args=[notice.pk])).content.decode()
    for app in two_at_notice:
        assert app.applicant.id_number not in page  # never a full ID number in public
        assert app.applicant.real_name not in page
        assert app.applicant.id_number[:4] + "**********" + app.applicant.id_number[-4:] in page
    assert "张*明" in page and "欧**明" in page
    with pytest.raises(ServiceError, match="已在公示中"):
        publish(city, [first])

    entry = NoticeEntry.objects.get(application=first)
    assert object_to(client, entry).status_code == 302
    entry.refresh_from_db()
    assert entry.status == NoticeEntry.Status.OBJECTED
    assert Objection.objects.filter(entry=entry, status="open").count() == 1

    time_machine.move_to("2026-11-30 09:59 +08:00", tick=False)
    call_command("run_periodic", stdout=__import__("io").StringIO())
    assert Application.objects.get(pk=second.pk).current_stage["code"] == "notice"  # not yet

    time_machine.move_to("2026-11-30 10:01 +08:00", tick=False)
    call_command("run_periodic", stdout=__import__("io").StringIO())
    second = Application.objects.get(pk=second.pk)
    first = Application.objects.get(pk=first.pk)
    assert second.current_stage["code"] == "county_org"  # released
    assert second.events.filter(action="notice_pass").exists()
    assert first.current_stage["code"] == "notice"  # held by the objection
    assert PublicNotice.objects.get(pk=notice.pk).closed_at is not None
    page = object_to(client, entry).content.decode()  # too late: no form, nothing stored
    assert "公示已结束" in page and "提交异议" not in page
    with pytest.raises(ServiceError, match="公示期已结束"):
        t.objection_file(entry_id=entry.pk, name="王", contact="139", content="晚到的异议内容")
    assert Objection.objects.filter(entry=entry).count() == 1

    objection = Objection.objects.get(entry=entry)
    t.objection_resolve(
        actor=city.district_reviewer,
        objection_id=objection.pk,
        uphold=False,
        opinion="经核实，劳动合同和社保记录显示在岗",
    )
    first = Application.objects.get(pk=first.pk)
    assert first.current_stage["code"] == "county_org"
    assert NoticeEntry.objects.get(pk=entry.pk).status == NoticeEntry.Status.PASSED


def test_an_upheld_objection_pulls_the_application_back_to_review(city, two_at_notice, client):
    first = two_at_notice[0]
    publish(city, two_at_notice)
    entry = NoticeEntry.objects.get(application=first)
    object_to(client, entry)
    objection = Objection.objects.get(entry=entry)
    with pytest.raises(ServiceError, match="处理意见"):
        t.objection_resolve(
            actor=city.district_reviewer, objection_id=objection.pk, uphold=True, opinion=""
        )
    from django.http import Http404

    with pytest.raises(Http404):
        t.objection_resolve(
            actor=city.outsider_reviewer, objection_id=objection.pk, uphold=True, opinion="x"
        )
    t.objection_resolve(
        actor=city.district_reviewer,
        objection_id=objection.pk,
        uphold=True,
        opinion="异议属实，退回县区人社局复核",
    )
    first = Application.objects.get(pk=first.pk)
    assert (first.state, first.current_stage["code"]) == (S.IN_REVIEW, "county_hr")
    assert NoticeEntry.objects.get(pk=entry.pk).status == NoticeEntry.Status.PULLED
    assert first.events.filter(action="pull_back").exists()
    page = client.get(reverse("portal:notice", args=[entry.notice_id])).content.decode()
    assert "张*明" not in page  # pulled entries leave the public list


def test_an_objection_needs_contact_and_content(city, two_at_notice, client):
    publish(city, two_at_notice)
    entry = NoticeEntry.objects.get(application=two_at_notice[0])
    response = client.post(
        reverse("portal:notice", args=[entry.notice_id]),
        {
            "entry": entry.pk,
            "name": "李",
            "contact": "",
            "content": "x",
            "captcha_0": "x",
            "captcha_1": "PASSED",
        },
    )
    assert response.status_code == 200 and not Objection.objects.exists()


def test_staff_pages_for_notices(city, two_at_notice, client):
    client.force_login(city.district_reviewer)
    page = client.get(reverse("review:notices")).content.decode()
    assert all(a.number in page for a in two_at_notice)
    response = client.post(
        reverse("review:notices"),
        {"applications": [a.pk for a in two_at_notice], "title": "第一批公示"},
    )
    notice = PublicNotice.objects.get()
    assert response.status_code == 302 and notice.entries.count() == 2
    assert client.get(reverse("review:notice", args=[notice.pk])).status_code == 200
    export = client.get(reverse("review:notice", args=[notice.pk]) + "?export=xlsx")
    content = b"".join(export.streaming_content)
    import io

    from openpyxl import load_workbook

    cells = [
        str(c)
        for row in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)
        for c in row
    ]
    for app in two_at_notice:
        full = app.applicant.id_number
        assert full not in cells and full[:4] + "*" * 10 + full[-4:] in cells
        assert app.applicant.real_name not in cells
    client.force_login(city.outsider_reviewer)
    assert client.get(reverse("review:notice", args=[notice.pk])).status_code == 404


def test_the_public_notice_page_takes_the_same_few_queries_for_2_or_40_entries(
    city, two_at_notice, client
):
    """Issue 7: the public notice page is read by everyone on a deadline day; its query
    count is fixed (at most 10) whatever the length of the list."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    notice = publish(city, two_at_notice)
    url = reverse("portal:notice", args=[notice.pk])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    first = notice.entries.first()
    NoticeEntry.objects.bulk_create(
        [
            NoticeEntry(
                notice=notice,
                application=first.application,
                masked_name=f"张*{i}",
                masked_id_number="990102********123X",
                employer_name="示范市星河科技有限公司",
                program_name=first.program_name,
                amount=first.amount,
            )
            for i in range(38)
        ]
    )
    assert notice.entries.count() == 40
    assert count() == few <= 10


def test_a_long_notice_offers_the_page_and_takes_objections_to_any_entry(
    city, two_at_notice, client
):
    """Issue 7: a 10,000-person notice does not put 10,000 options in the objection form.
    The list offers the entries of the page on screen; each row links to the form with
    its entry chosen; an entry on another page, or not on this notice, is checked."""
    notice = publish(city, two_at_notice)
    first = notice.entries.order_by("id").first()
    NoticeEntry.objects.bulk_create(
        [
            NoticeEntry(
                notice=notice,
                application=first.application,
                masked_name=f"王*{i:02d}",
                masked_id_number="990102********123X",
                employer_name="示范市星河科技有限公司",
                program_name=first.program_name,
                amount=first.amount,
            )
            for i in range(58)
        ]
    )
    url = reverse("portal:notice", args=[notice.pk])
    page = client.get(url).content.decode()
    select = page.split('id="id_entry"', 1)[1].split("</select>", 1)[0]
    assert select.count("<option") == 51  # "—" and the first page's 50 entries
    last = notice.entries.order_by("-id").first()  # on page 2
    assert f'value="{last.pk}"' not in page
    page = client.get(f"{url}?page=2&entry={last.pk}").content.decode()
    assert f'<option value="{last.pk}" selected>' in page
    assert f"?page=2&amp;entry={last.pk}#objection-title" in page  # the row's link

    # posted from page 1 to an entry of page 2: taken
    assert object_to(client, last).status_code == 302
    assert Objection.objects.get().entry_id == last.pk

    # an entry of another notice, or no entry at all: refused, nothing stored
    response = client.post(
        url,
        {
            "entry": 999999,
            "name": "李先生",
            "contact": "13900000999",
            "content": "不属实",
            "captcha_0": "x",
            "captcha_1": "PASSED",
        },
    )
    assert response.status_code == 200 and "请从公示名单中选择一条" in response.content.decode()
    assert Objection.objects.count() == 1


def test_odd_entry_values_on_the_notice_page_get_a_message_not_an_error(
    city, two_at_notice, client
):
    notice = publish(city, two_at_notice)
    url = reverse("portal:notice", args=[notice.pk])
    for odd in ("abc", "-1", "99999999999999999999999", "１２"):
        assert client.get(f"{url}?entry={odd}").status_code == 200
        response = client.post(
            url,
            {
                "entry": odd,
                "name": "李先生",
                "contact": "13900000999",
                "content": "不属实",
                "captcha_0": "x",
                "captcha_1": "PASSED",
            },
        )
        assert response.status_code == 200, odd
        assert "对哪一条有异议" in response.content.decode()
    assert not Objection.objects.exists()
