"""Personal data on display (issue 8): "A bureau once published a subsidy list with full ID
and phone numbers. That must be impossible here."

One city with known full values — ID numbers, mobile numbers, a bank account, an
objector's contact — is rendered through every list, export and public page as each
persona; the response (HTML, JSON, XLSX cells, PDF text) is searched for every full value.
A value may appear only where the case's ``allowed`` names it, because that viewer's role
needs it: the applicant's own form and payout account, finance's bank file. A reviewer
sees masked values and may ask for one in full (显示完整号码); that reveal is audited.

To cover a new page, add a ``Case`` to ``CASES``."""

import io
from dataclasses import dataclass, field

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from rencai.accounts.models import User
from rencai.applications import transitions as t
from rencai.applications.models import Application, Objection
from rencai.audit.models import AuditEntry
from rencai.identity import mask_contact, mask_id_number
from tests.conftest import PASSWORD, approved_person, make_id
from tests.test_dispatch import chain_living
from tests.test_payouts import to_city_finance

BANK_ACCOUNT = "6217000012345678901"  # tests.conftest.import_outside_data


@dataclass(frozen=True)
class Case:
    name: str
    persona: str | None  # a name in World.users; None = not signed in
    path: str  # formatted with World.ids, e.g. "/staff/applications/{second_app}/"
    allowed: frozenset = frozenset()  # labels of World.values this viewer may see in full
    method: str = "get"
    data: dict = field(default_factory=dict)
    why: str = ""  # the role's need, for every case with ``allowed``


OWN = "the applicant's own"
CASES = [
    # --- public pages: never a full value -------------------------------------------------
    Case("home", None, "/"),
    Case("public notices", None, "/notices/"),
    Case("public notice (closed)", None, "/notices/{closed_notice}/"),
    Case("public notice (open, objections)", None, "/notices/{open_notice}/"),
    Case("public notice (2nd page)", None, "/notices/{open_notice}/?page=2"),
    Case("API city", None, "/api/city"),
    # --- the applicant ------------------------------------------------------------------
    Case("personal centre", "applicant", "/accounts/me/"),
    Case("profile", "applicant", "/me/profile/"),
    Case("my applications", "applicant", "/applications/mine/"),
    Case("application records", "applicant", "/applications/records/"),
    Case("messages", "applicant", "/applications/messages/"),
    Case(
        "own application (payout account)",
        "applicant",
        "/applications/{app}/",
        frozenset({"applicant.bank_account"}),
        why=f"{OWN} payout account, to check before receipt",
    ),
    Case(
        "own application form PDF",
        "applicant",
        "/applications/{app}/pdf/",
        frozenset({"applicant.id_number", "applicant.phone"}),
        why=f"{OWN} form, printed and signed",
    ),
    Case("API me", "applicant", "/api/me"),  # the login name is never the ID number
    Case("API my applications", "applicant", "/api/applications"),
    Case("API my application", "applicant", "/api/applications/{app}"),
    # --- the employer ---------------------------------------------------------------------
    Case("roster", "employer_admin", "/applications/roster/"),
    Case("roster XLSX", "employer_admin", "/applications/roster/?export=xlsx"),
    Case("people to review", "employer_admin", "/staff/people/?status=all"),
    Case("person registration", "employer_admin", "/staff/people/{registrant}/"),
    Case("employer queue", "employer_admin", "/staff/applications/"),
    Case("employer application", "employer_admin", "/staff/applications/{second_app}/"),
    Case("employer form PDF", "employer_admin", "/applications/{second_app}/pdf/"),
    # --- the district HR bureau -----------------------------------------------------------
    Case("district queue", "district_reviewer", "/staff/applications/?status=all"),
    Case("district application", "district_reviewer", "/staff/applications/{second_app}/"),
    Case("district form PDF", "district_reviewer", "/applications/{second_app}/pdf/"),
    Case("notices desk", "district_reviewer", "/staff/notices/"),
    Case("notice with objection", "district_reviewer", "/staff/notices/{open_notice}/"),
    Case("notice XLSX", "district_reviewer", "/staff/notices/{open_notice}/?export=xlsx"),
    Case("employers to review", "district_reviewer", "/staff/employers/?status=all"),
    Case("employer registration", "district_reviewer", "/staff/employers/{employer}/"),
    Case("registration changes", "district_reviewer", "/staff/changes/"),
    Case("statistics", "district_reviewer", "/staff/statistics/"),
    Case("statistics XLSX", "district_reviewer", "/staff/statistics/?export=xlsx"),
    Case("API review queue", "district_reviewer", "/api/review/queue"),
    Case("API review application", "district_reviewer", "/api/review/applications/{second_app}"),
    # --- the city HR bureau and finance ----------------------------------------------------
    Case("reports desk", "city_reviewer", "/staff/reports/"),
    Case("city application", "city_reviewer", "/staff/applications/{app}/"),
    Case("payout desk", "finance_officer", "/staff/payouts/"),
    Case("payout batch", "finance_officer", "/staff/payouts/{batch}/"),
    Case(
        "bank payout file",
        "finance_officer",
        "/staff/payouts/{batch}/",
        frozenset({"applicant.bank_account"}),
        method="post",
        data={"action": "export"},
        why="the bank pays to the full account; each export is audited (payout.export)",
    ),
    # --- the system administrator ----------------------------------------------------------
    Case("admin users", "admin", "/admin/accounts/user/"),
    Case(
        "admin user account",
        "admin",
        "/admin/accounts/user/{second}/change/",
        frozenset({"second.id_number", "second.phone"}),
        why="the system administrator corrects a person's account data; changes are audited",
    ),
    Case("admin audit log", "admin", "/admin/audit/auditentry/"),
    Case("admin SMS outbox", "admin", "/admin/notifications/smsmessage/"),
    Case("admin earlier-system records", "admin", "/admin/accounts/legacyrecord/"),
    Case("admin insured people", "admin", "/admin/integrations/insuredperson/"),
]


