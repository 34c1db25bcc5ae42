"""The AGENCY manual walked in Chromium (issue 6 acceptance, F56–F61): an HR-service
agency registers and is approved by the district HR bureau; it creates a rating
application, tries to report early and is told what is missing, fills the indicator tree
one dialog at a time and reports with the commitment; the district bureau sends it back,
the agency corrects and reports again, a score is adjusted with a reason, and the city
bureau grades it A; the agency asks for an upgrade and for keep-grade, and applies for a
subsidy with a PDF form downloaded from the project's template. Every step shows in the
timeline."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rencai.agency.models import AgencyGrade, ScoreAdjustment
from rencai.applications.models import Application
from rencai.orgs.models import Employer
from tests.conftest import PASSWORD, make_credit_code
from tests.e2e.conftest import check_a11y, log_out, password_login, request_sms_code
from tests.e2e.test_application_flow import PDF, accept_next_confirm, shot

pytestmark = pytest.mark.e2e

CREDIT = make_credit_code("91990102MA0000777")
PHONE = "13900000777"
AGENCY_PASSWORD = "Rencai#Hr2026"
NAME = "示范市聚才人力资源服务有限公司"


def dialog(page):
    return page.locator("dialog[open]")


def fill_indicator(page, name, *, choice=None, number=None, yes=None, file=None):
    # the last save's answer has loaded (its dialog is closed): a click on the page being
    # left opened a dialog the next page did not have
    expect(dialog(page)).to_have_count(0)
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
    row.get_by_role("link", name=re.compile("^填写")).click()
    box = dialog(page)
    expect(box.get_by_role("heading", name=name)).to_be_visible()
    if choice is not None:
        box.get_by_label(choice).check()
    if number is not None:
        box.get_by_label(re.compile("^数值")).fill(str(number))
    if yes is not None:
        box.get_by_label("是" if yes else "否", exact=True).check()
    if file is not None:
        box.get_by_label(re.compile("^上传文件")).set_input_files(
            {"name": file, "mimeType": "application/pdf", "buffer": PDF}
        )
    box.get_by_role("button", name="保存").click()


def review_app(page, url, login, app, action, opinion=""):
    """A reviewer opens this application from the link in the desk's message and decides."""
    password_login(page, url, login, PASSWORD)
    page.goto(url(f"/staff/applications/{app.pk}/"))
    page.get_by_label(action).check()
    if opinion:
        page.get_by_label("审核意见").fill(opinion)
    page.get_by_role("button", name="提交审核结果").click()
    expect(page.locator(".messages")).to_contain_text("已保存审核结果")
    log_out(page)


def report(page):
    page.get_by_role("link", name="上报", exact=True).click()
    box = dialog(page)
    box.get_by_label("我已阅读并同意以上填报承诺").check()
    box.get_by_role("button", name="保存").click()


