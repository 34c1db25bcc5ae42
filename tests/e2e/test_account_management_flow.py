"""Account management and the employer's review of people in a real Chromium
(F04 review and resubmission, F09 phone change, F10 closing with a confirmation, F02
agency registration page). Each flow checks what the user sees, then the database."""

import pytest
from playwright.sync_api import expect

from rencai.accounts.models import User
from tests.conftest import PASSWORD, make_id
from tests.e2e.conftest import check_a11y, log_out, password_login, request_sms_code

pytestmark = pytest.mark.e2e


def test_employer_rejects_person_who_corrects_and_is_approved(page, url, e2e_city):
    tech = User.objects.get(real_name="张晓明").employer
    person = User.objects.create_user(
        username=make_id("99010220000202002"),
        id_number=make_id("99010220000202002"),
        id_type="resident_id",
        password=PASSWORD,
        kind=User.Kind.PERSON,
        real_name="林小雨",
        phone="13900000201",
        employer=tech,
        registration_status="pending",
    )
    password_login(page, url, tech.credit_code, PASSWORD)
    page.get_by_role("link", name="审核本单位人员注册").click()
    check_a11y(page, "/staff/people/")
    page.get_by_role("link", name="审核 林小雨").click()
    check_a11y(page, "/staff/people/<pk>/")
    page.get_by_label("审核不通过").check()
    page.get_by_role("button", name="提交审核结果").click()
    expect(page.locator(".error-summary")).to_contain_text("审核不通过时请填写审核意见")
    person.refresh_from_db()
    assert person.registration_status == "pending"
    page.get_by_label("审核不通过").check()
    page.get_by_label("审核意见").fill("姓名与劳动合同不一致")
    page.get_by_role("button", name="提交审核结果").click()
    expect(page.locator(".messages")).to_contain_text("已保存审核结果")
    person.refresh_from_db()
    assert person.registration_status == "rejected"
    log_out(page)

    password_login(page, url, person.id_number, PASSWORD)
    expect(page.locator(".status-panel")).to_contain_text("姓名与劳动合同不一致")
    page.get_by_role("link", name="修改并重新提交").click()
    check_a11y(page, "/accounts/me/registration/")
    page.get_by_label("姓名").fill("林晓雨")
    page.get_by_role("button", name="重新提交审核").click()
    expect(page.locator(".status-panel")).to_contain_text("待单位审核")
    person.refresh_from_db()
    assert (person.registration_status, person.real_name) == ("pending", "林晓雨")
    log_out(page)

    password_login(page, url, tech.credit_code, PASSWORD)
    page.goto(url("/staff/people/"))
    page.get_by_role("link", name="审核 林晓雨").click()
    page.get_by_label("审核通过").check()
    page.get_by_role("button", name="提交审核结果").click()
    expect(page.locator(".messages")).to_contain_text("已保存审核结果")
    person.refresh_from_db()
    assert person.registration_status == "approved"


def test_applicant_changes_phone_then_closes_the_account_after_confirming(page, url, e2e_city):
    applicant = User.objects.get(real_name="张晓明")
    password_login(page, url, applicant.id_number, PASSWORD)
    page.get_by_role("link", name="手机号修改").click()
    check_a11y(page, "/accounts/me/phone/")
    page.get_by_label("新手机号码").fill("13900000202")
    page.get_by_label("短信验证码").fill(request_sms_code(page, "13900000202"))
    page.get_by_role("button", name="修改手机号").click()
    expect(page.locator(".messages")).to_contain_text("手机号码已修改")
    applicant.refresh_from_db()
    assert applicant.phone == "13900000202"

    page.get_by_role("link", name="账户注销").click()
    check_a11y(page, "/accounts/me/close/")
    page.get_by_label("请输入登录密码确认注销").fill(PASSWORD)
    page.get_by_label("我已知晓：注销后将不能再用此账号登录").check()
    page.once("dialog", lambda dialog: dialog.dismiss())  # the user changes their mind
    page.get_by_role("button", name="确认注销").click()
    expect(page).to_have_url(url("/accounts/me/close/"))
    applicant.refresh_from_db()
    assert applicant.closed_at is None

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="确认注销").click()
    expect(page.locator(".messages")).to_contain_text("账号已注销")
    applicant.refresh_from_db()
    assert applicant.closed_at is not None and not applicant.is_active
    password_login(page, url, applicant.id_number, PASSWORD)
    expect(page.locator(".error-summary")).to_contain_text("账号或密码错误")


def test_account_info_and_agency_registration_pages(page, url, e2e_city):
    page.goto(url("/accounts/register/agency/"))
    check_a11y(page, "/accounts/register/agency/")
    expect(page.get_by_label("人力资源服务许可证编号")).to_be_visible()
    applicant = User.objects.get(real_name="张晓明")
    password_login(page, url, applicant.id_number, PASSWORD)
    page.get_by_role("link", name="账号信息").click()
    check_a11y(page, "/accounts/me/account/")
    page.get_by_label("电子邮箱").fill("zxm@example.com")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("账号信息已保存")
    applicant.refresh_from_db()
    assert applicant.email == "zxm@example.com"
