"""The authorization matrix (issue 8): every URL and API operation that takes an object id,
asked by every persona that does not own the object. Each answer must be the same "not
found" the persona gets for an id that does not exist (anonymous: the login redirect or
the API's 401, again the same as for a missing id), without any marker of the object, and
the object and its related rows must be unchanged afterwards — so a POST that wrongly acts
is caught even if it then answers 404. Every leak of the whole matrix is collected and
listed at the end; ``security_counts("authorization")`` records the requests tried and the
leaks found.

Each route has an entry in ``REGISTRY`` (how to build an object of an owner persona, who
may reach it, which methods to try with which body); ``test_every_object_route_has_an_entry``
walks Django's resolver and the API's operations and fails for any route with a path
parameter that is neither in ``REGISTRY`` nor in ``PUBLIC`` / ``EXCLUDED`` with a reason.
A positive control per route (the owner, or the reviewer with a right to it, gets the page,
or the owner's write takes effect) keeps a route that answers 404 to everyone from passing.
"""

import datetime
import hashlib
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count, OuterRef, Subquery
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from rencai.accounts.models import User
from rencai.agency.models import AgencyGrade, ScoreAdjustment
from rencai.applications import transitions as t
from rencai.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationGap,
    ApplicationVersion,
    BatchJob,
    BatchReport,
    Objection,
    PayoutBatch,
    PublicNotice,
)
from rencai.audit.models import AuditEntry
from rencai.cms.models import Article, Download
from rencai.housing import services as housing_services
from rencai.housing.demo import make_png
from rencai.housing.models import (
    Allocation,
    Community,
    HousingPicture,
    Room,
    Station,
    StationBooking,
)
from rencai.notifications.models import Message, SmsMessage
from rencai.orgs import changes
from rencai.orgs.models import Authority, Employer, Membership, RegistrationChange
from rencai.profiles.models import (
    Education,
    HeldQualification,
    Material,
    Qualification,
    WorkHistory,
)
from rencai.profiles.views import EDUCATION_FIELDS, QUALIFICATION_FIELDS, WORK_FIELDS
from rencai.programs.models import Program
from tests.conftest import PASSWORD, import_outside_data, make_credit_code, make_id
from tests.conftest import prepare_applicant as prepare_person
from tests.test_agency import (
    agencies,  # noqa: F401  (fixture: the demo agency and another)
    fill_all,
    graded,
    new_rating,
)
from tests.test_applications import TODAY
from tests.test_dispatch import org_reviewer
from tests.test_housing import application as housing_application
from tests.test_housing import program as housing_program
from tests.test_housing import small_community, talent_officer
from tests.test_payouts import county_finance_officer, results, to_city_finance

NOWHERE = 2**31 - 1  # an id no row has: what "not found" looks like for each persona
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

PERSONAS = (
    "anonymous",
    "applicant",  # the demo applicant (张晓明, 星河科技, 东城)
    "applicant2",  # another person at the same employer and district
    "employer_admin",  # 星河科技's administrator
    "hospital_admin",  # another employer's administrator
    "district_reviewer",  # 东城 HR bureau
    "outsider_reviewer",  # 西城 HR bureau: "another district"
    "city_reviewer",
    "finance_officer",  # city finance bureau
    "county_org",  # 东城 organisation department (a later stage of CHAIN)
    "agency_admin",  # the demo HR agency
    "other_agency_admin",  # another HR agency
    "talent_officer",  # the talent office (housing desks)
)
ALL = frozenset(PERSONAS)


# --- the registry ------------------------------------------------------------------------


@dataclass
class Target:
    """One object of an owner persona, as the route sees it."""

    label: str
    kwargs: dict
    owners: frozenset  # personas who may reach it: never asked as "not yours"
    markers: tuple  # strings only this object's page would show
    state: Callable[[], object]  # the object and its related rows, to compare
    body: Callable[[], dict] | None = None  # the write's form or JSON body, read fresh
    control: str | None = None  # the persona for whom the route works (positive control)
    acts: bool = True  # the control persona's write is expected to work on this object


@dataclass(frozen=True)
class Spec:
    family: str
    build: Callable[[SimpleNamespace], list[Target]]
    requests: tuple = (("GET", ""),)  # (method, query string)
    changes: bool = False  # the control persona's write changes the target's state
    control_ok: tuple = (200,)  # what the control persona's GET answers


GET = (("GET", ""),)
POST = (("POST", ""),)
GET_POST = (("GET", ""), ("POST", ""))

REGISTRY: dict[str, Spec] = {}


def route(key: str, family: str, requests=GET, **options):
    def register(build):
        REGISTRY[key] = Spec(family, build, tuple(requests), **options)
        return build

    return register


# Routes with a parameter that show public content to everyone: no owner, nothing to deny.
PUBLIC = {
    "portal:notice": "公示 (F41): every public notice is public by design, names and ID "
    "numbers masked; there is no unpublished state (a notice exists once published).",
}
# Routes out of scope for this matrix, by prefix.
EXCLUDED = {
    "admin:": "the Django admin is for superusers only (staff without is_superuser are "
    "refused by the admin site itself); its object pages are not part of the product's "
    "persona model.",
    "captcha-": "django-simple-captcha images/audio keyed by a random challenge hash, not "
    "an object anyone owns.",
}


# --- helpers --------------------------------------------------------------------------------


def row(model, pk):
    return model.objects.filter(pk=pk).values().first()


def app_state(app):
    """The application's row, its timeline, its attachments and gaps, and how many
    applications its applicant has (an "apply again" adds one), in one query."""
    pk = app.pk
    state = (
        Application.objects.filter(pk=pk)
        .annotate(
            n_events=_count(ApplicationEvent),
            n_versions=_count(ApplicationVersion),
            n_gaps=_count(ApplicationGap),
            n_adjustments=_count(ScoreAdjustment),
            n_allocations=_count(Allocation),
            n_siblings=Subquery(
                Application.objects.filter(applicant_id=OuterRef("applicant_id"))
                .values("applicant_id")
                .annotate(n=Count("id"))
                .values("n")
            ),
        )
        .values()
        .first()
    )
    return state


