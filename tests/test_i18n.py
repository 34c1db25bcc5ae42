"""English through Django's i18n: the footer's switch sets the cookie; pages render in English."""

import ast
import re

from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.conftest import set_city


def test_pages_render_in_english_after_switching(client, city):
    call_command("compile_catalogs", stdout=__import__("io").StringIO())
    assert "登录" in client.get("/accounts/login/").content.decode()  # Chinese by default
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in" in page and '<html lang="en">' in page


def _english(client):
    call_command("compile_catalogs", stdout=__import__("io").StringIO())
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def test_home_page_states_the_configured_lockout_count_and_the_city_in_english(
    client, city, settings
):
    set_city(lockout_failures=5)
    page = client.get("/").content.decode()
    assert "密码连续输错5次账号将被锁定" in page and "示范市" in page
    _english(client)
    page = client.get("/").content.decode()
    assert "After 5 wrong passwords in a row" in page
    assert "Demo City" in page and "示范市" not in page.split("<main")[0]


def test_captcha_picture_is_a_labelled_button_in_both_languages(client, city):
    page = client.get("/accounts/login/").content.decode()
    assert '<button type="button" class="captcha-refresh"' in page
    assert 'alt="图形验证码，看不清请按此按钮换一张"' in page
    _english(client)
    page = client.get("/accounts/login/").content.decode()
    assert 'alt="Image code; press this button for another picture if it is hard to read"' in page


def test_api_errors_and_counts_follow_the_language(client, city):
    _english(client)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = strict.post(
        "/api/sms/codes",
        data={"phone": "13800000009", "purpose": "register"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert (
        response.json()["detail"] == "CSRF check failed. Fetch a token from /api/auth/csrf first."
    )
    client.force_login(city.district_reviewer)
    page = client.get("/staff/").content.decode()
    assert "employers waiting" in page or "employer waiting" in page
    assert "家待审核" not in page


def test_staff_account_menu_is_not_labelled_as_an_employer(client, city):
    client.force_login(city.district_reviewer)
    page = client.get(reverse("accounts:info")).content.decode()
    assert "工作人员" in page and "单位情况" not in page
    client.force_login(city.employer_admin)
    assert "单位情况" in client.get(reverse("accounts:info")).content.decode()


LOCALE_DIR = settings.BASE_DIR / "locale" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\([^)]+\)[a-z]|%[sd]")


def _po_entries(path):
    """Each entry of a .po file as (flags, {keyword: text}); entries are separated by blank
    lines and a quoted line continues the keyword above it."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        flags, fields, current = set(), {}, None
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[current] += ast.literal_eval(line)
            else:
                current, _, text = line.partition(" ")
                fields[current] = ast.literal_eval(text)
        if fields:
            entries.append((flags, fields))
    return entries


def test_catalogs_are_complete_and_keep_their_placeholders():
    problems = []
    for name in ("django.po", "djangojs.po"):
        for flags, fields in _po_entries(LOCALE_DIR / name):
            msgid = fields.get("msgid", "")
            if not msgid:
                continue  # the header
            translations = [v for k, v in fields.items() if k.startswith("msgstr")]
            if "fuzzy" in flags:
                problems.append(f"{name}: fuzzy: {msgid}")
            if not translations or any(not t for t in translations):
                problems.append(f"{name}: untranslated: {msgid}")
                continue
            wanted = set(PLACEHOLDER.findall(msgid + fields.get("msgid_plural", "")))
            for key, text in fields.items():
                if not key.startswith("msgstr"):
                    continue
                found = set(PLACEHOLDER.findall(text))
                # An English singular may spell the count out ("One more attempt ...").
                ok = found <= wanted if key == "msgstr[0]" else found == wanted
                if not ok:
                    problems.append(f"{name}: placeholders differ: {msgid} -> {text}")
    assert not problems, "\n".join(problems)


def test_applicant_pages_render_in_english(client, city):
    _english(client)
    client.force_login(city.applicant)
    for url in ("/applications/", "/applications/mine/"):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert '<html lang="en">' in page, url
        assert "Application progress" in page and "Application records" in page, url
        assert "进度查询" not in page and "申报记录" not in page, url


def test_the_check_page_writes_every_rule_in_the_language_it_is_read_in(
    client, city, ready_applicant
):
    """B2: the check page gives each rule's name and reason, passed or failed, in the
    applicant's language. The texts are written only when read (issue 7), so a page read
    in English after one in Chinese must not keep the Chinese ones."""
    from tests.test_applications import living

    draft = living(ready_applicant, "2024-01", "2024-12", deducted=2, explanation="无")
    client.force_login(ready_applicant)
    url = reverse("applications:check", args=[draft.pk])
    page = client.get(url).content.decode()
    assert "受理时间" in page and "常年受理。" in page
    assert "申请月数 = 12 − 扣减月数 2 = 10 个月。" in page
    assert "扣减月数不为0，请在“情况说明”中写明具体情况。" in page  # the failed rule
    _english(client)
    page = client.get(url).content.decode()
    assert "Application period" in page
    assert "Applications are accepted all year round." in page
    assert "Months claimed = 12 − 2 deducted = 10 months." in page
    assert "Months are deducted, so please explain why under “Explanation”." in page
    assert "受理时间" not in page and "扣减月数" not in page
