"""Browser tests in Debian's Chromium (F01, F03, F05, F06, F08; B5 accessibility).

Each flow asserts what the user sees and then the database. axe-core runs from the copy
shipped inside axe-playwright-python (a local file injected into the page)."""

import io
import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import expect, sync_playwright

from rencai.accounts.models import LoginLock, User
from rencai.orgs.models import Employer
from tests.conftest import PASSWORD, latest_sms_code, make_credit_code, make_id

pytestmark = pytest.mark.e2e
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh (apt-get install chromium)"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


@pytest.fixture
def demo(transactional_db, live_server):
    call_command("load_demo", stdout=io.StringIO())
    return live_server.url


def check_a11y(page):
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} → {[n['target'] for n in v['nodes']]}" for v in bad
    )


def password_login(page, url, identifier, password):
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("证件号码 / 统一社会信用代码 / 登录名").fill(identifier)
    page.locator("#id_password").fill(password)
    page.locator("#id_captcha_1").fill("PASSED")
    page.get_by_role("button", name="登录", exact=True).click()


def test_person_registers_and_waits_for_the_employer(page, demo):
    page.goto(f"{demo}/accounts/register/person/")
    check_a11y(page)
    new_id = make_id("99010219970707001")
    page.get_by_label("证件号码").fill(new_id.lower())
    page.get_by_label("姓名").fill("陈思远")
    page.get_by_label("所在单位").select_option(label="示范市星河科技有限公司")
    page.get_by_label("手机号码").fill("13900000101")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator(".sms-status")).to_contain_text("验证码已发送")
    page.get_by_label("短信验证码").fill(latest_sms_code("13900000101"))
    page.get_by_label("登录密码").fill("Siyuan#2026")
    page.get_by_label("确认密码").fill("Siyuan#2026")
    page.locator("#id_captcha_1").fill("PASSED")
    page.get_by_label("我已阅读并同意用户须知和个人申请承诺").check()
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page).to_have_url(f"{demo}/accounts/me/")
    expect(page.locator(".status-panel")).to_contain_text("待单位审核")
    check_a11y(page)
    person = User.objects.get(phone="13900000101")
    assert person.id_number == new_id.upper()
    assert person.registration_status == "pending"


def test_bad_registration_keeps_the_input_and_says_why(page, demo):
    page.goto(f"{demo}/accounts/register/person/")
    page.get_by_label("证件号码").fill("99010219970707001")
    page.get_by_label("姓名").fill("陈 思远")
    page.get_by_role("button", name="注册", exact=True).click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("身份证号码应为18位")
    expect(summary).to_contain_text("中间不能有空格")
    expect(page.get_by_label("姓名")).to_have_value("陈 思远")
    check_a11y(page)
    assert not User.objects.filter(real_name__startswith="陈").exists()


def test_password_login_logout_then_sms_login(page, demo):
    applicant = User.objects.get(real_name="张晓明")
    password_login(page, demo, applicant.id_number, PASSWORD)
    expect(page).to_have_url(f"{demo}/accounts/me/")
    expect(page.locator("h1")).to_have_text("个人中心")
    check_a11y(page)
    page.get_by_role("button", name="退出").click()
    expect(page.get_by_role("link", name="登录", exact=True).first).to_be_visible()

    page.goto(f"{demo}/accounts/login/")
    page.get_by_role("link", name="短信验证码登录").click()
    check_a11y(page)
    page.get_by_label("手机号码").fill("13800000001")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator(".sms-status")).to_contain_text("验证码已发送")
    page.get_by_label("短信验证码").fill(latest_sms_code("13800000001"))
    page.locator("#id_captcha_1").fill("PASSED")
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(f"{demo}/accounts/me/")
    expect(page.locator(".facts")).to_contain_text("张晓明")


def test_ten_wrong_passwords_lock_the_account(page, demo):
    applicant = User.objects.get(real_name="张晓明")
    for _ in range(10):
        password_login(page, demo, applicant.id_number, "wrong-password")
    expect(page.locator(".error-summary")).to_contain_text("账号已锁定")
    expect(page.locator(".error-summary")).to_contain_text("rencai-help@example.gov.cn")
    password_login(page, demo, applicant.id_number, PASSWORD)
    expect(page.locator(".error-summary")).to_contain_text("账号已锁定")
    assert LoginLock.objects.get(user=applicant).locked_at is not None


def test_employer_registers_and_district_reviewer_approves(page, demo):
    code = make_credit_code("91990102MA0000088")
    page.goto(f"{demo}/accounts/register/employer/")
    check_a11y(page)
    page.get_by_label("单位名称").fill("示范市北辰电子有限公司")
    page.get_by_label("统一社会信用代码").fill(code.lower())
    page.get_by_label("所属区县").select_option(label="东城区")
    page.get_by_label("联系人（经办人）").fill("韩北辰")
    page.get_by_label("联系人手机号码").fill("13900000102")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator(".sms-status")).to_contain_text("验证码已发送")
    page.get_by_label("短信验证码").fill(latest_sms_code("13900000102"))
    page.get_by_label("登录密码").fill("Beichen#2026")
    page.get_by_label("确认密码").fill("Beichen#2026")
    page.locator("#id_captcha_1").fill("PASSED")
    page.get_by_label("我已阅读并同意用户须知，承诺所填信息真实").check()
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page.locator(".status-panel")).to_contain_text("待区县人社部门审核")
    assert Employer.objects.get(credit_code=code).status == "pending"
    page.get_by_role("button", name="退出").click()

    password_login(page, demo, "dongcheng_reviewer", PASSWORD)
    page.get_by_role("link", name="工作台", exact=True).click()
    page.get_by_role("link", name="单位注册审核").click()
    check_a11y(page)
    page.get_by_role("link", name="审核 示范市北辰电子有限公司").click()
    page.get_by_label("审核通过").check()
    page.get_by_label("审核意见").fill("材料齐全，同意。")
    page.get_by_role("button", name="提交审核结果").click()
    expect(page.locator(".messages")).to_contain_text("已保存审核结果")
    employer = Employer.objects.get(credit_code=code)
    assert employer.status == "approved" and employer.reviewed_by.username == "dongcheng_reviewer"
    page.get_by_role("button", name="退出").click()

    password_login(page, demo, code, "Beichen#2026")
    expect(page.locator(".facts")).to_contain_text("审核通过")
    expect(page.locator(".status-panel")).to_have_count(0)


@pytest.mark.parametrize("width", [1280, 375])
def test_screenshots_and_accessibility_of_the_main_pages(browser, demo, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    for name, path in [
        ("home", "/"),
        ("register-person", "/accounts/register/person/"),
        ("register", "/accounts/register/"),
        ("login", "/accounts/login/"),
    ]:
        page.goto(demo + path)
        check_a11y(page)
        page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
    password_login(page, demo, User.objects.get(real_name="张晓明").id_number, PASSWORD)
    for name, path in [("centre", "/accounts/me/"), ("password", "/accounts/me/password/")]:
        page.goto(demo + path)
        check_a11y(page)
        page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    context.close()