def _count(model):
    return Subquery(
        model.objects.filter(application_id=OuterRef("pk"))
        .values("application_id")
        .annotate(n=Count("id"))
        .values("n")
    )


def app_markers(app, *extra):
    """The application's number and any text of its own; one character (an explanation
    of "无") names nothing and would flag every page that says 无 (无权, 无需)."""
    app = Application.objects.get(pk=app.pk)
    return tuple(m for m in (app.number, *extra) if m and len(m) > 1)


def version_of(app) -> int:
    return Application.objects.values_list("version", flat=True).get(pk=app.pk)


def form_of(obj, fields, **changed) -> dict:
    """The edit form's body for ``obj`` as its page would post it, with ``changed``."""
    out = {}
    for name in fields:
        value = getattr(obj, f"{name}_id") if hasattr(obj, f"{name}_id") else getattr(obj, name)
        if value is None:
            value = ""
        elif isinstance(value, bool):
            if not value:
                continue
            value = "on"
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[name] = str(value)
    out.update(changed)
    return out


COUNTED = (
    Application,
    ApplicationEvent,
    ApplicationVersion,
    ApplicationGap,
    Material,
    Education,
    HeldQualification,
    WorkHistory,
    Message,
    SmsMessage,
    ScoreAdjustment,
    AgencyGrade,
    Allocation,
    StationBooking,
    RegistrationChange,
    BatchJob,
    BatchReport,
    PayoutBatch,
    Objection,
    PublicNotice,
    Employer,
    User,
)


