"""Browser-test plumbing: one Debian Chromium per session, a fresh context per test, the
demo city in a transactional database (the live server answers from its own thread),
and small helpers that act like a user (label → fill → click) and run axe-core.

axe-core is the copy shipped inside axe-playwright-python, injected from a local file;
nothing is fetched from the network."""

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright

from tests.conftest import build_city, latest_sms_code

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# next to one unless told that this is deliberate (the tests do not share connections).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
TIMEOUT_MS = 10_000
_axe = Axe()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, never a downloaded one. Missing → the tests FAIL, not skip."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser tests need Debian's chromium "
            "package (run `bash scripts/ensure-chromium.sh` or `apt-get install chromium`). "
            "Do not run `playwright install`.",
            pytrace=False,
        )
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}", pytrace=False)
        yield b
        b.close()


def new_page(browser, width=1280, height=900):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.js_errors = []  # uncaught exceptions in the page's own script
    pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))
    return pg


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) at 1280×900, zh-CN."""
    pg = new_page(browser)
    yield pg
    errors = pg.js_errors
    pg.context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def e2e_city(transactional_db, live_server):
    """The demo city (personas as in ``city``), committed so the live server sees it."""
    return build_city()


@pytest.fixture
def url(live_server):
    """``url("/accounts/login/")`` → absolute address on the live server."""
    return lambda path: live_server.url + path


# --- helpers acting like a user ---------------------------------------------------------


def password_login(page, url, identifier: str, password: str) -> None:
    page.goto(url("/accounts/login/"))
    page.get_by_label("证件号码 / 统一社会信用代码 / 登录名").fill(identifier)
    page.get_by_label(re.compile(r"^密码")).fill(password)
    page.get_by_label("图形验证码").fill("PASSED")
    page.get_by_role("button", name="登录", exact=True).click()


def log_out(page) -> None:
    page.get_by_role("button", name="退出").click()
    expect(page.locator(".messages")).to_contain_text("您已安全退出")
    expect(page.get_by_role("navigation", name="主导航")).to_contain_text("登录")


def request_sms_code(page, phone: str) -> str:
    """Click 获取验证码 (site.js posts to /accounts/sms/send/), wait for the status text,
    then read the code the way the user would: from the SMS (the outbox table). The answer
    may wait up to SQLite's 20 s lock timeout when CI runs both legs on two cores, so it is
    awaited for 30 s, and a refusal shows its status and body."""
    with page.expect_response(lambda r: "/accounts/sms/send/" in r.url, timeout=30_000) as sent:
        page.get_by_role("button", name="获取验证码").click()
    answer = sent.value
    assert answer.status == 200, f"sms/send answered {answer.status}: {answer.text()[:500]}"
    expect(page.locator(".sms-status")).to_have_text(
        "验证码已发送，请查看手机短信（5分钟内有效）。"
    )
    expect(page.locator(".sms-send")).to_be_disabled()  # the 60 s countdown runs
    return latest_sms_code(phone)


# axe only lists an aria-describedby/-labelledby that points nowhere as "incomplete" (the
# id might appear later); on these server-rendered pages it is simply broken: a help text
# that a screen reader never reads out.
_BROKEN_IDREFS = """() => [...document.querySelectorAll('[aria-describedby], [aria-labelledby]')]
  .flatMap(el => ['aria-describedby', 'aria-labelledby'].flatMap(attr =>
    (el.getAttribute(attr) || '').split(/\\s+/).filter(id => id && !document.getElementById(id))
      .map(id => `#${el.id || el.tagName.toLowerCase()} ${attr}="${id}"`)))"""


def serious_violations(page) -> list[dict]:
    """axe-core's violations of impact serious or critical on the current page, plus ARIA
    references to ids that do not exist."""
    results = _axe.run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    broken = page.evaluate(_BROKEN_IDREFS)
    if broken:
        bad.append(
            {
                "id": "aria-idref-exists",
                "impact": "serious",
                "help": "aria-describedby / aria-labelledby must name an element on the page",
                "helpUrl": "https://www.w3.org/TR/wai-aria-1.2/#aria-describedby",
                "nodes": [{"target": [ref]} for ref in broken],
            }
        )
    return bad


def describe_violations(where: str, violations: list[dict]) -> str:
    lines = [f"axe: {len(violations)} serious/critical violation(s) on {where}:"]
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}] {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    at {node['target']}: {node.get('failureSummary', '')}")
    return "\n".join(lines)


def _on_page(page, where: str) -> None:
    """Wait until the page the check is about has loaded. A check that names its address
    ("/me/profile/education/add/", "/talent/ classified") waits for that address: run
    straight after a click, axe would otherwise check the page being left, or fail when
    the document goes away under it."""
    address = where.split(" ", 1)[0]
    if address.startswith("/") and "<" not in address:
        with_query = "?" in address

        def arrived(url: str) -> bool:
            parts = urlsplit(url)
            return unquote(parts.path + (f"?{parts.query}" if with_query else "")) == address

        page.wait_for_url(arrived)
    page.wait_for_load_state("load")


def check_a11y(page, where: str = "") -> None:
    """Fail, listing id, impact, help and target nodes, on any serious/critical violation."""
    _on_page(page, where)
    bad = serious_violations(page)
    if bad:
        message = describe_violations(where or page.url, bad)
        print(message)
        pytest.fail(message, pytrace=False)
