"""The CHAIN manual walked end to end in Chromium (issue 4 acceptance, F17, F21–F26,
F37, F41, F42): a dispatched bachelor who changed county applies through the other
county's virtual employer; that county's HR bureau (running the virtual employer) and
the dispatching company both approve; the county reviews and publishes the notice,
which expires (clock moved); the county organisation department confirms and reports
to the city HR bureau, which reports to the city organisation department; city finance
pays (one failure, paid in a second batch) and county finance pays; the applicant
confirms receipt, and the timeline shows all of it."""

import datetime
import io
import re

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from rencai.accounts.models import User
from rencai.applications import transitions as t
from rencai.applications.models import Application
from rencai.orgs.models import Authority, Membership
from rencai.profiles.models import WorkHistory
from tests.conftest import PASSWORD, import_outside_data, prepare_applicant
from tests.e2e.conftest import SCREENSHOTS, check_a11y, log_out, password_login

pytestmark = pytest.mark.e2e


def member(username, role, *, authority=None, employer=None):
    user = User.objects.create_user(
        username=username, password=PASSWORD, kind="staff" if authority else "employer"
    )
    Membership.objects.create(user=user, authority=authority, employer=employer, role=role)
    return user


def open_queue_item(page, url, login):
    password_login(page, url, login, PASSWORD)
    page.get_by_role("link", name="工作台", exact=True).click()
    page.get_by_role("link", name=re.compile("申报审核")).click()
    page.get_by_role("link", name=re.compile(r"^审核 SB")).first.click()


def approve(page, url, login, opinion=""):
    open_queue_item(page, url, login)
    page.get_by_label("审核通过").check()
    if opinion:
        page.get_by_label("审核意见").fill(opinion)
    page.get_by_role("button", name="提交审核结果").click()
    expect(page.locator(".messages")).to_contain_text("已保存审核结果")
    log_out(page)


def desk(page, url, login, card):
    password_login(page, url, login, PASSWORD)
    page.get_by_role("link", name="工作台", exact=True).click()
    page.get_by_role("link", name=re.compile(card)).click()


def report_and_accept(page, url, reporter, receiver):
    desk(page, url, reporter, "汇总上报")
    page.get_by_role("button", name="汇总上报").click()
    expect(page.locator(".messages")).to_contain_text("已上报")
    log_out(page)
    desk(page, url, receiver, "汇总上报")
    page.locator("section", has_text="收到的报告").get_by_role(
        "link", name=re.compile("^BG")
    ).first.click()
    check_a11y(page, "/staff/reports/<pk>/")
    page.get_by_role("button", name="接收报告").click()
    expect(page.locator(".messages")).to_contain_text("已处理汇总报告")
    log_out(page)


def pay(page, url, login, tmp_path, outcome, reason=""):
    """Batch, export the bank file, import the bank's answer."""
    desk(page, url, login, "资金拨付")
    page.get_by_role("button", name="生成拨付批次").click()
    expect(page.locator(".messages")).to_contain_text("拨付批次已生成")
    with page.expect_download() as info:
        page.get_by_role("button", name="导出银行文件").click()
    sheet = load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active
    rows = list(sheet.iter_rows(values_only=True))[1:]
    result = tmp_path / f"result-{login}-{outcome}.csv"
    result.write_text(
        "申报编号,结果,原因\n" + "".join(f"{r[1]},{outcome},{reason}\n" for r in rows),
        encoding="utf-8",
    )
    page.get_by_label("导入银行结果文件").set_input_files(str(result))
    page.get_by_role("button", name="导入结果").click()
    expect(page.locator(".messages")).to_contain_text("银行结果已导入")
    check_a11y(page, "/staff/payouts/<pk>/")
    log_out(page)
    return rows


