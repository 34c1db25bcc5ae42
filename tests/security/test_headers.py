"""HTTP hardening (issue 8): every kind of response — a page, the API, a file, the admin,
the API docs — carries a Content-Security-Policy without inline script, frame denial,
nosniff, Referrer-Policy and Cross-Origin-Opener-Policy; HSTS follows the environment;
no template can bring back an inline script, an ``on*=`` handler or a ``style=""``; and
``manage.py check --deploy`` is clean with production settings."""

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def csp_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_hardened(response, *, frame_ancestors="'none'", xfo="DENY"):
    csp = csp_of(response)
    assert csp["script-src"] == ["'self'"], csp  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["default-src"] == ["'self'"] and csp["style-src"] == ["'self'"], csp
    assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"], csp
    assert csp["img-src"] == ["'self'", "data:"], csp
    assert csp["frame-ancestors"] == [frame_ancestors], csp
    assert response.headers["X-Frame-Options"] == xfo
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    return csp


class ScriptFinder(HTMLParser):
    """Executable inline script in HTML: a <script> without src (JSON data blocks are not
    executed), an on*= attribute, a javascript: URL, a style attribute or <style> block."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and "src" not in attrs and attrs.get("type") != "application/json":
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> block at line {self.getpos()[0]}")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}> at line {self.getpos()[0]}")
            if name == "style":
                self.found.append(f'style="" on <{tag}> at line {self.getpos()[0]}')
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL on <{tag}> at line {self.getpos()[0]}")


def inline_script_in(html: str) -> list[str]:
    finder = ScriptFinder()
    finder.feed(html)
    return finder.found


def project_templates() -> list[Path]:
    dirs = [ROOT / "rencai" / "templates", *ROOT.glob("rencai/*/templates")]
    return sorted(p for d in dirs for p in d.rglob("*.html"))


def test_no_template_has_inline_script_handlers_or_inline_style():
    templates = project_templates()
    assert len(templates) > 80  # the scan really sees the project's templates
    problems = []
    for path in templates:
        text = path.read_text(encoding="utf-8")
        # Template tags inside attributes would confuse the parser; blank them out.
        text = re.sub(r"{%.*?%}|{{.*?}}", "x", text, flags=re.S)
        problems += [f"{path.relative_to(ROOT)}: {p}" for p in inline_script_in(text)]
    assert not problems, "\n".join(problems)


def test_the_scan_catches_each_kind_of_inline_script():
    page = """<script>alert(1)</script><a href="javascript:go()">x</a>
    <button onclick="go()">x</button><p style="color:red"></p><style>p{}</style>
    <script src="/static/ok.js"></script><script type="application/json">{}</script>"""
    assert len(inline_script_in(page)) == 5


def test_a_page_the_api_a_file_and_the_admin_carry_the_headers(city, ready_applicant, client):
    from rencai.profiles.models import Material

    home = client.get("/")
    assert home.status_code == 200 and not inline_script_in(home.content.decode())
    assert_hardened(home)
    assert_hardened(client.get("/api/city"))
    assert_hardened(client.get("/no-such-page/"))  # a 404 too

    client.force_login(ready_applicant)
    material = Material.objects.filter(owner=ready_applicant).first()
    download = client.get(reverse("profiles:material_download", args=[material.pk]))
    assert download.status_code == 200
    assert_hardened(download)
    # The material preview frames its own file: this site only, and the PDF viewer runs.
    preview = client.get(reverse("profiles:material_file", args=[material.pk]))
    csp = assert_hardened(preview, frame_ancestors="'self'", xfo="SAMEORIGIN")
    assert csp["object-src"] == ["'self'"]
    assert csp_of(home)["object-src"] == ["'none'"]

    client.force_login(city.admin)
    for path in ("/admin/", "/admin/accounts/user/", "/admin/accounts/user/add/"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert_hardened(page)
        # Django's admin loads its code from static files and passes data in data-*.
        found = [p for p in inline_script_in(page.content.decode()) if "script" in p]
        assert not found, (path, found)


def test_the_api_docs_work_under_the_strict_policy(db, client):
    """django-ninja renders Swagger UI from static files; its settings travel in a JSON
    data block, so /api/docs needs no exception from the policy."""
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert_hardened(docs)
    html = docs.content.decode()
    assert "swagger-ui-bundle.js" in html and "swagger-ui-init.js" in html
    assert [p for p in inline_script_in(html) if "script" in p] == []


def test_hsts_follows_the_settings(db, client, settings):
    assert django_settings.SECURE_HSTS_SECONDS == 0  # development default: off
    assert "Strict-Transport-Security" not in client.get("/", secure=True).headers
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    client = Client()  # SecurityMiddleware reads its settings when it is built
    assert (
        client.get("/", secure=True).headers["Strict-Transport-Security"]
        == "max-age=31536000; includeSubDomains; preload"
    )
    assert "Strict-Transport-Security" not in client.get("/").headers  # never over HTTP


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "rencai.settings",
    "DEBUG": "0",
    "SECRET_KEY": "rQ8v-2mK_x9Lw3ZpT6yN1bHc4Jf7Gd0Se5Ua8Ri2Oq6Ve9Yt3Wk1Xn7Mz4Pl0Bj5Hs",
    "ALLOWED_HOSTS": "rencai.example.gov.cn",
    "CSRF_TRUSTED_ORIGINS": "https://rencai.example.gov.cn",
    "SECURE_COOKIES": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_PROXY_SSL_HEADER": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def run_in_settings(env: dict, tmp_path, *args) -> subprocess.CompletedProcess:
    # Production has none of the test run's switches (the browser tests' conftest sets
    # DJANGO_ALLOW_ASYNC_UNSAFE for itself, which the deploy check rightly reports).
    dropped = {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION and k not in dropped}
    clean.update(
        RENCAI_VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/deploy.sqlite3", **env
    )
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    manage = ["manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    done = run_in_settings(PRODUCTION, tmp_path, *manage)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues (0 silenced)" in done.stdout
    # The check is real: forgetting HSTS or the secure cookies in production is reported.
    without = {**PRODUCTION, "SECURE_HSTS_SECONDS": "0", "SECURE_COOKIES": "0"}
    done = run_in_settings(without, tmp_path, *manage)
    assert done.returncode != 0
    for check in ("security.W004", "security.W012", "security.W016"):
        assert check in done.stderr + done.stdout, check


def test_frame_denial_and_headers_hold_in_development_too(tmp_path):
    probe = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.X_FRAME_OPTIONS, s.SECURE_HSTS_SECONDS, s.SECURE_REFERRER_POLICY, "
        "s.SECURE_CROSS_ORIGIN_OPENER_POLICY, 'rencai.security.SecurityHeadersMiddleware' "
        "in s.MIDDLEWARE)"
    )
    done = run_in_settings(
        {"DJANGO_SETTINGS_MODULE": "rencai.settings", "DEBUG": "1"}, tmp_path, "-c", probe
    )
    assert done.stdout.split() == ["True", "DENY", "0", "same-origin", "same-origin", "True"], (
        done.stdout + done.stderr
    )


@pytest.mark.parametrize("value", ["forever", "-1"])
def test_a_malformed_hsts_value_stops_start_up(tmp_path, value):
    env = {"DJANGO_SETTINGS_MODULE": "rencai.settings", "SECURE_HSTS_SECONDS": value}
    done = run_in_settings(env, tmp_path, "-c", "import django; django.setup()")
    assert done.returncode != 0 and "SECURE_HSTS_SECONDS" in done.stderr