def global_counts() -> dict:
    """Rows a wrongly granted write would add or remove anywhere (the log of denied
    accesses, which every refusal appends to, aside), in one query."""
    parts = [f"(SELECT COUNT(*) FROM {m._meta.db_table})" for m in COUNTED]
    parts.append(f"(SELECT COUNT(*) FROM {AuditEntry._meta.db_table} WHERE action <> %s)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), ["access.denied"])
        values = cursor.fetchone()
    return dict(zip([m.__name__ for m in COUNTED] + ["AuditEntry"], values, strict=True))


_months = itertools.count()


def chain_draft(person, marker: str) -> Application:
    """A CHAIN living-subsidy draft of ``person`` over three months no other of theirs
    uses, with ``marker`` in its explanation."""
    i = next(_months)
    first = 2021 * 12 + 3 * i
    start = f"{first // 12}-{first % 12 + 1:02d}"
    end = f"{(first + 2) // 12}-{(first + 2) % 12 + 1:02d}"
    materials = {
        mt: list(
            Material.objects.filter(owner=person, material_type=mt).values_list("pk", flat=True)
        )
        for mt in ("diploma", "degree", "labour_contract")
    }
    return t.draft_save(
        actor=person,
        program=Program.objects.get(code="chain_living"),
        data={"start_month": start, "end_month": end, "deducted_months": 0, "explanation": marker},
        materials=materials,
    )


def chain_submitted(person, marker: str) -> Application:
    app = chain_draft(person, marker)
    return t.submit(actor=person, application=app, commitment_accepted=True, today=TODAY)


def draft_body(app):
    def body():
        return {
            "start_month": app.data["start_month"],
            "end_month": app.data["end_month"],
            "deducted_months": "0",
            "explanation": "改过的说明",
            "version": str(version_of(app)),
        }

    return body


# --- the personas ---------------------------------------------------------------------------


def build_personas(city, tmp_path) -> dict:
    applicant2 = User.objects.create_user(
        username=make_id("99010219910202002"),
        id_number=make_id("99010219910202002"),
        password=PASSWORD,
        kind=User.Kind.PERSON,
        real_name="欧阳保密",
        phone="13900000402",
        employer=city.tech,
        registration_status="approved",
    )
    prepare_person(applicant2)
    # their own diploma in the registry (prepare_applicant gives everyone the same number)
    Education.objects.filter(owner=applicant2).update(diploma_number="102481202005000456")
    for n, person in enumerate((city.applicant, applicant2)):
        folder = Path(tmp_path) / f"outside{n}"
        folder.mkdir()
        import_outside_data(folder, person)
    hospital_admin = User.objects.create_user(
        username="hospital_admin", password=PASSWORD, kind=User.Kind.EMPLOYER, real_name="郑院办"
    )
    Membership.objects.create(
        user=hospital_admin, employer=city.hospital, role=Membership.Role.EMPLOYER_ADMIN
    )
    return {
        "anonymous": None,
        "applicant": city.applicant,
        "applicant2": applicant2,
        "employer_admin": city.employer_admin,
        "hospital_admin": hospital_admin,
        "district_reviewer": city.district_reviewer,
        "outsider_reviewer": city.outsider_reviewer,
        "city_reviewer": city.city_reviewer,
        "finance_officer": city.finance_officer,
        "county_org": org_reviewer(city.dongcheng, Authority.Kind.ORG_DEPARTMENT, "dc_org"),
        "agency_admin": city.agency_user,
        "other_agency_admin": city.other_user,
        "talent_officer": talent_officer(),
    }


def clients_for(users: dict) -> tuple[dict, dict]:
    """A browser per persona that checks CSRF like production, and its token."""
    clients, tokens = {}, {}
    for name, user in users.items():
        client = Client(enforce_csrf_checks=True)
        if user is not None:
            client.force_login(user)
        tokens[name] = client.get("/api/auth/csrf").json()["csrf_token"]
        clients[name] = client
    return clients, tokens


# --- family: applications (pages, API, the review page, gaps) -----------------------------------


def build_applications(w):
    a, b = w.users["applicant"], w.users["applicant2"]
    w.a_draft = chain_draft(a, "保密说明-甲草稿")
    w.a_submit = chain_draft(a, "保密说明-甲待提交")
    w.a_api_submit = chain_draft(a, "保密说明-甲API提交")
    w.a_delete = chain_draft(a, "保密说明-甲待删除")
    w.a_api_delete = chain_draft(a, "保密说明-甲API删除")
    w.a_submitted = chain_submitted(a, "保密说明-甲已提交")
    w.a_submitted2 = chain_submitted(a, "保密说明-甲已提交二")
    w.a_rejected, w.a_rejected2 = (
        t.reject(
            actor=w.users["employer_admin"],
            application=chain_submitted(a, f"保密说明-甲不通过{n}"),
            opinion="材料不实",
        )
        for n in (1, 2)
    )
    w.b_district, w.b_district2 = (
        t.approve(
            actor=w.users["employer_admin"],
            application=chain_submitted(b, f"保密说明-乙区县{n}"),
        )
        for n in (1, 2)
    )
    # a gap is cleared at the chain's last review stage (县区组织部确认): the application
    # goes through the district's review and its public notice first
    w.b_county = t.approve(
        actor=w.users["district_reviewer"],
        application=t.approve(
            actor=w.users["employer_admin"], application=chain_submitted(b, "保密说明-乙组织部")
        ),
    )
    t.notice_publish(
        actor=w.users["district_reviewer"], application_ids=[w.b_county.pk], title="公示"
    )
    t.notices_expire(now=timezone.now() + datetime.timedelta(days=8))
    w.b_county = Application.objects.get(pk=w.b_county.pk)
    assert w.b_county.current_stage["code"] == "county_org"
    w.gap = ApplicationGap.objects.create(
        application=w.b_county,
        material_type="degree",
        label="学位证书",
        reason="保密容缺原因-乙",
        deadline=TODAY + datetime.timedelta(days=30),
        state=ApplicationGap.State.SUPPLIED,
        material=Material.objects.filter(owner=b, material_type="degree").first(),
        supplied_at=timezone.now(),
    )


def _app(label, app, owners, control, body=None, kw="pk"):
    return Target(
        label,
        {kw: app.pk},
        frozenset(owners),
        app_markers(app, app.data.get("explanation")),
        lambda: app_state(app),
        body,
        control,
    )


@route("applications:detail", "applications", GET_POST, changes=True)
def _(w):
    return [
        _app("draft", w.a_draft, {"applicant"}, "applicant", body=draft_body(w.a_draft)),
        # not editable once submitted: the owner's post shows the page again, unchanged
        replace(
            _app("submitted", w.a_submitted, {"applicant"}, "applicant", draft_body(w.a_submitted)),
            acts=False,
        ),
        replace(
            _app("other's", w.b_district, {"applicant2"}, "applicant2", draft_body(w.b_district)),
            acts=False,
        ),
    ]


@route("applications:check", "applications")
def _(w):
    return [_app("draft", w.a_draft, {"applicant"}, "applicant")]


@route("applications:history", "applications")
def _(w):
    return [
        _app("draft", w.a_draft, {"applicant"}, "applicant"),
        _app("other's", w.b_district, {"applicant2"}, "applicant2"),
    ]


@route("applications:pdf", "applications")
def _(w):
    return [
        _app("draft", w.a_draft, {"applicant"}, "applicant"),
        _app("at employer", w.a_submitted, {"applicant", "employer_admin"}, "employer_admin"),
        _app(
            "at district",
            w.b_district,
            {"applicant2", "employer_admin", "district_reviewer"},
            "district_reviewer",
        ),
    ]


@route("applications:submit", "applications", POST, changes=True)
def _(w):
    app = w.a_submit
    body = lambda: {"commitment": "on", "version": str(version_of(app))}  # noqa: E731
    return [_app("draft", app, {"applicant"}, "applicant", body=body)]


@route("applications:withdraw", "applications", POST, changes=True)
def _(w):
    app = w.a_submitted
    body = lambda: {"version": str(version_of(app))}  # noqa: E731
    return [_app("submitted", app, {"applicant"}, "applicant", body=body)]


@route("applications:delete", "applications", POST, changes=True)
def _(w):
    return [_app("draft", w.a_delete, {"applicant"}, "applicant", body=dict)]


@route("applications:reapply", "applications", POST, changes=True)
def _(w):
    return [_app("rejected", w.a_rejected, {"applicant"}, "applicant", body=dict)]


def _review_body(app):
    return lambda: {"action": "approve", "opinion": "同意", "version": str(version_of(app))}


@route("review:application", "applications", GET_POST)
def _(w):
    return [
        _app("draft", w.a_draft, set(), None, body=_review_body(w.a_draft)),
        _app(
            "at employer",
            w.a_submitted2,
            {"employer_admin"},
            "employer_admin",
            body=_review_body(w.a_submitted2),
        ),
        _app(
            "at district",
            w.b_district,
            {"employer_admin", "district_reviewer"},
            "district_reviewer",
            body=_review_body(w.b_district),
        ),
    ]


@route("review:application_gap", "applications", POST, changes=True)
def _(w):
    gap = w.gap
    return [
        Target(
            "supplied gap",
            {"pk": w.b_county.pk, "gap_pk": gap.pk},
            # those who handled it earlier see the gap on the review page, but only the
            # stage that clears gaps may decide: anyone else posting gets "not found"
            frozenset({"county_org"}),
            (gap.reason,),
            lambda: (row(ApplicationGap, gap.pk), app_state(w.b_county)),
            lambda: {"action": "clear", "opinion": "材料齐全"},
            "county_org",
        )
    ]


# The JSON API's operations on an application.


def _json_version(app, **extra):
    return lambda: {"version": version_of(app), **extra}


@route("API GET /api/applications/{app_id}", "applications")
def _(w):
    return [
        _app("draft", w.a_draft, {"applicant"}, "applicant", kw="app_id"),
        _app("other's", w.b_district, {"applicant2"}, "applicant2", kw="app_id"),
    ]


@route("API PUT /api/applications/{app_id}", "applications", (("PUT", ""),), changes=True)
def _(w):
    app = w.a_draft

    def body():
        return {"data": {**app.data, "explanation": "改过的说明API"}, "version": version_of(app)}

    return [_app("draft", app, {"applicant"}, "applicant", body=body, kw="app_id")]


@route("API DELETE /api/applications/{app_id}", "applications", (("DELETE", ""),), changes=True)
def _(w):
    return [_app("draft", w.a_api_delete, {"applicant"}, "applicant", body=dict, kw="app_id")]


@route("API GET /api/applications/{app_id}/precheck", "applications")
def _(w):
    return [_app("draft", w.a_draft, {"applicant"}, "applicant", kw="app_id")]


@route("API POST /api/applications/{app_id}/submit", "applications", POST, changes=True)
def _(w):
    app = w.a_api_submit
    body = _json_version(app, commitment_accepted=True)
    return [_app("draft", app, {"applicant"}, "applicant", body=body, kw="app_id")]


@route("API POST /api/applications/{app_id}/withdraw", "applications", POST, changes=True)
def _(w):
    app = w.a_submitted2
    return [
        _app("submitted", app, {"applicant"}, "applicant", body=_json_version(app), kw="app_id")
    ]


@route("API POST /api/applications/{app_id}/reapply", "applications", POST, changes=True)
def _(w):
    return [_app("rejected", w.a_rejected2, {"applicant"}, "applicant", body=dict, kw="app_id")]


@route("API GET /api/applications/{app_id}/timeline", "applications")
def _(w):
    return [_app("submitted", w.a_submitted, {"applicant"}, "applicant", kw="app_id")]


@route("API GET /api/review/applications/{app_id}", "applications")
def _(w):
    return [
        _app("draft", w.a_draft, set(), None, kw="app_id"),
        _app("at employer", w.a_submitted, {"employer_admin"}, "employer_admin", kw="app_id"),
        _app(
            "at district",
            w.b_district,
            {"employer_admin", "district_reviewer"},
            "district_reviewer",
            kw="app_id",
        ),
    ]


@route("API POST /api/review/applications/{app_id}/decision", "applications", POST, changes=True)
def _(w):
    app = w.b_district2
    body = _json_version(app, action="approve", opinion="同意")
    return [
        _app(
            "at district",
            app,
            {"employer_admin", "district_reviewer"},
            "district_reviewer",
            body=body,
            kw="app_id",
        )
    ]


# --- family: profiles (education, qualifications, work history, materials) ----------------------


def build_profiles(w):
    a = w.users["applicant"]
    school = Education.objects.filter(owner=a).first().school
    w.educations = [
        Education.objects.create(
            owner=a,
            school=school,
            major=f"保密专业-{n}",
            level="master",
            degree="master",
            graduation_date=datetime.date(2023, 6, 30),
            diploma_number=f"10248120230500{n}77",
            degree_number=f"10248420230500{n}77",
        )
        for n in (1, 2)
    ]
    qualification = Qualification.objects.filter(active=True).order_by("id").first()
    w.qualifications = [
        HeldQualification.objects.create(
            owner=a,
            qualification=qualification,
            certificate_number=f"ZGBM2023{n}0077",
            issued_date=datetime.date(2023, 3, 1),
        )
        for n in (1, 2)
    ]
    w.work = [
        WorkHistory.objects.create(
            owner=a,
            kind="work",
            organisation_name=f"保密经历单位-{n}",
            district=w.city.dongcheng,
            start_date=datetime.date(2018, 7, 1),
            end_date=datetime.date(2019, 6, 30),
        )
        for n in (1, 2)
    ]
    # the applicant's filed materials: a reviewer of the application may open them
    for material in Material.objects.filter(owner=a):
        material.original_name = f"张晓明-{material.material_type}-保密.pdf"
        material.save(update_fields=["original_name"])
    w.filed = chain_submitted(a, "保密说明-甲材料")
    w.attached = Material.objects.get(owner=a, material_type="labour_contract")
    w.materials = []
    for n in (1, 2):
        material = Material(
            owner=a,
            material_type="diploma",
            original_name=f"保密私有材料-{n}.pdf",
            size=len(PDF),
            content_type="application/pdf",
            sha256=hashlib.sha256(PDF).hexdigest(),
            uploaded_at=timezone.now(),
        )
        material.file.save(f"materials/{a.pk}/private{n}.pdf", ContentFile(PDF), save=False)
        material.save()
        w.materials.append(material)


def _record(label, model, obj, fields, markers, **changed):
    owner = obj.owner_id
    return Target(
        label,
        {"pk": obj.pk},
        frozenset({"applicant"}),
        markers,
        lambda: (row(model, obj.pk), model.objects.filter(owner_id=owner).count()),
        (lambda: form_of(obj, fields, **changed)) if fields else dict,
        "applicant",
    )


@route("profiles:education_edit", "profiles", GET_POST, changes=True)
def _(w):
    e = w.educations[0]
    return [_record("education", Education, e, EDUCATION_FIELDS, (e.major,), major="改过的专业")]


@route("profiles:education_delete", "profiles", POST, changes=True)
def _(w):
    e = w.educations[1]
    return [_record("education", Education, e, None, (e.major,))]


@route("profiles:qualification_edit", "profiles", GET_POST, changes=True)
def _(w):
    q = w.qualifications[0]
    return [
        _record(
            "qualification",
            HeldQualification,
            q,
            QUALIFICATION_FIELDS,
            (q.certificate_number,),
            certificate_number="ZGBM20239999",
        )
    ]


@route("profiles:qualification_delete", "profiles", POST, changes=True)
def _(w):
    q = w.qualifications[1]
    return [_record("qualification", HeldQualification, q, None, (q.certificate_number,))]


@route("profiles:work_edit", "profiles", GET_POST, changes=True)
def _(w):
    item = w.work[0]
    return [
        _record(
            "work",
            WorkHistory,
            item,
            WORK_FIELDS,
            (item.organisation_name,),
            organisation_name="改过的单位",
        )
    ]


@route("profiles:work_delete", "profiles", POST, changes=True)
def _(w):
    item = w.work[1]
    return [_record("work", WorkHistory, item, None, (item.organisation_name,))]


def _material(label, material, owners, control, body=dict):
    return Target(
        label,
        {"pk": material.pk},
        frozenset(owners),
        (material.original_name,),
        lambda: (row(Material, material.pk), Material.objects.filter(owner=material.owner).count()),
        body,
        control,
    )


@route("profiles:material", "profiles")
def _(w):
    return [_material("private", w.materials[0], {"applicant"}, "applicant")]


@route("profiles:material_replace", "profiles", POST, changes=True)
def _(w):
    def body():
        return {"file": SimpleUploadedFile("改过的文件.pdf", PDF + b"%x", "application/pdf")}

    return [_material("private", w.materials[0], {"applicant"}, "applicant", body)]


@route("profiles:material_delete", "profiles", POST, changes=True)
def _(w):
    return [_material("private", w.materials[1], {"applicant"}, "applicant")]


def _material_files(w):
    return [
        _material("private", w.materials[0], {"applicant"}, "applicant"),
        _material("filed", w.attached, {"applicant", "employer_admin"}, "employer_admin"),
    ]


route("profiles:material_file", "profiles")(_material_files)
route("profiles:material_download", "profiles")(_material_files)


# --- family: staff desks (registrations, changes, people, jobs, notices, reports, payouts) ----


def build_desks(w):
    city, users = w.city, w.users
    w.pending_employer = Employer.objects.create(
        name="示范市保密待审科技有限公司",
        credit_code=make_credit_code("91990102MA0000077"),
        kind=Employer.Kind.ENTERPRISE,
        district=city.dongcheng,
        status=Employer.Status.PENDING,
    )
    admin = User.objects.create_user(
        username=w.pending_employer.credit_code,
        password=PASSWORD,
        kind=User.Kind.EMPLOYER,
        real_name="钱待审",
    )
    Membership.objects.create(
        user=admin, employer=w.pending_employer, role=Membership.Role.EMPLOYER_ADMIN
    )
    before = changes.details_in_force(city.tech)
    w.change = RegistrationChange.objects.create(
        employer=city.tech,
        requested_by=users["employer_admin"],
        before=before,
        after={**before, "name": "示范市星河保密变更有限公司"},
    )
    w.pending_person = User.objects.create_user(
        username=make_id("99010219920303003"),
        id_number=make_id("99010219920303003"),
        password=PASSWORD,
        kind=User.Kind.PERSON,
        real_name="保密待审人",
        phone="13900000403",
        employer=city.tech,
        registration_status="pending",
    )
    w.job = BatchJob.objects.create(
        actor=users["district_reviewer"],
        action="approve",
        opinion="保密批量意见",
        application_ids=[NOWHERE],
        total=1,
    )
    # a CHAIN subsidy walked to the payouts: its notice, both roll-up reports, the city
    # finance batch and the county's, and the applicant's receipt to confirm
    app = to_city_finance(city, users["applicant"])
    w.notice = PublicNotice.objects.get(entries__application=app)
    w.notice.title = "保密公示-东城"
    w.notice.save(update_fields=["title"])
    w.reports = list(BatchReport.objects.filter(items__application=app).order_by("id"))
    finance = users["finance_officer"]
    w.city_batch = t.payout_batch_create(actor=finance, application_ids=[app.pk])
    t.payout_results_import(
        actor=finance, batch_id=w.city_batch.pk, rows=results(w.city_batch, "成功")
    )
    county = county_finance_officer(city)
    w.county_batch = t.payout_batch_create(actor=county, application_ids=[app.pk])
    t.payout_results_import(
        actor=county, batch_id=w.county_batch.pk, rows=results(w.county_batch, "成功")
    )
    w.to_confirm = Application.objects.get(pk=app.pk)
    assert w.to_confirm.state == Application.State.TO_CONFIRM


def _simple(label, model, obj, owners, control, markers, body=dict, extra=None):
    return Target(
        label,
        {"pk": obj.pk},
        frozenset(owners),
        markers,
        lambda: (row(model, obj.pk), extra() if extra else None),
        body,
        control,
    )


def personas_of(w, *authority_ids) -> set:
    """The personas who work at one of these authorities."""
    return {
        name
        for name, user in w.users.items()
        if user is not None
        and Membership.objects.filter(user=user, authority_id__in=authority_ids).exists()
    }


def _decision():
    return {"decision": "approve", "opinion": "同意"}


@route("review:employer", "desks", GET_POST, changes=True)
def _(w):
    e = w.pending_employer
    return [
        _simple(
            "pending", Employer, e, {"district_reviewer"}, "district_reviewer", (e.name,), _decision
        )
    ]


@route("review:change", "desks", GET_POST, changes=True)
def _(w):
    c = w.change
    return [
        _simple(
            "pending",
            RegistrationChange,
            c,
            {"district_reviewer"},
            "district_reviewer",
            (c.after["name"],),
            _decision,
            extra=lambda: row(Employer, c.employer_id),
        )
    ]


@route("review:person", "desks", GET_POST, changes=True)
def _(w):
    p = w.pending_person
    return [
        _simple(
            "pending",
            User,
            p,
            {"employer_admin"},
            "employer_admin",
            (p.real_name, p.id_number),
            _decision,
        )
    ]


@route("review:job", "desks")
def _(w):
    j = w.job
    return [_simple("job", BatchJob, j, {"district_reviewer"}, "district_reviewer", (j.opinion,))]


@route("review:notice", "desks", (("GET", ""), ("GET", "export=xlsx"), ("POST", "")))
def _(w):
    n = w.notice
    return [
        _simple(
            "district's notice",
            PublicNotice,
            n,
            {"district_reviewer"},
            "district_reviewer",
            (n.title,),
            lambda: {"objection": "1", "decision": "uphold", "opinion": "属实"},
            extra=lambda: list(n.entries.values_list("status", flat=True)),
        )
    ]


@route("review:report", "desks", GET_POST)
def _(w):
    # the county organisation department → city HR, then city HR → city organisation
    # department: the bureaus that sent and received each report see it
    return [
        _simple(
            f"report {r.number}",
            BatchReport,
            r,
            personas_of(w, r.from_authority_id, r.to_authority_id),
            "city_reviewer",
            (r.number,),
            lambda: {"action": "return", "opinion": "退回"},
            extra=lambda r=r: list(r.items.values_list("status", flat=True)),
        )
        for r in w.reports
    ]


@route("review:payout", "desks", (("GET", ""), ("POST", "")))
def _(w):
    def export():
        return {"action": "export"}

    city_batch, county_batch = w.city_batch, w.county_batch
    return [
        _simple(
            "city finance batch",
            PayoutBatch,
            city_batch,
            {"finance_officer"},
            "finance_officer",
            (city_batch.number,),
            export,
        ),
        _simple(
            "county finance batch",
            PayoutBatch,
            county_batch,
            set(),
            None,
            (county_batch.number,),
            export,
        ),
    ]


@route("applications:confirm", "desks", POST, changes=True)
def _(w):
    app = w.to_confirm
    body = lambda: {"version": str(version_of(app))}  # noqa: E731
    return [_app("awaiting confirmation", app, {"applicant"}, "applicant", body=body)]


# --- family: agency gradings --------------------------------------------------------------------


def build_agency(w):
    agency_user = w.users["agency_admin"]
    w.grade = AgencyGrade.objects.get(application=graded(w.city))
    rated = fill_all(agency_user, new_rating(agency_user, "job_placement"))
    w.rated = t.submit(actor=agency_user, application=rated, commitment_accepted=True)
    w.rating_draft = new_rating(agency_user, "consulting")
    w.agency_markers = (w.city.agency.name, w.city.agency.credit_code)


def _rating(label, app, w, owners, control, body=dict):
    return Target(
        label,
        {"pk": app.pk},
        frozenset(owners),
        app_markers(app, *w.agency_markers),
        lambda: app_state(app),
        body,
        control,
    )


@route("agency:grading", "agency")
def _(w):
    return [_rating("draft", w.rating_draft, w, {"agency_admin"}, "agency_admin")]


@route("agency:indicator", "agency", POST, changes=True)
def _(w):
    target = _rating(
        "draft", w.rating_draft, w, {"agency_admin"}, "agency_admin", lambda: {"value": "yes"}
    )
    target.kwargs["code"] = "hc_licence"  # 人力资源管理咨询's yes/no licence indicator
    return [target]


@route("agency:report", "agency", POST)
def _(w):
    app = w.rating_draft
    body = lambda: {"commitment": "on", "version": str(version_of(app))}  # noqa: E731
    return [_rating("draft", app, w, {"agency_admin"}, "agency_admin", body)]


@route("agency:delete", "agency", POST, changes=True)
def _(w):
    return [_rating("draft", w.rating_draft, w, {"agency_admin"}, "agency_admin")]


@route("agency:upgrade", "agency", POST)
def _(w):
    grade = w.grade
    return [
        Target(
            "grade",
            {"pk": grade.pk},
            frozenset({"agency_admin"}),
            w.agency_markers,
            lambda: (row(AgencyGrade, grade.pk), Application.objects.count()),
            dict,
            "agency_admin",
        )
    ]


@route("agency:score_adjust", "agency", POST, changes=True)
def _(w):
    app = w.rated

    def body():
        return {"indicator": "jp_fairs", "points": "5", "reason": "只核实到3场招聘会"}

    # the agency sees its own reported rating (as the applicant), the district reviews it
    return [
        _rating(
            "reported", app, w, {"agency_admin", "district_reviewer"}, "district_reviewer", body
        )
    ]


# --- family: the talent office's housing desks ---------------------------------------------


def build_housing(w):
    city = w.city
    community = small_community(city.dongcheng)
    w.rooms = list(Room.objects.filter(community=community).order_by("number"))
    apartment = housing_program("talent_apartment", "apartment")
    station_program = housing_program("talent_station", "station")
    a, b = w.users["applicant"], w.users["applicant2"]
    w.awaiting = housing_application(apartment, a, community=str(community.pk), note="保密公寓申请")
    taken = housing_application(apartment, b, community=str(community.pk))
    w.allocation = housing_services.allocate_room(
        actor=w.users["talent_officer"], application=taken, room_id=w.rooms[1].pk
    )
    station = Station.objects.create(name="保密驿站", district=city.dongcheng, address="保密路1号")
    stay = housing_application(
        station_program, a, station=str(station.pk), date_from="2026-03-01", date_to="2026-03-05"
    )
    w.booking = housing_services.booking_for_approved(stay)


@route("housing_staff:allocate", "housing", GET_POST, changes=True)
def _(w):
    app = w.awaiting
    return [
        Target(
            "approved apartment application",
            {"pk": app.pk},
            frozenset({"talent_officer"}),
            (app.number, w.users["applicant"].id_number),
            lambda: app_state(app),
            lambda: {"room": str(w.rooms[0].pk)},
            "talent_officer",
        )
    ]


@route("housing_staff:allocation_end", "housing", POST, changes=True)
def _(w):
    a = w.allocation
    return [
        _simple(
            "allocation",
            Allocation,
            a,
            {"talent_officer"},
            "talent_officer",
            (),
            lambda: {"reason": "合同到期退房"},
        )
    ]


@route("housing_staff:booking_action", "housing", POST, changes=True)
def _(w):
    b = w.booking
    return [
        _simple(
            "booking",
            StationBooking,
            b,
            {"talent_officer"},
            "talent_officer",
            (),
            lambda: {"action": "check_in", "state": "open"},
        )
    ]


# --- family: public content with a hidden state ---------------------------------------------------


def build_public(w):
    now = timezone.now()
    w.articles = {}
    for kind in (Article.Kind.POLICY_GUIDE, Article.Kind.ANNOUNCEMENT, Article.Kind.RECRUITMENT):
        w.articles[kind] = [
            Article.objects.create(
                kind=kind, title=f"保密草稿-{kind}", body="草稿正文", published=False
            ),
            Article.objects.create(
                kind=kind,
                title=f"保密定时-{kind}",
                body="定时正文",
                published=True,
                published_at=now + datetime.timedelta(days=10),
            ),
            Article.objects.create(kind=kind, title=f"已发布-{kind}", body="正文", published=True),
        ]
    w.downloads = []
    for n, published in enumerate((False, True)):
        item = Download(
            title=f"保密资料-{n}" if not published else "公开资料",
            published=published,
            original_name=f"资料{n}.pdf",
            size=len(PDF),
            content_type="application/pdf",
        )
        item.file.save(f"downloads/authz{n}.pdf", ContentFile(PDF), save=False)
        item.save()
        w.downloads.append(item)
    district = w.city.dongcheng
    w.stations = [
        Station.objects.create(name=name, district=district, address="驿站路1号", active=active)
        for name, active in (("保密停用驿站", False), ("公开驿站", True))
    ]
    w.communities = [
        Community.objects.create(name=name, district=district, address="公寓路1号", active=active)
        for name, active in (("保密停用小区", False), ("公开小区", True))
    ]
    w.pictures = []
    for station in w.stations:
        picture = HousingPicture(
            station=station,
            original_name="p.png",
            content_type="image/png",
            caption=f"{station.name}图片",
        )
        picture.file.save(
            f"housing/authz{station.pk}.png", ContentFile(make_png(8, 8, (200, 60, 60))), save=False
        )
        picture.save()
        w.pictures.append(picture)
    w.hidden_program = Program.objects.get(code="agency_talent_service")
    w.hidden_program.active = False
    w.hidden_program.save(update_fields=["active"])


def _hidden(label, model, obj, markers, kwargs=None):
    """Not published / not active: "not found" for everyone, staff included."""
    return Target(label, kwargs or {"pk": obj.pk}, frozenset(), markers, lambda: row(model, obj.pk))


def _visible(label, kwargs, control="anonymous"):
    return Target(label, kwargs, ALL, (), lambda: None, None, control)


def _articles(kind):
    def build(w):
        draft, future, published = w.articles[kind]
        return [
            _hidden("unpublished", Article, draft, (draft.title,)),
            _hidden("dated in the future", Article, future, (future.title,)),
            _visible("published", {"pk": published.pk}),
        ]

    return build


route("cms:policy_detail", "public")(_articles(Article.Kind.POLICY_GUIDE))
route("cms:announcement_detail", "public")(_articles(Article.Kind.ANNOUNCEMENT))
route("cms:recruitment_detail", "public")(_articles(Article.Kind.RECRUITMENT))


@route("cms:download_file", "public")
def _(w):
    hidden, shown = w.downloads
    return [
        _hidden("unpublished", Download, hidden, (hidden.title, hidden.original_name)),
        _visible("published", {"pk": shown.pk}),
    ]


@route("housing:station", "public")
def _(w):
    hidden, shown = w.stations
    return [
        _hidden("inactive", Station, hidden, (hidden.name,)),
        _visible("active", {"pk": shown.pk}),
    ]


@route("housing:apartment", "public")
def _(w):
    hidden, shown = w.communities
    return [
        _hidden("inactive", Community, hidden, (hidden.name,)),
        _visible("active", {"pk": shown.pk}),
    ]


@route("housing:picture", "public")
def _(w):
    hidden, shown = w.pictures
    return [
        _hidden("of an inactive station", HousingPicture, hidden, (hidden.caption,)),
        _visible("of an active station", {"pk": shown.pk}),
    ]


def _programs(kw="code", control="applicant"):
    def build(w):
        hidden = w.hidden_program
        return [
            _hidden("inactive program", Program, hidden, (hidden.name,), {kw: hidden.code}),
            _visible("active program", {kw: "chain_living"}, control),
        ]

    return build


route("applications:notice", "public")(_programs())
# the form opens only once the notice was read long enough: a redirect to the notice
route("applications:new", "public", control_ok=(200, 302))(_programs())
route("API GET /api/programs/{code}", "public")(_programs(control="anonymous"))


@route("applications:template", "public")
def _(w):
    hidden = w.hidden_program
    return [
        _hidden(
            "inactive program",
            Program,
            hidden,
            (),
            {"code": hidden.code, "material_type": "talent_service_form"},
        ),
        _visible(
            "active program",
            {"code": "agency_conference", "material_type": "conference_form"},
            "agency_admin",
        ),
    ]


FAMILIES = {
    "applications": build_applications,
    "profiles": build_profiles,
    "desks": build_desks,
    "agency": build_agency,
    "housing": build_housing,
    "public": build_public,
}


# --- running the matrix ------------------------------------------------------------------------


def url_of(key: str, kwargs: dict, query: str) -> str:
    if key.startswith("API "):
        url = key.split(" ", 2)[2].format(**kwargs)
    else:
        url = reverse(key, kwargs=kwargs)
    return f"{url}?{query}" if query else url


def send(w, persona, key, kwargs, method, query, body):
    client, token = w.clients[persona], w.tokens[persona]
    url = url_of(key, kwargs, query)
    data = body() if body else {}
    if method == "GET":
        return url, client.get(url)
    if key.startswith("API "):
        return url, client.generic(
            method, url, json.dumps(data), content_type="application/json", HTTP_X_CSRFTOKEN=token
        )
    return url, client.post(url, {**data, "csrfmiddlewaretoken": token})


def text_of(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return f"{response.status_code}\n{response.get('Location', '')}\n" + raw.decode(
        "utf-8", "replace"
    )


TOKENS = re.compile(r"(csrfmiddlewaretoken\"? value=\"|csrf[-_]token\"?[:=]\s*\"?|nonce=\")[^\"]+")


def normalised(text: str, url: str) -> str:
    """The answer with what differs per request (tokens, nonces) and the requested path
    itself (the login redirect's ``next``) taken out."""
    path = url.split("?")[0]
    for form in (path, quote(path, safe=""), quote(path)):
        text = text.replace(form, "<url>")
    return TOKENS.sub(r"\1<token>", text)


def said(text: str) -> str:
    """What a page answered: its form errors and messages, else its beginning."""
    found = re.findall(r'class="(?:error|message)[^"]*"[^>]*>([^<]+)<', text)
    return repr([" ".join(f.split()) for f in found] or text[:300])


def nowhere(kwargs: dict) -> dict:
    return {k: (NOWHERE if isinstance(v, int) else v) for k, v in kwargs.items()} | (
        {"code": "no-such-program"}
        if "material_type" in kwargs or kwargs.keys() == {"code"}
        else {}
    )


def run_matrix(w, family: str, counts) -> tuple[list, list]:
    leaks, failures = [], []
    keys = [k for k, spec in REGISTRY.items() if spec.family == family]
    targets = {key: REGISTRY[key].build(w) for key in keys}
    missing_cache = {}

    # 1. every persona that does not own the object, every method
    for key in keys:
        spec = REGISTRY[key]
        for target in targets[key]:
            # what each request is checked against: the state after the one before
            state, totals = target.state(), global_counts()
            for method, query in spec.requests:
                for persona in PERSONAS:
                    if persona in target.owners:
                        continue
                    cache_key = (key, persona, method, query, tuple(sorted(target.kwargs)))
                    if cache_key not in missing_cache:
                        url, response = send(
                            w, persona, key, nowhere(target.kwargs), method, query, target.body
                        )
                        missing_cache[cache_key] = normalised(text_of(response), url)
                    url, response = send(w, persona, key, target.kwargs, method, query, target.body)
                    counts.add("requests tried")
                    text = text_of(response)
                    problems = []
                    allowed = {404} | (
                        {401 if key.startswith("API ") else 302}
                        if persona == "anonymous"
                        else set()
                    )
                    if response.status_code not in allowed:
                        problems.append(f"answered {response.status_code}")
                    location = response.get("Location", "")
                    if response.status_code == 302 and not location.startswith(
                        resolve_url(settings.LOGIN_URL)
                    ):
                        problems.append(f"redirected to {location}")
                    if normalised(text, url) != missing_cache[cache_key]:
                        problems.append("differs from the answer for a nonexistent id")
                    problems += [f"shows {m!r}" for m in target.markers if m and m in text]
                    now_state, now_totals = target.state(), global_counts()
                    if now_state != state:
                        problems.append("changed the object")
                    problems += [
                        f"{name} rows {totals[name]} → {n}"
                        for name, n in now_totals.items()
                        if n != totals[name]
                    ]
                    state, totals = now_state, now_totals
                    if problems:
                        asked = f"{method}?{query}" if query else method
                        leaks.append(
                            f"{key} [{target.label}] {persona} {asked}"
                            f" → {response.status_code}: {'; '.join(problems)} — {text[:160]!r}"
                        )

    # 2. positive controls: the persona with a right gets the page ...
    controlled = set()
    for key in keys:
        spec = REGISTRY[key]
        for target in targets[key]:
            if target.control is None:
                continue
            for method, query in spec.requests:
                if method != "GET":
                    continue
                url, response = send(w, target.control, key, target.kwargs, method, query, None)
                counts.add("controls")
                controlled.add(key)
                if response.status_code not in spec.control_ok:
                    failures.append(
                        f"control {key} [{target.label}] {target.control} GET{query}: "
                        f"{response.status_code}, expected {spec.control_ok}"
                    )
    # ... and their write takes effect (run last, in the registry's order)
    for key in keys:
        spec = REGISTRY[key]
        writes = [(m, q) for m, q in spec.requests if m != "GET"]
        if not writes or not (spec.changes or key not in controlled):
            continue
        for target in targets[key]:
            if target.control is None or not target.acts:
                continue
            method, query = writes[0]
            before = target.state()
            url, response = send(w, target.control, key, target.kwargs, method, query, target.body)
            counts.add("controls")
            controlled.add(key)
            if response.status_code == 404:
                failures.append(f"control {key} [{target.label}] {target.control} {method}: 404")
            elif spec.changes and target.state() == before:
                failures.append(
                    f"control {key} [{target.label}] {target.control} {method}: "
                    f"{response.status_code} but nothing changed — {said(text_of(response))}"
                )
    failures += [f"no positive control for {key}" for key in keys if key not in controlled]
    return leaks, failures


@pytest.fixture
def isolated_media(settings, tmp_path):
    """Files of this test (the demo's too: ask for it before the city) under tmp."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.mark.parametrize("family", list(FAMILIES))
def test_no_persona_reaches_an_object_it_does_not_own(
    family,
    isolated_media,
    agencies,  # noqa: F811
    ready_applicant,
    security_counts,
    tmp_path,
):
    """For every object route: every persona that does not own the object gets the same
    "not found" as for a nonexistent id, sees nothing of it and changes nothing."""
    w = SimpleNamespace(city=agencies)
    w.users = build_personas(agencies, tmp_path)
    FAMILIES[family](w)
    w.clients, w.tokens = clients_for(w.users)
    counts = security_counts("authorization")
    leaks, failures = run_matrix(w, family, counts)
    counts.add("leaks", len(leaks))
    assert not leaks, f"{len(leaks)} leak(s):\n" + "\n".join(leaks)
    assert not failures, "\n".join(failures)


# --- completeness -------------------------------------------------------------------------------


def object_routes() -> set[str]:
    """Every Django route with a path parameter (namespace:name) and every API operation
    with one ("API METHOD /api/path")."""
    found = set()

    def walk(resolver, namespace, has_params):
        for pattern in resolver.url_patterns:
            params = has_params or bool(
                getattr(pattern.pattern, "converters", None) or pattern.pattern.regex.groups
            )
            if isinstance(pattern, URLResolver):
                ns = namespace
                if pattern.namespace:
                    ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                if ns == "api-1.0.0":
                    continue  # the API's operations are listed with their methods below
                walk(pattern, ns, params)
            elif params:
                name = pattern.name or str(pattern.pattern)
                found.add(f"{namespace}:{name}" if namespace else name)

    walk(get_resolver(), None, False)
    from rencai.api.api import api

    for path, operations in api.get_openapi_schema()["paths"].items():
        if "{" in path:
            found.update(f"API {method.upper()} {path}" for method in operations)
    return found


def test_every_object_route_has_an_entry():
    """A new route or API operation that takes an id fails here until it has an entry in
    REGISTRY (or a reason in PUBLIC / EXCLUDED)."""
    routes = object_routes()
    covered = set(REGISTRY) | set(PUBLIC)
    missing = sorted(
        r for r in routes if r not in covered and not any(r.startswith(p) for p in EXCLUDED)
    )
    assert not missing, "object routes without an authorization-matrix entry:\n" + "\n".join(
        missing
    )
    stale = sorted(set(REGISTRY) - routes)
    assert not stale, f"entries for routes that no longer exist: {stale}"
    assert {"applications:detail", "API GET /api/applications/{app_id}", "admin:view_on_site"} <= (
        routes
    )  # the walk sees pages, API operations and the admin
