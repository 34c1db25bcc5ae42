"""Payouts and receipt (F37, F42) on the CHAIN pack: city finance batches the items, the
bank file goes out (full account, as text), the bank's result comes back; a failed item
is paid in a second batch; county finance pays likewise; the applicant confirms receipt
only when awaiting confirmation. One payout per item even under 20 concurrent attempts."""

import datetime
import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from rencai.accounts.models import User
from rencai.applications import transitions as t
from rencai.applications.models import Application, PayoutBatch, PayoutItem
from rencai.errors import ServiceError
from rencai.orgs.models import Authority, Membership
from tests.conftest import PASSWORD, build_city, prepare_applicant
from tests.test_dispatch import chain_living, org_reviewer, through_reports

S = Application.State


def to_city_finance(city, applicant, time_machine=None):
    """Walk a CHAIN living subsidy to the city finance bureau's payout stage."""
    app = chain_living(applicant)
    app = t.approve(actor=city.employer_admin, application=app)
    app = t.approve(actor=city.district_reviewer, application=app)
    t.notice_publish(actor=city.district_reviewer, application_ids=[app.pk], title="公示")
    # The notice period itself is tested in test_notice: here it simply ends.
    t.notices_expire(now=timezone.now() + datetime.timedelta(days=8))
    app = Application.objects.get(pk=app.pk)
    county_org = User.objects.filter(username="dc_org").first() or org_reviewer(
        city.dongcheng, Authority.Kind.ORG_DEPARTMENT, "dc_org"
    )
    city_org = User.objects.filter(username="city_org").first() or org_reviewer(
        city.dongcheng.parent, Authority.Kind.ORG_DEPARTMENT, "city_org"
    )
    app = t.approve(actor=county_org, application=app)
    app = through_reports(city, app, county_org, city_org)
    assert app.current_stage["code"] == "city_finance"
    return app


def county_finance_officer(city):
    user = User.objects.create_user(username="dc_finance", password=PASSWORD, kind="staff")
    Membership.objects.create(
        user=user,
        authority=Authority.objects.get(region=city.dongcheng, kind="finance_bureau"),
        role=Membership.Role.FINANCE_OFFICER,
    )
    return user


def results(batch, outcome, reason=""):
    return [
        (n + 2, (item.application.number, outcome, reason))
        for n, item in enumerate(batch.items.select_related("application"))
    ]


def test_city_and_county_pay_a_failure_is_paid_again_and_the_applicant_confirms(
    city, ready_applicant
):
    app = to_city_finance(city, ready_applicant)
    with pytest.raises(ServiceError, match="拨付环节"):
        t.approve(actor=city.finance_officer, application=app)
    batch = t.payout_batch_create(actor=city.finance_officer, application_ids=[app.pk])
    assert (batch.item_count, str(batch.total)) == (1, "3000.00")
    with pytest.raises(ServiceError, match="不能重复拨付"):
        t.payout_batch_create(actor=city.finance_officer, application_ids=[app.pk])

    sheet = load_workbook(
        io.BytesIO(t.payout_export(actor=city.finance_officer, batch_id=batch.pk))
    ).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][1] == app.number and rows[1][4] == "6217000012345678901"  # full, as text
    assert rows[1][5] == "6217****8901" and rows[1][6] == 3000

    counts = t.payout_results_import(
        actor=city.finance_officer, batch_id=batch.pk, rows=results(batch, "失败", "账户已冻结")
    )
    assert counts == {"paid": 0, "failed": 1, "closed": []}
    app.refresh_from_db()
    assert app.current_stage["code"] == "city_finance"  # waits for a second batch
    with pytest.raises(ServiceError, match="不能重复导入"):
        t.payout_results_import(
            actor=city.finance_officer, batch_id=batch.pk, rows=results(batch, "成功")
        )

    second = t.payout_batch_create(actor=city.finance_officer, application_ids=[app.pk])
    t.payout_results_import(
        actor=city.finance_officer, batch_id=second.pk, rows=results(second, "成功")
    )
    app.refresh_from_db()
    assert app.current_stage["code"] == "county_finance"
    assert list(app.payout_items.order_by("id").values_list("status", flat=True)) == [
        "failed",
        "paid",
    ]

    with pytest.raises(ServiceError, match="个人拨付待确认"):
        t.confirm_receipt(actor=ready_applicant, application=app)
    county = county_finance_officer(city)
    third = t.payout_batch_create(actor=county, application_ids=[app.pk])
    t.payout_results_import(actor=county, batch_id=third.pk, rows=results(third, "成功"))
    app.refresh_from_db()
    assert app.state == S.TO_CONFIRM and app.stage_authority is None

    app = t.confirm_receipt(actor=ready_applicant, application=app)
    assert app.state == S.CONFIRMED
    actions = list(app.events.values_list("action", flat=True))
    assert actions[-7:] == [
        "payout_batch",
        "payout_failed",
        "payout_batch",
        "paid",
        "payout_batch",
        "paid",
        "confirm",
    ]


def test_result_files_must_cover_the_batch_and_name_its_items(city, ready_applicant):
    app = to_city_finance(city, ready_applicant)
    batch = t.payout_batch_create(actor=city.finance_officer, application_ids=[app.pk])
    with pytest.raises(ServiceError, match="缺少银行结果"):
        t.payout_results_import(actor=city.finance_officer, batch_id=batch.pk, rows=[])
    with pytest.raises(ServiceError, match="不在本批次中"):
        t.payout_results_import(
            actor=city.finance_officer, batch_id=batch.pk, rows=[(2, ("SB000", "成功", ""))]
        )
    with pytest.raises(ServiceError, match=r"成功.*失败"):
        t.payout_results_import(
            actor=city.finance_officer, batch_id=batch.pk, rows=results(batch, "也许")
        )
    assert PayoutItem.objects.get().status == "pending"


