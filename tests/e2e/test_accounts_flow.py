"""Account flows in a real Chromium (F01 person registration, F03 employer registration
and district review, F05/F06 password and SMS login, F08 lockout). Each flow checks what
the user sees, then the database."""

import pytest
from playwright.sync_api import expect

from rencai.accounts.models import LoginLock, User
from rencai.audit.models import AuditEntry
from rencai.orgs.models import Employer
from tests.conftest import PASSWORD, make_credit_code
from tests.e2e.conftest import log_out, password_login, request_sms_code

pytestmark = pytest.mark.e2e

# Check character X: the user types it as a lower-case x; the platform stores "X".
NEW_ID = "99010219950606000X"
NEW_CREDIT_CODE = make_credit_code("91990102MA0000088")


def test_person_registers_and_waits_for_the_employer(page, url, e2e_city):
    page.goto(url("/accounts/register/person/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("个人用户注册")
    page.get_by_label("证件类型").select_option(label="居民身份证")
    page.get_by_label("证件号码").fill(NEW_ID.lower())
    page.get_by_label("姓名").fill("陈思远")
    # F29: the employer is found by a keyword; one match is chosen for the person.
    page.get_by_label("输入关键词查找单位").fill("星河")
    expect(page.locator("#field-employer .hint[aria-live]")).to_have_text("找到 1 个单位")
    expect(page.locator("#id_employer")).to_have_value(str(e2e_city.tech.pk))
    page.get_by_label("所在单位").select_option(label="示范市星河科技有限公司")
    page.get_by_label("手机号码").fill("13900000101")
    code = request_sms_code(page, "13900000101")
    page.get_by_label("短信验证码").fill(code)
    expect(page.get_by_label("登录名（选填）")).to_have_value("")
    page.get_by_label("登录密码").fill("Siyuan#2026")
    page.get_by_label("确认密码").fill("Siyuan#2026")
    page.get_by_label("图形验证码").fill("PASSED")
    page.get_by_label("我已阅读并同意用户须知和个人申请承诺").check()
    page.get_by_role("button", name="注册", exact=True).click()

    expect(page).to_have_url(url("/accounts/me/"))
    expect(page.locator(".messages")).to_contain_text("注册成功，已提交所在单位审核")
    panel = page.locator(".status-panel")
    expect(panel).to_contain_text("待单位审核")
    expect(panel).to_contain_text("示范市星河科技有限公司")
    facts = page.locator(".facts")
    expect(facts).to_contain_text("陈思远")
    expect(facts).to_contain_text("1995-06-06")  # read from the ID number
    expect(facts).not_to_contain_text(NEW_ID)  # masked

    person = User.objects.get(phone="13900000101")
    assert person.id_number == NEW_ID  # the typed x is stored upper-case
    assert person.kind == User.Kind.PERSON
    assert person.registration_status == User.RegistrationStatus.PENDING
    assert person.employer == e2e_city.tech
    assert person.real_name == "陈思远"
    assert person.check_password("Siyuan#2026")


def test_password_login_logout_then_sms_login(page, url, e2e_city):
    applicant = e2e_city.applicant
    password_login(page, url, applicant.id_number, PASSWORD)
    expect(page).to_have_url(url("/accounts/me/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("个人中心")
    expect(page.locator(".messages")).to_contain_text("登录成功，欢迎您")
    expect(page.locator(".facts")).to_contain_text("张晓明")
    log_out(page)
    page.goto(url("/accounts/me/"))  # the session is gone
    expect(page).to_have_url(url("/accounts/login/?next=/accounts/me/"))

    page.get_by_role("link", name="短信验证码登录").click()
    expect(page).to_have_url(url("/accounts/login/sms/"))
    expect(page.get_by_role("link", name="短信验证码登录")).to_have_attribute(
        "aria-current", "page"
    )
    page.get_by_label("手机号码").fill("13800000001")
    page.get_by_label("短信验证码").fill(request_sms_code(page, "13800000001"))
    page.get_by_label("图形验证码").fill("PASSED")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(url("/accounts/me/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("个人中心")
    expect(page.locator(".facts")).to_contain_text("张晓明")

    methods = list(
        AuditEntry.objects.filter(action="login.success", object_id=str(applicant.pk))
        .order_by("id")
        .values_list("summary__method", flat=True)
    )
    assert methods == ["password", "sms"]
    applicant.refresh_from_db()
    assert applicant.last_login is not None


def test_ten_wrong_passwords_lock_the_account(page, url, e2e_city):
    applicant = e2e_city.applicant
    errors = page.locator(".error-summary")
    for attempt in range(1, 10):
        password_login(page, url, applicant.id_number, f"wrong-{attempt}")
        # Waiting for each answer also makes sure that every attempt reached the server.
        expect(errors).to_contain_text("账号或密码错误。")
        if attempt >= 7:  # the last three attempts are announced
            expect(errors).to_contain_text(f"再错{10 - attempt}次账号将被锁定")
        else:
            expect(errors).not_to_contain_text("再错")
    password_login(page, url, applicant.id_number, "wrong-10")
    expect(page).to_have_url(url("/accounts/login/"))
    expect(errors).to_contain_text("密码连续输错10次，账号已锁定")
    expect(errors).to_contain_text("rencai-help@example.gov.cn")
    expect(errors).to_contain_text("0000-1234567")

    password_login(page, url, applicant.id_number, PASSWORD)  # the right one: still locked
    expect(errors).to_contain_text("账号已锁定")
    expect(page).to_have_url(url("/accounts/login/"))
    expect(page.get_by_role("navigation", name="主导航")).not_to_contain_text("个人中心")

    lock = LoginLock.objects.get(user=applicant)
    assert lock.locked_at is not None
    assert lock.failures == 10
    assert AuditEntry.objects.filter(action="login.refused_locked").exists()
    assert not AuditEntry.objects.filter(
        action="login.success", object_id=str(applicant.pk)
    ).exists()


def test_employer_registers_and_district_reviewer_approves(page, url, e2e_city):
    page.goto(url("/accounts/register/employer/"))
    page.get_by_label("单位名称").fill("示范市北辰电子有限公司")
    page.get_by_label("统一社会信用代码").fill(NEW_CREDIT_CODE.lower())
    page.get_by_label("单位类型").select_option(label="企业")
    page.get_by_label("所属区县").select_option(label="东城区")
    page.get_by_label("联系人（经办人）").fill("韩北辰")
    page.get_by_label("联系人手机号码").fill("13900000102")
    page.get_by_label("短信验证码").fill(request_sms_code(page, "13900000102"))
    page.get_by_label("登录密码").fill("Beichen#2026")
    page.get_by_label("确认密码").fill("Beichen#2026")
    page.get_by_label("图形验证码").fill("PASSED")
    page.get_by_label("我已阅读并同意用户须知，承诺所填信息真实").check()
    page.get_by_role("button", name="注册", exact=True).click()

    expect(page).to_have_url(url("/accounts/me/"))
    expect(page.locator(".status-panel")).to_contain_text("待区县人社部门审核")
    expect(page.locator(".status-panel")).to_contain_text("东城区")
    employer = Employer.objects.get(credit_code=NEW_CREDIT_CODE)
    assert employer.status == Employer.Status.PENDING
    assert employer.district == e2e_city.dongcheng
    log_out(page)

    # The district reviewer: 工作台 → 单位注册审核 → the new employer → 审核通过.
    password_login(page, url, "dongcheng_reviewer", PASSWORD)
    page.get_by_role("link", name="工作台", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    page.get_by_role("link", name="单位注册审核").click()
    expect(page).to_have_url(url("/staff/employers/"))
    row = page.get_by_role("row").filter(has_text="示范市北辰电子有限公司")
    expect(row).to_contain_text(NEW_CREDIT_CODE)
    expect(row).to_contain_text("待审核")
    row.get_by_role("link", name="审核 示范市北辰电子有限公司").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("示范市北辰电子有限公司")
    expect(page.locator(".facts")).to_contain_text("韩北辰")
    page.get_by_label("审核通过", exact=True).check()
    page.get_by_label("审核意见").fill("材料齐全，同意。")
    page.get_by_role("button", name="提交审核结果").click()
    expect(page).to_have_url(url("/staff/employers/"))
    expect(page.locator(".messages")).to_contain_text("已保存审核结果：示范市北辰电子有限公司")
    expect(page.get_by_role("row").filter(has_text="示范市北辰电子有限公司")).to_have_count(0)

    employer.refresh_from_db()
    assert employer.status == Employer.Status.APPROVED
    assert employer.reviewed_by == e2e_city.district_reviewer
    assert employer.review_opinion == "材料齐全，同意。"
    log_out(page)

    # The employer logs in again: no pending banner any more.
    password_login(page, url, NEW_CREDIT_CODE, "Beichen#2026")
    expect(page).to_have_url(url("/accounts/me/"))
    expect(page.locator(".facts")).to_contain_text("审核通过")
    expect(page.locator(".status-panel")).to_have_count(0)
    expect(page.get_by_text("待区县人社部门审核")).to_have_count(0)
    expect(page.get_by_role("link", name="审核本单位人员注册")).to_be_visible()