def test_agency_walk_registration_grading_upgrade_keep_and_subsidy(
    page, url, e2e_city, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    year = timezone.localdate().year

    # 一、机构注册 (F61): the guide's fields, then the district HR bureau approves
    page.goto(url("/accounts/register/agency/"))
    page.get_by_label("机构名称").fill(NAME)
    page.get_by_label("统一社会信用代码").fill(CREDIT)
    page.get_by_label("人力资源服务许可证编号").fill("（示）人服证字〔2026〕第0102777号")
    page.get_by_label("所属区县").select_option(label="东城区")
    page.get_by_label("职业中介活动").check()
    page.get_by_label("人力资源管理咨询").check()
    page.get_by_label("经办人姓名").fill("韩聚才")
    page.get_by_label("经办人手机号码").fill(PHONE)
    page.get_by_label("短信验证码").fill(request_sms_code(page, PHONE))
    page.get_by_label("登录密码").fill(AGENCY_PASSWORD)
    page.get_by_label("确认密码").fill(AGENCY_PASSWORD)
    page.get_by_label("图形验证码").fill("PASSED")
    page.get_by_label("我已阅读并同意用户须知，承诺所填信息真实").check()
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page.locator(".status-panel")).to_contain_text("待区县人社部门审核")
    log_out(page)
    password_login(page, url, "dongcheng_reviewer", PASSWORD)
    page.get_by_role("link", name="工作台", exact=True).click()
    page.get_by_role("link", name="单位注册审核").click()
    page.get_by_role("link", name=f"审核 {NAME}").click()
    page.get_by_label("审核通过", exact=True).check()
    page.get_by_role("button", name="提交审核结果").click()
    expect(page.locator(".messages")).to_contain_text("已保存审核结果")
    log_out(page)
    agency = Employer.objects.get(credit_code=CREDIT)
    assert agency.status == "approved" and agency.qualifications == ["placement", "consulting"]

    # 二、申请分类分级 (F56): 分类分级申报 → year, category, kind → 保存
    password_login(page, url, CREDIT, AGENCY_PASSWORD)
    page.get_by_role("link", name="申请列表").click()
    expect(page.get_by_text("还没有分类分级申报")).to_be_visible()
    check_a11y(page, "/agency/gradings/")
    page.get_by_role("link", name="分类分级申报").click()
    box = dialog(page)
    box.get_by_label("申报年度").select_option(str(year))
    box.get_by_label("申报类别").select_option(label="职业介绍")
    box.get_by_label("评定", exact=True).check()
    check_a11y(page, "create dialog")
    box.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("逐项填写评价指标")
    app = Application.objects.get(applicant__username=CREDIT)
    page.get_by_role("link", name="返回申请列表").click()
    row = page.get_by_role("row").filter(has_text="职业介绍")
    for text in (str(app.pk), str(year), NAME, CREDIT, "评定", "填写中"):
        expect(row).to_contain_text(text)
    shot(page, "agency-gradings")

    # reporting early: told what is missing
    row.get_by_role("link", name=re.compile("^上报")).click()
    box = dialog(page)
    expect(box).to_contain_text("以下 9 项指标未完成")
    box.get_by_label("我已阅读并同意以上填报承诺").check()
    box.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("以下 9 项指标未完成")
    expect(page.locator(".messages")).to_contain_text("取得许可证年限")
    app.refresh_from_db()
    assert app.state == "draft"

    # F57: each indicator in its own dialog; a bad number keeps what was typed
    fill_indicator(page, "取得许可证年限", number="三年")
    expect(dialog(page).get_by_role("alert")).to_contain_text("请填写数字")
    expect(dialog(page).get_by_label(re.compile("^数值"))).to_have_value("三年")
    check_a11y(page, "indicator dialog with an error")
    dialog(page).get_by_label(re.compile("^数值")).fill("6")
    dialog(page).get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("已保存：取得许可证年限")
    fill_indicator(page, "持有有效的人力资源服务许可证", yes=True)
    fill_indicator(page, "固定服务场所面积", choice=re.compile("200平方米以上"))
    fill_indicator(page, "专职工作人员人数", number=3)
    fill_indicator(page, "持证从业人员比例", choice=re.compile("60%以上"))
    fill_indicator(page, "上年度成功介绍就业人数", number=1200)
    fill_indicator(page, "上年度举办招聘会场次", number=8)
    fill_indicator(page, "近三年无违法违规记录", yes=True)
    fill_indicator(page, "服务制度和收费标准公示材料", file="收费标准公示.pdf")
    tree = page.get_by_role("table", name="评价指标")
    expect(tree.get_by_text("已完成")).to_have_count(9)
    expect(tree.get_by_text("未完成")).to_have_count(0)
    check_a11y(page, "/agency/gradings/<id>/ filled")
    shot(page, "agency-indicator-tree")
    report(page)
    expect(page.locator(".messages")).to_contain_text("已上报")
    app.refresh_from_db()
    assert app.state == "submitted"
    log_out(page)

    # the district bureau sees the scores and sends it back (审核不通过, 可修改后重新上报)
    password_login(page, url, "dongcheng_reviewer", PASSWORD)
    page.goto(url(f"/staff/applications/{app.pk}/"))
    scores = page.locator("#scores-title").locator("..")
    expect(scores).to_contain_text("总分：90 / 100")
    expect(scores).to_contain_text("按当前得分可评：A级")
    check_a11y(page, "review page with scores")
    log_out(page)
    review_app(
        page,
        url,
        "dongcheng_reviewer",
        app,
        "回退（退回申请人修改）",
        "专职工作人员人数与社保名单不符",
    )
    password_login(page, url, CREDIT, AGENCY_PASSWORD)
    page.get_by_role("link", name="申请列表").click()
    row = page.get_by_role("row").filter(has_text="职业介绍")
    expect(row).to_contain_text("审核不通过")
    expect(row).to_contain_text("专职工作人员人数与社保名单不符")
    row.get_by_role("link", name=re.compile("^填写")).click()
    fill_indicator(page, "专职工作人员人数", number=25)
    report(page)
    expect(page.locator(".messages")).to_contain_text("已上报")
    log_out(page)

    # a score adjusted with a reason (audited), then both bureaus approve
    password_login(page, url, "dongcheng_reviewer", PASSWORD)
    page.goto(url(f"/staff/applications/{app.pk}/"))
    page.get_by_label("指标", exact=True).select_option("jp_fairs")
    page.get_by_label("调整后得分").fill("8")
    page.get_by_label("调整理由").fill("核实到6场招聘会")
    page.get_by_role("button", name="保存调整").click()
    expect(page.locator(".messages")).to_contain_text("已调整得分")
    expect(page.locator("#scores-title").locator("..")).to_contain_text("98")
    shot(page, "agency-review-scores")
    log_out(page)
    assert ScoreAdjustment.objects.get(application=app).reason == "核实到6场招聘会"
    review_app(page, url, "dongcheng_reviewer", app, "审核通过")
    review_app(page, url, "city_reviewer", app, "审核通过")
    grade = AgencyGrade.objects.get(application=app)
    assert (grade.grade, grade.score) == ("A", 98)

    # 三、评定结果 (F59): grade and validity; every step in the timeline
    password_login(page, url, CREDIT, AGENCY_PASSWORD)
    page.get_by_role("link", name="申请列表").click()
    page.get_by_role("row").filter(has_text="职业介绍").get_by_role(
        "link", name=re.compile("^查看")
    ).click()
    timeline = page.locator(".timeline")
    for step in ("新建暂存", "提交", "回退", "修改后重新提交", "调整指标得分", "审核通过"):
        expect(timeline).to_contain_text(step)
    expect(page.locator("#row-jp_fairs")).to_contain_text("审核调整：核实到6场招聘会")
    expect(timeline).to_contain_text("上年度举办招聘会场次：10 → 8 分（核实到6场招聘会）")
    page.get_by_role("link", name="评定结果").click()
    row = page.get_by_role("row").filter(has_text="职业介绍")
    expect(row).to_contain_text("A")
    expect(row).to_contain_text(f"{grade.valid_until:%Y-%m-%d}")
    check_a11y(page, "/agency/results/")
    shot(page, "agency-results")

    # 升级: confirm, a new rating pre-filled from the last one, reported
    accept_next_confirm(page)
    row.get_by_role("button", name=re.compile("^升级")).click()
    expect(page.locator(".messages")).to_contain_text("已生成升级申报")
    upgrade_row = page.get_by_role("row").filter(has_text="升级")
    expect(upgrade_row).to_contain_text("填写中")
    upgrade_row.get_by_role("link", name=re.compile("^填写")).click()
    expect(page.get_by_role("table", name="评价指标").get_by_text("已完成")).to_have_count(9)
    report(page)
    expect(page.locator(".messages")).to_contain_text("已上报")

    # 保级: its own form and review
    page.get_by_role("link", name="评定结果").click()
    page.get_by_role("row").filter(has_text="职业介绍").get_by_role(
        "link", name=re.compile("^保级")
    ).click()
    expect(page.get_by_label("申报类别")).to_have_value("job_placement")
    page.get_by_label("申报年度").fill(str(year))
    page.get_by_label("有效期内服务人数").fill("3200")
    page.get_by_label("有效期内服务情况说明").fill("有效期内累计服务求职者3200人次。")
    page.get_by_label("有效期内无违法违规记录").check()
    page.get_by_label(re.compile("^上传新文件")).first.set_input_files(
        {"name": "保级自评报告.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="暂存").click()
    expect(page.locator(".messages")).to_contain_text("已暂存")
    page.get_by_role("button", name="保存并提交").click()
    page.get_by_label("我已阅读并同意以上承诺").check()
    accept_next_confirm(page)
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("提交成功")
    keep = Application.objects.get(applicant__username=CREDIT, program__code="agency_keep_grade")
    assert keep.state == "submitted"

    # 四、政策补贴 (F60): rules, a project open now with its form template, a PDF upload
    page.get_by_role("link", name="实施细则").click()
    expect(page.get_by_text("人力资源服务业发展补贴实施细则（示范）")).to_be_visible()
    page.get_by_role("link", name="补贴申报", exact=True).click()
    expect(page.get_by_text("还没有补贴申报")).to_be_visible()
    page.get_by_role("link", name="新增补贴申报").first.click()
    picks = dialog(page)
    project = picks.locator("li", has_text="人力资源服务业发展大会备案")
    with page.expect_download() as download:
        project.get_by_role("link", name=re.compile("下载申报表")).click()
    assert download.value.suggested_filename == "conference.docx"
    check_a11y(page, "new subsidy dialog")
    project.get_by_role("link", name=re.compile("^选择并填写")).click()
    page.get_by_label("申报年度").fill(str(year))
    page.get_by_label(re.compile("^上传新文件")).first.set_input_files(
        {"name": "备案表.docx", "mimeType": "application/msword", "buffer": b"PK\x03\x04x"}
    )
    page.get_by_role("button", name="暂存").click()
    expect(page.locator(".error-summary")).to_contain_text("pdf")
    expect(page.locator("#material-conference_form .field-errors")).to_contain_text("备案表.docx")
    expect(page.get_by_label("申报年度")).to_have_value(str(year))
    assert not Application.objects.filter(program__code="agency_conference").exists()
    page.get_by_label(re.compile("^上传新文件")).first.set_input_files(
        {"name": "备案表.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="暂存").click()
    expect(page.locator(".messages")).to_contain_text("已暂存")
    shot(page, "agency-subsidy-application")
    page.get_by_role("link", name="补贴申报", exact=True).click()
    row = page.get_by_role("row").filter(has_text="人力资源服务业发展大会备案")
    expect(row).to_contain_text("待提交")
    row.get_by_role("link", name=re.compile("^提交")).click()
    page.get_by_label("我已阅读并同意以上承诺").check()
    accept_next_confirm(page)
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("提交成功")
    log_out(page)
    subsidy = Application.objects.get(applicant__username=CREDIT, program__code="agency_conference")
    review_app(page, url, "dongcheng_reviewer", subsidy, "审核通过")
    password_login(page, url, CREDIT, AGENCY_PASSWORD)
    page.get_by_role("link", name="补贴申报", exact=True).click()
    page.get_by_role("link", name="人力资源服务业发展大会备案", exact=True).click()
    expect(page.locator(".timeline")).to_contain_text("审核通过")
    expect(page.get_by_role("link", name="备案表.pdf")).to_be_visible()
    check_a11y(page, "subsidy application detail")
    shot(page, "agency-subsidy-detail")

    # 五、注册信息变更 (F61): the old details stay in force until the district approves
    page.get_by_role("link", name="注册信息变更").click()
    check_a11y(page, "/accounts/registration-change/")
    page.locator("#id_contact_name").fill("韩新经办")
    page.get_by_role("button", name="提交变更申请").click()
    expect(page.get_by_text("变更申请待审核")).to_be_visible()
    agency.refresh_from_db()
    assert agency.contact_name == "韩聚才"
    log_out(page)
    password_login(page, url, "dongcheng_reviewer", PASSWORD)
    page.get_by_role("link", name="工作台", exact=True).click()
    page.get_by_role("link", name=re.compile("注册信息变更审核")).click()
    page.get_by_role("link", name=f"审核 {NAME}").click()
    expect(page.locator("tr.changed")).to_contain_text("韩新经办")
    page.get_by_label("审核通过", exact=True).check()
    accept_next_confirm(page)
    page.get_by_role("button", name="提交审核结果").click()
    expect(page.locator(".messages")).to_contain_text("已保存审核结果")
    agency.refresh_from_db()
    assert agency.contact_name == "韩新经办"