@dataclass
class World:
    users: dict
    ids: dict
    values: dict  # label -> full value


@pytest.fixture
def world(city, ready_applicant, tmp_path):
    applicant = ready_applicant
    second = approved_person(city, "99010219990101001", "欧阳小明", "13900000301")
    registrant = User.objects.create_user(
        username=make_id("99010220000202003"),
        id_number=make_id("99010220000202003"),
        password=PASSWORD,
        kind=User.Kind.PERSON,
        real_name="钱新人",
        phone="13900000302",
        employer=city.tech,
        registration_status="pending",
    )
    city.tech.phone = "13700000007"
    city.tech.save(update_fields=["phone"])

    app = to_city_finance(city, applicant)  # published (and closed) a notice on the way
    batch = t.payout_batch_create(actor=city.finance_officer, application_ids=[app.pk])
    (tmp_path / "second").mkdir()
    second_app = chain_living(second, tmp_path=tmp_path / "second")
    second_app = t.approve(actor=city.employer_admin, application=second_app)
    second_app = t.approve(actor=city.district_reviewer, application=second_app)
    open_notice = t.notice_publish(
        actor=city.district_reviewer, application_ids=[second_app.pk], title="第二批公示"
    )
    entry = open_notice.entries.get()
    Objection.objects.create(entry=entry, name="李先生", contact="13900001111", content="核实")
    closed = Application.objects.get(pk=app.pk).notice_entries.get().notice
    assert open_notice.is_open and not closed.is_open
    return World(
        users={
            "applicant": applicant,
            "employer_admin": city.employer_admin,
            "district_reviewer": city.district_reviewer,
            "city_reviewer": city.city_reviewer,
            "finance_officer": city.finance_officer,
            "admin": city.admin,
        },
        ids={
            "app": app.pk,
            "second_app": second_app.pk,
            "batch": batch.pk,
            "open_notice": open_notice.pk,
            "closed_notice": closed.pk,
            "registrant": registrant.pk,
            "second": second.pk,
            "employer": city.tech.pk,
        },
        values={
            "applicant.id_number": applicant.id_number,
            "applicant.phone": applicant.phone,
            "applicant.bank_account": BANK_ACCOUNT,
            "second.id_number": second.id_number,
            "second.phone": second.phone,
            "registrant.id_number": registrant.id_number,
            "registrant.phone": registrant.phone,
            "employer.phone": city.tech.phone,
            "objector.contact": "13900001111",
        },
    )