def test_a_late_bank_result_never_revives_an_application_cancelled_after_batching(
    city, ready_applicant, client
):
    """An application in a sent batch is cancelled (as ``gaps_expire`` cancels one whose
    容缺 deadline passed, F47); then the bank's file says 成功. The item records the
    payment, the application stays cancelled with an event saying why, and the finance
    officer is told to recover the money; nothing moves it on."""
    from django.db import transaction

    app = to_city_finance(city, ready_applicant)
    client.force_login(city.finance_officer)
    client.post(reverse("review:payouts"), {"applications": [app.pk]})
    batch = PayoutBatch.objects.get()
    with transaction.atomic():
        t._cancel(t._lock(app.pk), "容缺材料未在期限前补充并审核通过，资格取消。")
    csv_file = SimpleUploadedFile(
        "result.csv", f"申报编号,结果,原因\n{app.number},成功,\n".encode(), "text/csv"
    )
    page = client.post(
        reverse("review:payout", args=[batch.pk]),
        {"action": "results", "file": csv_file},
        follow=True,
    ).content.decode()
    assert "成功 0 笔，失败 0 笔" in page
    assert f"以下申报在列入批次后已取消，银行结果已记录，申报状态未改变：{app.number}" in page
    app.refresh_from_db()
    assert app.state == S.CANCELLED and app.stage_authority is None
    assert PayoutItem.objects.get().status == "paid"
    last = app.events.order_by("-id").first()
    assert (last.action, last.from_state, last.to_state) == ("paid", "cancelled", "cancelled")
    assert "申报状态不变" in last.opinion
    batch.refresh_from_db()
    assert batch.status == PayoutBatch.Status.SETTLED
    with pytest.raises(ServiceError, match="个人拨付待确认"):
        t.confirm_receipt(actor=ready_applicant, application=app)


def test_finance_desk_pages_and_a_result_file_upload(city, ready_applicant, client):
    app = to_city_finance(city, ready_applicant)
    client.force_login(city.finance_officer)
    assert app.number in client.get(reverse("review:payouts")).content.decode()
    response = client.post(reverse("review:payouts"), {"applications": [app.pk]})
    batch = PayoutBatch.objects.get()
    assert response.status_code == 302
    response = client.post(reverse("review:payout", args=[batch.pk]), {"action": "export"})
    assert response["Content-Disposition"].endswith('.xlsx"')
    csv_file = SimpleUploadedFile(
        "result.csv", f"申报编号,结果,原因\n{app.number},成功,\n".encode(), "text/csv"
    )
    response = client.post(
        reverse("review:payout", args=[batch.pk]), {"action": "results", "file": csv_file}
    )
    assert response.status_code == 302
    assert PayoutItem.objects.get().status == "paid"
    client.force_login(city.district_reviewer)  # not a finance bureau
    assert client.get(reverse("review:payout", args=[batch.pk])).status_code == 404


def test_a_result_file_that_is_a_zip_bomb_is_refused_unread_and_a_real_xlsx_is_read(
    city, ready_applicant, client
):
    from openpyxl import Workbook

    from tests.security.upload_corpus import lying_bomb

    app = to_city_finance(city, ready_applicant)
    client.force_login(city.finance_officer)
    client.post(reverse("review:payouts"), {"applications": [app.pk]})
    batch = PayoutBatch.objects.get()
    url = reverse("review:payout", args=[batch.pk])
    bomb = SimpleUploadedFile("result.xlsx", lying_bomb("xlsx"))
    page = client.post(url, {"action": "results", "file": bomb})
    assert page.status_code == 200 and "压缩" in page.content.decode()
    assert PayoutItem.objects.get().status == "pending"
    book = Workbook()
    book.active.append(["申报编号", "结果", "原因"])
    book.active.append([app.number, "成功", ""])
    out = io.BytesIO()
    book.save(out)
    real = SimpleUploadedFile("result.xlsx", out.getvalue())
    assert client.post(url, {"action": "results", "file": real}).status_code == 302
    assert PayoutItem.objects.get().status == "paid"


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_payout_attempts_give_one_payout(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    city = build_city()
    applicant = prepare_applicant(city.applicant)
    app = to_city_finance(city, applicant)
    barrier = threading.Barrier(20)
    outcomes = []

    def attempt():
        try:
            barrier.wait()
            t.payout_batch_create(actor=city.finance_officer, application_ids=[app.pk])
            outcomes.append("ok")
        except ServiceError as exc:
            outcomes.append(exc.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert outcomes.count("ok") == 1, outcomes
    assert len(outcomes) == 20
    assert PayoutItem.objects.filter(application=app).count() == 1


def test_the_workbench_offers_each_desk_to_the_right_people(city, client):
    client.force_login(city.finance_officer)
    page = client.get(reverse("review:dashboard")).content.decode()
    assert "资金拨付" in page and "公示管理" not in page
    client.force_login(city.district_reviewer)
    page = client.get(reverse("review:dashboard")).content.decode()
    assert "公示管理" in page and "资金拨付" not in page
