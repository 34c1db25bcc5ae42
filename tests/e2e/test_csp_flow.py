"""The Content-Security-Policy in Chromium (issue 8): with the strict policy (script only
from this site's files, no inline script or style), the pages whose script or layout
depends on it work and the browser reports no violation — the reviewer's application page
with 显示完整号码, the statistics bars (widths set from site.js), the Swagger API docs and
the Django admin. A screenshot shows the masked ID number next to a revealed one."""

import re

import pytest
from playwright.sync_api import expect

from rencai.applications import transitions as t
from rencai.audit.models import AuditEntry
from tests.conftest import PASSWORD, prepare_applicant
from tests.e2e.conftest import SCREENSHOTS, log_out, password_login
from tests.test_dispatch import chain_living

pytestmark = pytest.mark.e2e

# Runs before the page's own script, outside the page's CSP: records each violation.
LISTEN = """window.__csp = [];
document.addEventListener('securitypolicyviolation', e =>
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' +
                    (e.sourceFile || '') + ':' + e.lineNumber));"""


def violations(page, console) -> list[str]:
    return page.evaluate("window.__csp || []") + [
        m for m in console if "Content Security Policy" in m
    ]


def test_pages_work_under_the_policy_and_report_no_violation(
    page, url, e2e_city, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    applicant = prepare_applicant(e2e_city.applicant)
    app = chain_living(applicant)
    app = t.approve(actor=e2e_city.employer_admin, application=app)
    console = []
    page.on("console", lambda m: console.append(m.text))
    page.context.add_init_script(LISTEN)
    seen = {}

    def visit(path):
        page.goto(url(path))
        seen[path] = violations(page, console)
        console.clear()

    visit("/")
    # The listener works: a picture from another site is refused and reported (the
    # request is never made).
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', "
        '\'<img src="http://198.51.100.1/x.png" alt="">\')'
    )
    page.wait_for_function("window.__csp.length > 0")
    assert "img-src http://198.51.100.1/x.png" in page.evaluate("window.__csp")[0]
    console.clear()
    password_login(page, url, "dongcheng_reviewer", PASSWORD)
    visit(f"/staff/applications/{app.pk}/")
    masked = applicant.id_number[:4] + "**********" + applicant.id_number[-4:]
    facts = page.locator(".facts").filter(has_text="证件号码")
    expect(facts).to_contain_text(masked)
    assert applicant.id_number not in page.content()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    facts.screenshot(path=str(SCREENSHOTS / "reveal-masked-id.png"))
    page.get_by_role("button", name="显示完整号码").click()  # site.js asks in place
    expect(facts).to_contain_text(applicant.id_number)
    expect(page.get_by_role("button", name="显示完整号码")).to_have_count(0)
    assert page.url.endswith(f"/staff/applications/{app.pk}/")  # no page change
    assert AuditEntry.objects.filter(
        action="personal_data.reveal",
        actor=e2e_city.district_reviewer,
        object_id=str(applicant.pk),
    ).exists()
    page.screenshot(path=str(SCREENSHOTS / "reveal-full-id-1280.png"), full_page=True)
    seen["reveal"] = violations(page, console)

    visit("/staff/statistics/")
    bar = page.locator(".bar-chart .bar").first
    expect(bar).to_have_attribute("data-width", "100")
    assert bar.evaluate("el => el.getBoundingClientRect().width") > 100  # width from site.js

    visit("/api/docs")
    expect(page.locator(".swagger-ui .title")).to_contain_text("Rencai API")
    page.screenshot(path=str(SCREENSHOTS / "api-docs-csp-1280.png"))
    page.goto(url("/"))
    log_out(page)

    page.goto(url("/admin/login/"))
    page.get_by_label(re.compile("用户名|Username")).fill("admin")
    page.get_by_label(re.compile("密码|Password")).fill(PASSWORD)
    page.locator("input[type=submit]").click()
    for path in ("/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/"):
        visit(path)
        expect(page.locator("#content")).to_be_visible()
    # The change list's select-all box is wired by the admin's static actions.js.
    page.goto(url("/admin/accounts/user/"))
    page.locator("#action-toggle").check()
    expect(page.locator(".action-counter")).to_contain_text(re.compile(r"\d+ / \d+|选"))
    seen["admin actions"] = violations(page, console)

    assert {path: found for path, found in seen.items() if found} == {}
    assert len(seen) == 9
