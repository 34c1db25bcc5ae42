"""The submission's reads in plain SQL (rencai/applications/records.py, issue 7) give the
same answers as the ORM's definitions of the same things, on SQLite and PostgreSQL, for
persons and applications built to hit every edge: several degrees, contracts without a
start, a talent category expired, not yet valid or cancelled, a bar lifted, ended today,
not yet started or found through the ID number of an earlier account."""

import datetime

import pytest

from rencai.accounts.models import User
from rencai.applications import records, rules
from rencai.applications.models import (
    Application,
    ApplicationGap,
    ApplicationMaterial,
    ApplicationVersion,
)
from rencai.integrity.models import ExceptionEntry
from rencai.integrity.services import barring_entries
from rencai.orgs.models import Employer
from rencai.profiles.models import (
    Education,
    HeldQualification,
    Material,
    Profile,
    Qualification,
    School,
    WorkHistory,
)
from rencai.programs.models import Program
from rencai.talent.models import TalentCategory
from rencai.talent.services import categories_in_force
from tests.conftest import make_id

TODAY = datetime.date(2026, 3, 15)
D = datetime.date


def reference_person(user, today, now) -> records.PersonRecord:
    """The same facts, each by its own ORM query (what the rules read before issue 7)."""
    levels = list(Education.objects.filter(owner=user).values_list("level", flat=True))
    ranked = sorted(levels, key=lambda lv: rules.EDUCATION_RANK.get(lv, 0))
    category = categories_in_force(user, now).first()
    bar = barring_entries(user, today).first()
    return records.PersonRecord(
        education=ranked[-1] if ranked else None,
        has_profile=Profile.objects.filter(user=user).exists(),
        has_qualification=HeldQualification.objects.filter(owner=user).exists(),
        first_contract=WorkHistory.objects.filter(
            owner=user, kind="work", contract_start__isnull=False
        )
        .order_by("contract_start")
        .values_list("contract_start", flat=True)
        .first(),
        category_id=category.pk if category else None,
        barred_id=bar.pk if bar else None,
    )


def person(n: int, **extra) -> User:
    return User.objects.create_user(
        username=f"rec{n}",
        id_number=make_id(f"11010119900101{n:03d}"),
        kind=User.Kind.PERSON,
        real_name=f"记录{n}",
        registration_status="approved",
        **extra,
    )


def education(user, level, graduated):
    Education.objects.create(
        owner=user,
        school=School.objects.order_by("id").first(),
        major="计算机",
        level=level,
        degree="",
        graduation_date=graduated,
    )


def work(user, contract_start, kind="work"):
    WorkHistory.objects.create(
        owner=user,
        kind=kind,
        organisation_name="单位",
        start_date=D(2015, 1, 1),
        contract_start=contract_start,
    )


