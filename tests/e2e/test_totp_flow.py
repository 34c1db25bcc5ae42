"""Issue 8: a staff member's first login in a real Chromium — password, then binding an
authenticator app (the secret is read off the page and the code computed as the app
would), the recovery codes, then the staff area; the next login asks only the code."""

import pytest
from playwright.sync_api import expect

from rencai.accounts import totp
from rencai.accounts.models import StaffTotp
from tests.conftest import PASSWORD
from tests.e2e.conftest import SCREENSHOTS, check_a11y, log_out, password_login

pytestmark = pytest.mark.e2e


def test_staff_member_binds_an_app_then_reaches_the_staff_area(page, url, e2e_city, settings):
    settings.RENCAI_STAFF_TOTP = True
    reviewer = e2e_city.district_reviewer
    password_login(page, url, reviewer.username, PASSWORD)
    expect(page).to_have_url(url("/accounts/login/totp/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("绑定动态口令")
    # The staff area is out of reach until the code is confirmed.
    page.goto(url("/staff/"))
    expect(page).to_have_url(url("/accounts/login/totp/?next=%2Fstaff%2F"))
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    uri = page.get_by_label("或将以下地址复制到支持它的应用中：").input_value()
    assert uri.startswith("otpauth://totp/") and f"secret={secret}&" in uri
    check_a11y(page, "TOTP enrolment")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "totp-enrol.png"), full_page=True)

    page.get_by_label("动态口令").fill(totp.code_at(secret, totp.current_step()))
    page.get_by_role("button", name="确认绑定").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("动态口令已绑定")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    page.screenshot(path=str(SCREENSHOTS / "totp-recovery-codes.png"), full_page=True)
    page.get_by_role("link", name="我已保存，继续").click()
    expect(page).to_have_url(url("/staff/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    record = StaffTotp.objects.get(user=reviewer)
    assert secret not in record.secret_encrypted

    # The next login asks for a code only; the secret is not shown again. The code of the
    # next 30-second step (the app's clock may run ahead by one step) is accepted.
    log_out(page)
    password_login(page, url, reviewer.username, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("动态口令验证")
    expect(page.locator("main")).not_to_contain_text(secret[:8])
    page.get_by_label("动态口令").fill(totp.code_at(secret, totp.current_step() + 1))
    page.screenshot(path=str(SCREENSHOTS / "totp-verify.png"), full_page=True)
    page.get_by_role("button", name="验证并登录").click()
    expect(page).to_have_url(url("/accounts/me/"))
    expect(page.locator(".messages")).to_contain_text("登录成功，欢迎您")