def test_chain_walk_from_application_to_receipt(page, url, e2e_city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    city = e2e_city
    xicheng_hr = city.outsider_reviewer  # 西城区人社局 reviewer
    applicant = prepare_applicant(city.applicant)
    import_outside_data(tmp_path, applicant)
    WorkHistory.objects.create(
        owner=applicant,
        kind="work",
        organisation_name="西城区某科技公司",
        district=city.xicheng,
        start_date=datetime.date(2020, 7, 1),
        end_date=datetime.date(2023, 12, 31),
        contract_start=datetime.date(2020, 7, 1),
        contract_end=datetime.date(2023, 12, 31),
    )
    member("dispatch_admin", Membership.Role.EMPLOYER_ADMIN, employer=city.dispatch)
    auth = lambda region, kind: Authority.objects.get(region=region, kind=kind)  # noqa: E731
    member("xc_org", Membership.Role.REVIEWER, authority=auth(city.xicheng, "org_department"))
    member(
        "city_org", Membership.Role.REVIEWER, authority=auth(city.xicheng.parent, "org_department")
    )
    member(
        "xc_finance",
        Membership.Role.FINANCE_OFFICER,
        authority=auth(city.xicheng, "finance_bureau"),
    )

    # The applicant: notice, form with the dispatching company and the declaring job.
    password_login(page, url, applicant.id_number, PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="业务申报").click()
    page.get_by_role("link", name="申报 高校毕业生生活补助（县区申报）").click()
    page.get_by_role("link", name="我已阅读，开始填写").click()
    expect(page.locator(".bank-box")).to_contain_text("6217000012345678901")  # F22, read-only
    page.get_by_label("补贴起始年月").fill("2024-01")
    page.get_by_label("补贴终止年月").fill("2024-06")
    page.get_by_label("劳务派遣公司").select_option(label=city.dispatch.name)
    page.get_by_label("申报单位（从工作经历中选择）").select_option(
        label="西城区某科技公司（西城区）"
    )
    for name in ("diploma.pdf", "degree.pdf", "labour_contract.pdf"):
        page.get_by_label(name).check()
    page.get_by_role("button", name="暂存").click()
    page.get_by_role("button", name="保存并提交").click()
    expect(page.locator("table.checks")).not_to_contain_text("不符合")
    page.get_by_label("我已阅读并同意以上承诺").check()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("提交成功")
    expect(page.locator(".facts").first).to_contain_text("西城区虚拟单位")
    log_out(page)
    app = Application.objects.get()

    # All of: the virtual employer (run by 西城区人社局) and the dispatching company.
    approve(page, url, xicheng_hr.username, "虚拟单位审核通过")
    approve(page, url, "dispatch_admin", "派遣关系属实")
    approve(page, url, xicheng_hr.username, "县区审核通过")

    # The county publishes the notice; the period ends (the clock is moved).
    desk(page, url, xicheng_hr.username, "公示管理")
    page.get_by_label("公示标题").fill("2024年高校毕业生生活补助拟发放名单公示")
    page.get_by_role("button", name="发布公示").click()
    expect(page.locator(".messages")).to_contain_text("公示已发布")
    log_out(page)
    t.notices_expire(now=timezone.now() + datetime.timedelta(days=7, minutes=1))

    approve(page, url, "xc_org", "县委组织部确认")
    report_and_accept(page, url, "xc_org", "city_reviewer")
    desk(page, url, "city_reviewer", "汇总上报")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "reports-desk-1280.png"), full_page=True)
    log_out(page)
    report_and_accept(page, url, "city_reviewer", "city_org")

    # City finance: the first payment fails, the second batch pays; then county finance.
    rows = pay(page, url, "city_finance", tmp_path, "失败", "账户状态异常")
    assert rows[0][4] == "6217000012345678901"  # the bank gets the full account, as text
    pay(page, url, "city_finance", tmp_path, "成功")
    pay(page, url, "xc_finance", tmp_path, "成功")
    app.refresh_from_db()
    assert app.state == "to_confirm"

    password_login(page, url, applicant.id_number, PASSWORD)
    page.get_by_role("navigation", name="用户中心菜单").get_by_role("link", name="进度查询").click()
    page.get_by_role("link", name=re.compile("查看详情")).first.click()
    expect(page.locator(".status-panel")).to_contain_text("个人拨付待确认")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="确认到账").click()
    expect(page.locator(".messages")).to_contain_text("已确认到账")
    timeline = page.locator(".timeline")
    for step in (
        "派遣关系属实",
        "进入公示",
        "公示期满",
        "县委组织部确认",
        "上级接收汇总报告",
        "拨付失败",
        "已拨付",
        "个人确认到账",
    ):
        expect(timeline).to_contain_text(step)
    expect(timeline).not_to_contain_text("TMP")  # events name the real batch numbers
    expect(page.locator(".stage-track .step.done")).to_have_count(9)
    check_a11y(page, "/applications/<pk>/ (CHAIN)")
    page.screenshot(path=str(SCREENSHOTS / "chain-timeline-1280.png"), full_page=True)
    app.refresh_from_db()
    assert app.state == "confirmed"


def test_statistics_page_with_chart(page, url, e2e_city, settings, tmp_path):
    from tests.test_applications import living, submit

    settings.MEDIA_ROOT = tmp_path
    submit(living(prepare_applicant(e2e_city.applicant)))
    password_login(page, url, "city_reviewer", PASSWORD)
    page.get_by_role("link", name="工作台", exact=True).click()
    page.get_by_role("link", name=re.compile("统计分析")).click()
    expect(page.locator(".lead")).to_contain_text("共 1 件")
    expect(page.locator(".bar-chart")).to_contain_text("高校毕业生生活补助")
    check_a11y(page, "/staff/statistics/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "statistics-1280.png"), full_page=True)
    with page.expect_download() as info:
        page.get_by_role("button", name="导出").click()
    assert info.value.suggested_filename == "statistics.xlsx"