def category(user, app, *, state="active", valid_from=D(2020, 1, 1), valid_until=D(2099, 1, 1)):
    return TalentCategory.objects.create(
        person=user,
        level="E",
        level_name="E类人才",
        rank=2,
        application=app,
        state=state,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def bar(
    *,
    person=None,
    id_type="",
    id_number="",
    starts_on=D(2026, 1, 1),
    ends_on=D(2027, 1, 1),
    lifted=False,
):
    from django.utils import timezone

    return ExceptionEntry.objects.create(
        person=person,
        id_type=id_type,
        id_number=id_number,
        reason="虚假申报",
        starts_on=starts_on,
        ends_on=ends_on,
        lifted_at=timezone.now() if lifted else None,
    )


def application(user, program, state, **fields):
    if state in ("submitted", "in_review"):
        fields.setdefault("stage_employer", user.employer or Employer.objects.first())
    return Application.objects.create(
        program=program,
        program_version=program.current_version,
        applicant=user,
        state=state,
        data={},
        **fields,
    )


@pytest.fixture
def people(city):
    """Persons whose records cover the cases, with the answers the SQL must give."""
    program = Program.objects.get(code="grad_living")
    bare = person(1)
    full = person(2)
    Profile.objects.create(user=full, current_address="示范市")
    education(full, "bachelor", D(2016, 6, 30))
    education(full, "master", D(2019, 6, 30))
    education(full, "college", D(2013, 6, 30))
    HeldQualification.objects.create(
        owner=full,
        qualification=Qualification.objects.order_by("id").first(),
        certificate_number="Q1",
        issued_date=D(2021, 1, 1),
    )
    work(full, None)
    work(full, D(2019, 8, 1))
    work(full, D(2017, 3, 1))
    work(full, D(2010, 1, 1), kind="study")  # a study record never counts as a contract
    held = application(full, program, "approved")
    category(full, held)
    bar(person=full, starts_on=D(2025, 1, 1), ends_on=D(2026, 6, 1))
    bar(person=full, starts_on=D(2025, 1, 1), ends_on=D(2026, 9, 1))  # ends last: it answers
    lapsed = person(3)
    education(lapsed, "doctor", D(2018, 6, 30))
    category(lapsed, application(lapsed, program, "approved"), valid_until=D(2026, 3, 14))
    category(
        lapsed, application(lapsed, program, "approved"), state="cancelled"
    )  # cancelled, though still in its dates
    bar(person=lapsed, lifted=True)
    bar(person=lapsed, ends_on=TODAY)  # ends today: no longer barred
    bar(person=lapsed, starts_on=D(2026, 3, 16))  # starts tomorrow
    early = person(4)
    category(early, application(early, program, "approved"), valid_from=D(2026, 3, 16))
    reregistered = person(5)  # barred under an earlier account with the same ID number
    bar(id_type=reregistered.id_type, id_number=reregistered.id_number)
    no_number = person(6)
    User.objects.filter(pk=no_number.pk).update(id_number="", id_number_index=None)
    no_number.refresh_from_db()
    bar(id_type=no_number.id_type, id_number="")  # an entry without a number bars no one
    return [bare, full, lapsed, early, reregistered, no_number]


def test_person_records_match_the_orm(people):
    answers = [records.person_record(p, TODAY, TODAY) for p in people]
    assert answers == [reference_person(p, TODAY, TODAY) for p in people]
    # the cases really occur, so the comparison above is not of empty records only
    bare, full, lapsed, early, reregistered, _no_number = answers
    assert bare == records.PersonRecord()
    assert full.education == "master" and full.has_profile and full.has_qualification
    assert full.first_contract == D(2017, 3, 1)
    assert full.category_id is not None
    assert full.barred_id == ExceptionEntry.objects.filter(ends_on=D(2026, 9, 1)).get().pk
    assert lapsed.education == "doctor" and lapsed.category_id is None
    assert lapsed.barred_id is None
    assert early.category_id is None
    assert reregistered.barred_id is not None
    # a different day: the category asked about "now", the bar about the pre-check's day
    later = D(2026, 7, 1)
    assert records.person_record(people[1], later, TODAY) == reference_person(
        people[1], later, TODAY
    )
    assert records.person_record(people[1], D(2026, 10, 1), TODAY).barred_id is None


def test_other_applications_attachments_and_gaps_match_the_orm(people):
    bare, full = people[0], people[1]
    program = Program.objects.get(code="grad_living")
    another = Program.objects.exclude(pk=program.pk).order_by("id").first()
    this = application(full, program, "draft")
    application(
        full, program, "in_review", period_start=D(2024, 1, 1), period_end=D(2024, 6, 1), months=6
    )
    application(full, program, "rejected")
    application(full, program, "returned", number="R1")
    # deleted (only a draft is deleted in practice; a submitted one cannot be, by constraint)
    gone = application(full, program, "returned", number="R2")
    Application.objects.filter(pk=gone.pk).update(
        deleted_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    )
    application(full, another, "approved")
    application(bare, program, "approved")

    states = tuple(rules.COUNTING_STATES)
    reference = [
        records.Other(*row)
        for row in Application.objects.filter(
            applicant=full, program=program, state__in=states, deleted_at__isnull=True
        )
        .exclude(pk=this.pk)
        .order_by("id")
        .values_list("number", "state", "period_start", "period_end", "months")
    ]
    others = records.others_of(this, states)
    assert others == reference
    assert [o.state for o in others] == ["approved", "in_review", "returned"]
    assert others[1].period_start == D(2024, 1, 1) and others[1].months == 6

    for n, kind in enumerate(["labour_contract", "diploma", "degree.x"]):
        material = Material.objects.create(
            owner=full,
            material_type=kind.split(".")[0],
            file=f"materials/{n}.pdf",
            original_name=f"证书{n}.PDF" if n else "合同",
            size=1,
            content_type="application/pdf",
            sha256="0" * 64,
            uploaded_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        )
        ApplicationMaterial.objects.create(
            application=this, material_type=kind.split(".")[0], material=material
        )
    attached = records.attachments_of(this)
    assert [(a.material_type, a.material_id, a.original_name) for a in attached] == list(
        this.attachments.order_by("material_type", "material_id").values_list(
            "material_type", "material_id", "material__original_name"
        )
    )
    assert [a.extension for a in attached] == ["pdf", "pdf", ""]

    for kind, state, day in [
        ("degree", "open", D(2026, 4, 1)),
        ("diploma", "cleared", D(2026, 3, 1)),
    ]:
        ApplicationGap.objects.create(
            application=this,
            material_type=kind,
            label=kind,
            reason="在办",
            deadline=day,
            state=state,
        )
    gaps = records.gaps_of(this)
    assert [(g.pk, g.material_type, g.state, g.deadline, g.is_pending) for g in gaps] == [
        (g.pk, g.material_type, g.state, g.deadline, g.is_pending)
        for g in ApplicationGap.objects.filter(application=this).order_by("id")
    ]
    assert [g.is_pending for g in gaps] == [True, False]

    for number in (1, 2, 5):
        ApplicationVersion.objects.create(application=this, number=number, reason="saved", data={})
    assert records.last_version_number(this) == 5

    # a submission reads all of the above in one statement: the same answers
    def gap_values(rows):
        return [(g.pk, g.material_type, g.state, g.deadline) for g in rows]

    bundle = records.submission_records(this, states, TODAY, TODAY)
    assert bundle.person == records.person_record(full, TODAY, TODAY)
    assert bundle.others == others and bundle.attachments == attached
    assert gap_values(bundle.gaps) == gap_values(gaps) and bundle.last_version == 5
    nobody = people[5]  # no records, no other applications
    empty = records.submission_records(application(nobody, program, "draft"), states, TODAY, TODAY)
    assert empty == records.Bundle(records.PersonRecord(), [], [], [], 0)
