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


@pytest.fixture
def ready_applicant(city, settings, tmp_path):
    """The demo applicant with a profile, a bachelor's degree and one uploaded material of
    each type the CITY and INDUSTRY programs ask for (files really stored under tmp)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return prepare_applicant(city.applicant)


def approved_person(city, first17: str, real_name: str, phone: str) -> User:
    """Another approved person at the demo employer, with a profile and materials
    (``prepare_applicant``). The login name is not the ID number (issue 8)."""
    person = User.objects.create_user(
        username=f"person{first17[-6:]}",
        id_number=make_id(first17),
        password=PASSWORD,
        kind=User.Kind.PERSON,
        real_name=real_name,
        phone=phone,
        employer=city.tech,
        registration_status="approved",
    )
    return prepare_applicant(person)


def prepare_applicant(user, *, level="bachelor"):
    import datetime
    import hashlib

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from rencai.profiles.models import Education, Material, Profile, School

    Profile.objects.update_or_create(
        user=user,
        defaults={
            "ethnicity": "01",
            "party": "13",
            "household_address": "示范市东城区幸福路1号",
            "current_address": "示范市东城区幸福路1号",
            "position": "工程师",
        },
    )
    Education.objects.filter(owner=user).delete()
    Education.objects.create(
        owner=user,
        school=School.objects.order_by("id").first(),
        major="计算机科学与技术",
        level=level,
        degree="bachelor",
        graduation_date=datetime.date(2020, 6, 30),
        diploma_number="102481202005000123",
        is_highest=True,
    )
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    for material_type in ("diploma", "degree", "labour_contract", "rental_contract"):
        material = Material(
            owner=user,
            material_type=material_type,
            original_name=f"{material_type}.pdf",
            size=len(pdf),
            content_type="application/pdf",
            sha256=hashlib.sha256(pdf).hexdigest(),
            uploaded_at=timezone.now(),
        )
        material.file.save(f"materials/{user.pk}/{material_type}.pdf", ContentFile(pdf), save=False)
        material.save()
    return user


def set_city(**values):
    """Change the loaded city pack's settings (what an operator does in policies/*.yaml)."""
    from rencai.programs.models import Pack

    pack = Pack.objects.get(code="city")
    pack.city = {**pack.city, **values}
    pack.save()


def import_outside_data(
    tmp_path, user, *, status="normal", months=("2020-07", "2026-10"), gaps=(), start_level=None
):
    """Import, through the administrator's import, the social-insurance and registry
    records that make ``user`` (see ``prepare_applicant``) pass CHAIN's rules: insured,
    contributions every month in ``months`` except ``gaps``, the diploma in the registry,
    and a 3-year labour contract with the current employer in the work history."""
    import datetime

    from rencai.integrations.services import import_file
    from rencai.profiles.models import Education, WorkHistory
    from rencai.programs import months as m

    (tmp_path / "insured.csv").write_text(
        "id_number,name,status,bank_name,bank_account\n"
        f"{user.id_number},{user.real_name},{status},示范银行东城支行,6217000012345678901\n",
        encoding="utf-8",
    )
    first, last = m.parse_month(months[0]), m.parse_month(months[1])
    rows = [
        f"{user.id_number},{m.month_label(i)},示范单位,500.00"
        for i in range(first, last + 1)
        if m.month_label(i) not in gaps
    ]
    (tmp_path / "contributions.csv").write_text(
        "id_number,month,employer_name,amount\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    edu = Education.objects.filter(owner=user).first()
    (tmp_path / "certificates.csv").write_text(
        "number,kind,holder_name,holder_id_number,school_name,level,awarded_on\n"
        f"{edu.diploma_number},diploma,{user.real_name},{user.id_number},{edu.school.name},"
        f"{edu.level},2020-06-30\n",
        encoding="utf-8",
    )
    for kind in ("insured", "contributions", "certificates"):
        batch = import_file(kind, tmp_path / f"{kind}.csv")
        assert batch.rejected_count == 0, batch.rejected_rows
    WorkHistory.objects.get_or_create(
        owner=user,
        employer=user.employer,
        defaults={
            "kind": "work",
            "organisation_name": user.employer.name,
            "district": user.employer.district,
            "start_date": datetime.date(2020, 7, 1),
            "contract_start": datetime.date(2020, 7, 1),
            "contract_end": datetime.date(2025, 6, 30),
        },
    )


@pytest.fixture(autouse=True)
def chinese_by_default():
    """Every test starts in the default language (a request in English in an earlier test
    must not leak into the next one's messages)."""
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.deactivate()
