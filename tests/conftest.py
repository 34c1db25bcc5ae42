"""Named personas (STYLE.md): the demo city gives an applicant, an employer admin, a
district reviewer, a city reviewer, a finance officer and an admin; ``outsider_reviewer``
reviews another district and ``other_employer`` is an approved employer elsewhere."""

import io
import re
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from rencai.accounts.models import User
from rencai.identity import credit_code_check_char, resident_id_check_digit
from rencai.notifications.models import SmsMessage
from rencai.orgs.models import Authority, Employer, Membership, Region

PASSWORD = "Rencai@Demo2026"


def make_id(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


def make_credit_code(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


def latest_sms_code(phone: str) -> str:
    message = SmsMessage.objects.filter(phone=phone).order_by("-id").first()
    assert message is not None, f"no SMS sent to {phone}"
    match = re.search(r"\d{6}", message.body)
    assert match, f"no code in SMS: {message.body}"
    return match.group(0)


def build_city() -> SimpleNamespace:
    """Load the demo city and name its personas. Needs database access: the ``city``
    fixture runs it inside ``db``; the browser tests run it inside ``transactional_db``
    (tests/e2e/conftest.py, ``e2e_city``) because the live server uses its own thread."""
    call_command("load_demo", stdout=io.StringIO())
    dongcheng = Region.objects.get(code="990102")
    xicheng = Region.objects.get(code="990103")
    outsider = User.objects.create_user(
        username="xicheng_reviewer", password=PASSWORD, kind=User.Kind.STAFF, real_name="孙审核"
    )
    Membership.objects.create(
        user=outsider,
        authority=Authority.objects.get(region=xicheng, kind=Authority.Kind.HR_BUREAU),
        role=Membership.Role.REVIEWER,
    )
    tech = Employer.objects.get(name="示范市星河科技有限公司")
    return SimpleNamespace(
        dongcheng=dongcheng,
        xicheng=xicheng,
        tech=tech,
        hospital=Employer.objects.get(name="示范市第一人民医院"),
        dispatch=Employer.objects.get(kind=Employer.Kind.DISPATCH),
        applicant=User.objects.get(kind=User.Kind.PERSON, real_name="张晓明"),
        employer_admin=User.objects.get(username=tech.credit_code),
        district_reviewer=User.objects.get(username="dongcheng_reviewer"),
        city_reviewer=User.objects.get(username="city_reviewer"),
        finance_officer=User.objects.get(username="city_finance"),
        admin=User.objects.get(username="admin"),
        outsider_reviewer=outsider,
    )


@pytest.fixture
def city(db):
    return build_city()


@pytest.fixture
def send_code(client):
    """Ask for an SMS code through the page's endpoint and return the code that was sent."""

    def _send(phone: str, purpose: str, c=None) -> str:
        response = (c or client).post("/accounts/sms/send/", {"phone": phone, "purpose": purpose})
        assert response.status_code == 200, response.content.decode()
        return latest_sms_code(phone)

    return _send


# --- CI guard: `make test` sets RENCAI_REQUIRE_E2E=1; a run without browser tests fails.
_e2e_passed = []


def pytest_runtest_logreport(report):
    if report.when == "call" and report.passed and "e2e" in report.keywords:
        _e2e_passed.append(report.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    terminalreporter.write_line(f"browser tests (Chromium) passed: {len(_e2e_passed)}")


def pytest_sessionfinish(session, exitstatus):
    import os

    if os.environ.get("RENCAI_REQUIRE_E2E") == "1" and not _e2e_passed and exitstatus == 0:
        session.exitstatus = 1
        print("\nRENCAI_REQUIRE_E2E=1 but no browser test ran: failing the run.")
