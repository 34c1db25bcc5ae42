"""Accessibility (axe-core, local copy) of the account and review pages, and full-page
screenshots at desktop (1280 px) and phone (375 px) width into var/screenshots/."""

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    SCREENSHOTS,
    check_a11y,
    describe_violations,
    log_out,
    new_page,
    password_login,
    serious_violations,
)

pytestmark = pytest.mark.e2e

ANONYMOUS_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/login/sms/",
    "/accounts/register/",
    "/accounts/register/person/",
    "/accounts/register/employer/",
    "/policies/match/?education=bachelor&employed=on",
    "/notices/",
    "/policies/",
    "/announcements/",
    "/recruitment/",
    "/downloads/",
    "/no-such-page/",  # the 404 page
]
APPLICANT_PAGES = [
    "/accounts/me/",
    "/accounts/me/password/",
    "/applications/",
    "/applications/mine/",
    "/applications/records/",
    "/applications/messages/",
]
REVIEWER_PAGES = ["/staff/", "/staff/employers/"]


def log_in_as(page, url, who: str, city) -> None:
    identifier = {"applicant": city.applicant.id_number, "reviewer": "dongcheng_reviewer"}[who]
    password_login(page, url, identifier, PASSWORD)
    expect(page).to_have_url(url("/accounts/me/"))


def assert_accessible(page, url, paths) -> None:
    """Visit every page and fail once, listing every serious/critical violation."""
    reports = []
    for path in paths:
        page.goto(url(path))
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        bad = serious_violations(page)
        if bad:
            reports.append(describe_violations(path, bad))
    if reports:
        message = "\n".join(reports)
        print(message)
        pytest.fail(message, pytrace=False)


@pytest.mark.parametrize(
    "who, paths",
    [("anonymous", ANONYMOUS_PAGES), ("applicant", APPLICANT_PAGES), ("reviewer", REVIEWER_PAGES)],
)
def test_pages_have_no_serious_accessibility_violations(page, url, e2e_city, who, paths):
    if who != "anonymous":
        log_in_as(page, url, who, e2e_city)
    assert_accessible(page, url, paths)


def test_form_with_errors_is_accessible_and_keeps_the_input(page, url, e2e_city):
    page.goto(url("/accounts/register/person/"))
    page.get_by_label("证件号码").fill("99010219970707001")
    page.get_by_label("姓名").fill("陈 思远")
    page.get_by_role("button", name="注册", exact=True).click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("身份证号码应为18位，您填写了17位")
    expect(summary).to_contain_text("中间不能有空格")
    expect(page.get_by_label("姓名")).to_have_value("陈 思远")
    summary.get_by_role("link", name="证件号码：身份证号码应为18位").click()
    expect(page.get_by_label("证件号码")).to_be_focused()
    assert not serious_violations(page), describe_violations(
        "register/person with errors", serious_violations(page)
    )


@pytest.mark.parametrize("width", [1280, 375])
def test_screenshots_at_desktop_and_phone_width(browser, url, e2e_city, width):
    """Full-page PNGs for a person to look at; nothing may be wider than the screen."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page(browser, width=width)
    try:
        shots = [
            ("home", "/"),
            ("register-person", "/accounts/register/person/"),
            ("not-found", "/no-such-page/"),
        ]
        for name, path in shots:
            page.goto(url(path))
            page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
            check_layout(page, path, width)
        log_in_as(page, url, "applicant", e2e_city)
        page.goto(url("/accounts/me/"))
        expect(page.locator(".facts")).to_contain_text("张晓明")
        page.screenshot(path=SCREENSHOTS / f"centre-{width}.png", full_page=True)
        check_layout(page, "/accounts/me/", width)
        # The one wide table: it scrolls inside its own box, never the whole page.
        log_out(page)
        log_in_as(page, url, "reviewer", e2e_city)
        page.goto(url("/staff/employers/?status=all"))
        expect(page.get_by_role("row")).not_to_have_count(0)
        page.screenshot(path=SCREENSHOTS / f"staff-employers-{width}.png", full_page=True)
        check_layout(page, "/staff/employers/", width)
        assert not page.js_errors, page.js_errors
    finally:
        page.context.close()


def check_layout(page, path: str, width: int) -> None:
    """No serious/critical axe violation at this width, and no sideways scrolling."""
    check_a11y(page, f"{path} at {width}px")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{path} is {scroll_width}px wide at a {width}px viewport"