def response_text(response) -> str:
    """What the viewer receives, as text: HTML or JSON as is, XLSX cell by cell, PDF as
    the text a reader extracts (the bytes of both are compressed)."""
    content = (
        b"".join(response.streaming_content) if response.streaming else bytes(response.content)
    )
    kind = response.headers.get("Content-Type", "")
    if "spreadsheetml" in kind:
        book = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(
            "\t".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    if kind.startswith("application/pdf"):
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return content.decode("utf-8")


def test_no_page_export_or_public_list_shows_a_full_value_it_must_not(
    world, client, security_counts
):
    counts = security_counts("personal data")
    leaks = []
    for case in CASES:
        assert case.allowed <= set(world.values), case.name
        assert not case.allowed or case.why, f"{case.name}: say why the role needs it"
        client.logout()
        if case.persona:
            client.force_login(world.users[case.persona])
        path = case.path.format(**world.ids)
        response = getattr(client, case.method)(path, case.data)
        assert response.status_code == 200, (case.name, path, response.status_code)
        text = response_text(response)
        counts.add("pages scanned")
        for label, value in world.values.items():
            shown = value in text
            if shown and label not in case.allowed:
                leaks.append(f"{case.name} ({case.persona or 'anonymous'}, {path}): {label}")
            if label in case.allowed:
                # The scan sees what it looks for: an allowed value is really there.
                assert shown, f"{case.name}: expected the full {label}"
    counts.add("full values leaked", len(leaks))
    assert not leaks, "full values shown:\n" + "\n".join(leaks)
    # The bank file went out with full accounts, so it is on the audit log.
    assert AuditEntry.objects.filter(
        action="payout.export", actor=world.users["finance_officer"]
    ).exists()


def test_the_public_notice_shows_masked_values(world, client):
    page = client.get(f"/notices/{world.ids['open_notice']}/").content.decode()
    assert mask_id_number(world.values["second.id_number"]) in page
    assert "欧*小明" not in page and "欧**明" in page


def reveal(client, kind, pk, field, *, json=True):
    headers = {"Accept": "application/json"} if json else {}
    return client.post(
        reverse("portal:reveal"),
        {"kind": kind, "pk": pk, "field": field, "next": "/staff/"},
        headers=headers,
    )


def test_a_reviewer_reveals_a_full_id_and_the_audit_names_who_saw_whose(world, client):
    reviewer = world.users["district_reviewer"]
    second = User.objects.get(id_number=world.values["second.id_number"])
    client.force_login(reviewer)
    page = client.get(f"/staff/applications/{world.ids['second_app']}/").content.decode()
    assert mask_id_number(second.id_number) in page and "显示完整号码" in page

    before = AuditEntry.objects.count()
    response = reveal(client, "application", world.ids["second_app"], "id_number")
    assert response.status_code == 200 and response.json() == {"value": second.id_number}
    row = AuditEntry.objects.order_by("-id").first()
    assert AuditEntry.objects.count() == before + 1
    assert (row.action, row.actor_id, row.object_type, row.object_id) == (
        "personal_data.reveal",
        reviewer.pk,
        "accounts.user",
        str(second.pk),
    )
    assert row.summary == {"field": "id_number", "via": f"application:{world.ids['second_app']}"}
    assert second.id_number not in row.payload()  # who saw it is logged, never the value

    # Without JavaScript the same form opens a page with the value and a way back.
    page = reveal(client, "objection", Objection.objects.get().pk, "contact", json=False)
    assert page.status_code == 200 and "13900001111" in page.content.decode()
    assert 'href="/staff/"' in page.content.decode()
    assert AuditEntry.objects.filter(
        action="personal_data.reveal", object_type="applications.objection"
    ).exists()


REFUSED_REVEALS = [
    # another district's reviewer may not open the application, so may not reveal
    ("outsider_reviewer", "application", "second_app", "id_number"),
    # an applicant is no reviewer
    ("applicant", "application", "second_app", "id_number"),
    ("applicant", "person", "registrant", "id_number"),
    # the employer reviews its people, not the district's employers
    ("employer_admin", "employer", "employer", "phone"),
    # only the named fields of the named kinds can be revealed
    ("district_reviewer", "application", "second_app", "password"),
    ("district_reviewer", "user", "second_app", "id_number"),
]


def test_nobody_reveals_what_their_role_cannot_open(world, city, client):
    for persona, kind, key, field_name in REFUSED_REVEALS:
        client.force_login(getattr(city, persona))
        response = reveal(client, kind, world.ids[key], field_name)
        assert response.status_code == 404, (persona, kind, field_name)
        assert world.values["second.id_number"] not in response.content.decode()
    assert not AuditEntry.objects.filter(action="personal_data.reveal").exists()


def test_reveal_needs_a_post_and_a_signed_in_user(world, client):
    assert client.get(reverse("portal:reveal")).status_code in (302, 405)
    assert reveal(client, "application", world.ids["second_app"], "id_number").status_code == 302
    client.force_login(world.users["employer_admin"])
    assert client.get(reverse("portal:reveal")).status_code == 405


def test_masks_keep_enough_to_tell_values_apart_and_never_the_whole():
    assert mask_contact("13900001111") == "139****1111"
    assert mask_contact("li@example.cn") == "li*********cn"
    assert mask_contact("110") == "***"
    from rencai.identity import mask_bank_account

    assert mask_bank_account(BANK_ACCOUNT) == "6217****8901"
