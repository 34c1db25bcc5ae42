"""The TALENT manual walked in Chromium (issue 5 acceptance, F27, F28, F46–F49, F51–F53):
a new person registers with the picture captcha and an SMS code, is approved by the
employer, fills the profile and uploads materials, and is classified F through the
employer and the talent office; the apartment
tile is open and the A-only one greyed out; a living-subsidy application goes in with
the social-insurance record missing (容缺), is approved by the city HR bureau (the F
channel), the record is supplied and the gap cleared; an apartment is applied for and a
room allocated; then a change of classification is filed while F stays in force. A
second person misses the 容缺 deadline (clock moved) and loses the category and the
applications that depend on it."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rencai.accounts.models import User
from rencai.applications import transitions as t
from rencai.applications.models import Application, ApplicationGap
from rencai.housing.models import Allocation, Community
from rencai.talent.models import TalentCategory
from rencai.talent.services import current_category
from tests.conftest import PASSWORD, make_id, prepare_applicant
from tests.e2e.conftest import check_a11y, log_out, password_login, request_sms_code
from tests.e2e.test_application_flow import (
    accept_next_confirm,
    fill_profile,
    review,
    shot,
    upload,
)
from tests.test_talent import first_contract

pytestmark = pytest.mark.e2e

NEW_ID = make_id("99010219970707002")
NEW_PHONE = "13900000555"
NEW_PASSWORD = "Ruoxi#2026"


def submit_checked(page):
    page.get_by_label("我已阅读并同意以上承诺").check()
    accept_next_confirm(page)
    page.get_by_role("button", name="提交", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("提交成功")


def test_talent_walk_classification_gap_apartment_and_change(
    page, url, e2e_city, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    # F54, F50: the portal's service tiles, then policy matching by category and date
    page.goto(url("/"))
    tiles = page.get_by_role("region", name="人才服务中心")
    expect(tiles.locator("article", has_text="租住人才公寓")).to_contain_text("F类及以上可以申请")
    expect(tiles.locator("article", has_text="入住人才驿站")).to_contain_text("所有用户均可申请")
    shot(page, "portal-home")
    tiles.get_by_role("link", name=re.compile("人才服务政策匹配")).click()
    page.get_by_label("最高学历").select_option(label="本科")
    page.get_by_label("在本市用人单位就业").check()
    page.get_by_label("人才分类").select_option(label="F类：基础人才")
    page.get_by_label("首次在本市签订劳动合同的日期").fill("2023-03-01")
    page.get_by_role("button", name=re.compile("查看")).click()
    living_match = page.locator(
        "li.match", has=page.get_by_role("heading", name=re.compile("^生活补贴"))
    )
    expect(living_match).to_contain_text("基本符合")
    expect(page.locator("li.match", has_text="顶尖人才")).to_contain_text("暂不符合")
    check_a11y(page, "/policies/match/ with a category")
    shot(page, "policy-match-talent")

    # F01: a new person registers (picture captcha and SMS code); the employer approves
    page.get_by_role("link", name="注册").click()
    page.get_by_role("link", name=re.compile("个人")).first.click()
    page.get_by_label("证件类型").select_option(label="居民身份证")
    page.get_by_label("证件号码").fill(NEW_ID)
    page.get_by_label("姓名").fill("林若溪")
    page.get_by_label("输入关键词查找单位").fill("星河")
    expect(page.locator("#id_employer")).to_have_value(str(e2e_city.tech.pk))
    page.get_by_label("手机号码").fill(NEW_PHONE)
    page.get_by_label("短信验证码").fill(request_sms_code(page, NEW_PHONE))
    page.get_by_label("登录密码").fill(NEW_PASSWORD)
    page.get_by_label("确认密码").fill(NEW_PASSWORD)
    page.get_by_label("图形验证码").fill("PASSED")
    page.get_by_label("我已阅读并同意用户须知和个人申请承诺").check()
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("注册成功，已提交所在单位审核")
    log_out(page)
    password_login(page, url, e2e_city.tech.credit_code, PASSWORD)
    page.get_by_role("link", name="审核本单位人员注册").click()
    page.get_by_role("link", name="审核 林若溪").click()
    page.get_by_label("审核通过", exact=True).check()
    page.get_by_role("button", name="提交审核结果").click()
    expect(page.locator(".messages")).to_contain_text("已保存审核结果")
    log_out(page)
    person = User.objects.get(phone=NEW_PHONE)
    assert person.registration_status == "approved"
    first_contract(person, datetime.date(2023, 3, 1))

    # the profile and materials, as the manual's 个人资料 and 附件管理 steps
    password_login(page, url, NEW_ID, NEW_PASSWORD)
    fill_profile(page)
    upload(page, "毕业证书", "diploma.pdf")
    upload(page, "劳动合同", "labour_contract.pdf")
    upload(page, "荣誉资质证明材料", "荣誉证书.pdf")

    # F46: 人才中心 → 我要认定 → notice → category, honours (multi-select) → submit
    page.get_by_role("link", name="人才中心").click()
    expect(page.locator("#my-category").locator("..")).to_contain_text("尚未认定人才类型")
    check_a11y(page, "/talent/")
    page.get_by_role("link", name="我要认定").click()
    page.get_by_role("link", name="我已阅读，开始填写").click()
    page.get_by_label("F类：基础人才").check()
    page.get_by_label("全日制本（专）科毕业生").check()
    page.get_by_label("现在职务").fill("工程师")
    page.get_by_label("diploma.pdf").check()
    page.get_by_label("labour_contract.pdf").check()
    page.get_by_label("荣誉证书.pdf").check()
    check_a11y(page, "classification form")
    shot(page, "talent-classification-form")
    page.get_by_role("button", name="暂存").click()
    expect(page.locator(".messages")).to_contain_text("已暂存")
    page.get_by_role("button", name="保存并提交").click()
    expect(page.locator("table.checks")).not_to_contain_text("不符合")
    submit_checked(page)
    log_out(page)
    review(page, url, e2e_city.tech.credit_code, "审核通过")
    review(page, url, "talent_reviewer", "审核通过", "符合F类基础人才条件")
    assert current_category(person).level == "f"

    # F49: the apartment tile is open, the A-only one greyed out with the reason
    password_login(page, url, NEW_ID, NEW_PASSWORD)
    page.get_by_role("link", name="人才中心").click()
    expect(page.locator(".lead")).to_contain_text("F类：基础人才")
    top = page.locator("article", has_text="顶尖人才“一事一议”支持")
    expect(top).to_have_class(re.compile("card-closed"))
    expect(top).to_contain_text("要求A类：国内外顶尖人才及以上人才")
    apartment = page.locator("article", has_text="租住人才公寓")
    expect(apartment.get_by_role("link", name=re.compile("点击申请"))).to_be_visible()
    menu = page.get_by_role("navigation", name="用户中心菜单")
    expect(menu).to_contain_text("租住人才公寓")
    expect(menu).not_to_contain_text("英才卡")
    check_a11y(page, "/talent/ classified")
    shot(page, "talent-centre")

    # F47: the living subsidy with the social-insurance record missing (容缺)
    page.locator("article", has_text="生活补贴").get_by_role(
        "link", name=re.compile("点击申请")
    ).click()
    page.get_by_role("link", name="我已阅读，开始填写").click()
    page.get_by_label("补贴起始年月").fill("2024-01")
    page.get_by_label("补贴终止年月").fill("2024-06")
    page.get_by_label("diploma.pdf").check()
    page.get_by_label("labour_contract.pdf").check()
    page.get_by_role("button", name="暂存").click()
    expect(page.locator(".messages")).to_contain_text("已暂存")
    page.get_by_role("button", name="保存并提交").click()
    expect(page.locator("table.checks")).to_contain_text("缺少材料")
    page.get_by_label("“截至申报当月（或上月）的社保缴纳记录”申请容缺").check()
    page.get_by_label("容缺原因").fill("社保经办机构系统升级，暂时无法打印缴费记录")
    deadline = timezone.localdate() + datetime.timedelta(days=30)
    page.get_by_label("补充期限").fill(deadline.isoformat())
    check_a11y(page, "pre-check with gap")
    submit_checked(page)
    log_out(page)
    review(page, url, e2e_city.tech.credit_code, "审核通过")
    review(page, url, "city_reviewer", "审核通过")  # F28: category F → city HR bureau
    living = Application.objects.get(program__code="talent_living")
    assert living.state == "approved"
    assert living.events.filter(organisation__contains="人力资源和社会保障局").exists()

    # the person supplies the record; the city HR bureau clears the gap
    password_login(page, url, NEW_ID, NEW_PASSWORD)
    upload(page, "截至申报当月（或上月）的社保缴纳记录", "社保缴费记录.pdf")
    page.get_by_role("link", name="容缺材料").click()
    expect(page.locator("table")).to_contain_text("待补充")
    check_a11y(page, "/applications/gaps/")
    page.get_by_role("button", name="提交补充").click()
    expect(page.locator(".messages")).to_contain_text("已提交补充材料")
    log_out(page)
    # sent back once with a reason (required), supplied again, then cleared
    password_login(page, url, "city_reviewer", PASSWORD)
    page.goto(url(f"/staff/applications/{living.pk}/"))
    page.get_by_role("button", name="材料不符，退回补充").click()
    expect(page.locator(".messages")).to_contain_text("退回补充时请填写原因")
    page.get_by_label("意见（退回补充时必填）").fill("缴费记录未盖章，请补充盖章版本")
    page.get_by_role("button", name="材料不符，退回补充").click()
    expect(page.locator(".messages")).to_contain_text("已退回申请人重新补充")
    log_out(page)
    password_login(page, url, NEW_ID, NEW_PASSWORD)
    page.get_by_role("link", name="容缺材料").click()
    expect(page.locator("table")).to_contain_text("缴费记录未盖章")
    page.get_by_role("button", name="提交补充").click()
    expect(page.locator(".messages")).to_contain_text("已提交补充材料")
    log_out(page)
    password_login(page, url, "city_reviewer", PASSWORD)
    page.goto(url(f"/staff/applications/{living.pk}/"))
    check_a11y(page, "review page with a supplied gap")
    page.get_by_role("button", name="确认材料，解除容缺").click()
    expect(page.locator(".messages")).to_contain_text("已解除容缺")
    log_out(page)
    assert ApplicationGap.objects.get().state == "cleared"

    # F52: the apartment list → a community → 申请入住 → review → a room allocated
    password_login(page, url, NEW_ID, NEW_PASSWORD)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="人才安居").click()
    page.goto(url("/housing/apartments/"))
    check_a11y(page, "/housing/apartments/")
    shot(page, "talent-apartments")
    page.get_by_role("link", name=re.compile("山水华府·兰花园")).first.click()
    check_a11y(page, "/housing/apartments/<pk>/")
    page.get_by_role("link", name="申请入住").click()
    expect(page.get_by_label("申请小区")).to_have_value(
        str(Community.objects.get(name="山水华府·兰花园").pk)
    )
    page.get_by_label("labour_contract.pdf").check()
    page.get_by_role("button", name="暂存").click()
    expect(page.locator(".messages")).to_contain_text("已暂存")
    page.get_by_role("button", name="保存并提交").click()
    submit_checked(page)
    expect(page.locator("main")).to_contain_text("山水华府·兰花园")  # the community by name
    log_out(page)
    review(page, url, e2e_city.tech.credit_code, "审核通过")
    review(page, url, "talent_reviewer", "审核通过")
    password_login(page, url, "talent_reviewer", PASSWORD)
    page.goto(url("/staff/housing/allocations/"))
    check_a11y(page, "/staff/housing/allocations/")
    page.get_by_role("button", name="分配…").first.click()
    page.get_by_role("button", name="确认分配").click()
    expect(page.locator(".messages")).to_contain_text("已将")
    log_out(page)
    allocation = Allocation.objects.get(ended_at__isnull=True)
    assert allocation.person == person and allocation.room.community.name == "山水华府·兰花园"

    # F48: a change of classification; F stays in force while it is reviewed
    password_login(page, url, NEW_ID, NEW_PASSWORD)
    page.get_by_role("link", name="人才中心").click()
    page.get_by_role("link", name="变更分类").click()
    page.get_by_role("link", name="我已阅读，开始填写").click()
    page.get_by_label("E类：高层次人才").check()
    page.get_by_label("硕士研究生、副高级专业技术职称人员、高级技师").check()
    page.get_by_label("现在职务").fill("高级工程师")
    page.get_by_label("diploma.pdf").check()
    page.get_by_label("labour_contract.pdf").check()
    page.get_by_label("荣誉证书.pdf").check()
    page.get_by_role("button", name="暂存").click()
    expect(page.locator(".messages")).to_contain_text("已暂存")
    page.get_by_role("button", name="保存并提交").click()
    submit_checked(page)
    page.get_by_role("link", name="人才中心").click()
    expect(page.locator(".lead")).to_contain_text("F类：基础人才")
    expect(page.locator(".message.info")).to_contain_text("变更审核通过前，原人才类型继续有效")
    assert current_category(person).level == "f"
    log_out(page)
    review(page, url, e2e_city.tech.credit_code, "审核通过")
    review(page, url, "talent_reviewer", "审核通过", "符合E类高层次人才条件")
    password_login(page, url, NEW_ID, NEW_PASSWORD)
    page.get_by_role("link", name="人才中心").click()
    expect(page.locator(".lead")).to_contain_text("E类：高层次人才")
    expect(page.get_by_role("region", name="认定记录")).to_contain_text("已变更")
    menu = page.get_by_role("navigation", name="用户中心菜单")
    expect(menu).to_contain_text("英才卡")  # E opens the talent card
    assert current_category(person).level == "e"


def test_a_missed_gap_deadline_loses_the_category_and_dependent_applications(
    page, url, e2e_city, settings, tmp_path
):
    """The second person: classified with the honour proof missing, applies for the
    living subsidy, and never supplies it. The clock moves past the deadline; the
    periodic job cancels the category and the subsidy, and the person is told."""
    from tests.test_talent import classify, gap, living
    from tests.test_talent import upload as store

    settings.MEDIA_ROOT = tmp_path
    e2e_city.talent_reviewer = e2e_city.admin.__class__.objects.get(username="talent_reviewer")
    person = prepare_applicant(e2e_city.applicant)
    first_contract(person, datetime.date(2023, 3, 1))
    store(person, "social_insurance")
    classification = classify(e2e_city, gaps=gap("honour_proof", days=10))
    subsidy = living(e2e_city)
    later = classification.gaps.get().deadline + datetime.timedelta(days=1)
    assert t.gaps_expire(today=later) == 1

    password_login(page, url, person.id_number, PASSWORD)
    page.get_by_role("link", name="人才中心").click()
    expect(page.locator("#my-category").locator("..")).to_contain_text("尚未认定人才类型")
    expect(page.get_by_role("region", name="认定记录")).to_contain_text("已取消")
    page.get_by_role("link", name="进度查询").click()
    expect(page.locator("main")).to_contain_text("已取消")
    assert TalentCategory.objects.get(person=person).state == "cancelled"
    subsidy.refresh_from_db()
    assert subsidy.state == "cancelled"
