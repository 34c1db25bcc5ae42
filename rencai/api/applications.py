"""The JSON API for programs, the applicant's profile and applications, and the staff
queue and its decisions (item 10). Thin like the pages: parse, check with the same form
the pages use, call ``rencai.applications.transitions``, answer. The engine decides who
may see and do what; every refusal reaches the client in the one shape of
``rencai.api.api`` (a 404 for "does not exist" and "not yours" alike)."""

import datetime
import time
from typing import Any, Literal

from django.db.models import Q
from django.http import Http404
from django.urls import register_converter
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.security import django_auth

from rencai.api.common import In, errors, require_csrf
from rencai.applications import access, rules, selectors, transitions
from rencai.applications.forms import ApplicationForm, ReviewActionForm, initial_from
from rencai.applications.models import ACTION_NAMES, Application, ApplicationEvent
from rencai.applications.views import _notice_key
from rencai.errors import ServiceError
from rencai.profiles.models import Material
from rencai.profiles.selectors import profile_summary
from rencai.programs.models import Program
from rencai.review.access import is_staff_area_user

router = Router()


class AnyText:
    """A path parameter that is any text: a slash or a line break in it (neither Django's
    ``str`` nor ``path`` converter takes both) still reaches the view and its JSON 404,
    not Django's HTML page for an unknown URL."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyText, "anytext")

MAX_PAGE = 100
MAX_ID = 2**63 - 1  # larger numbers are no row's id (and no database's integer)
# The database adds offset and limit in a 64-bit integer: a larger offset is a 422, not a
# 500 (a page past the last is empty all the same).
MAX_OFFSET = MAX_ID - MAX_PAGE
Kind = Literal["person", "employer", "agency"]
# Every state of the model, so that a later state (paid, confirmed, cancelled) is an answer
# the schema allows, never a response validation error (issue 8, found by the race suite).
State = Literal[tuple(Application.State.values)]


# --- schemas -------------------------------------------------------------------------


class ProgramOut(Schema):
    code: str
    name: str
    category: str
    category_name: str
    applicant_kind: Kind
    applicant_kind_display: str
    summary: str


class FieldOut(Schema):
    code: str
    label: str
    type: str
    required: bool
    help: str = ""
    default: Any = None
    min: int | float | None = None
    max: int | float | None = None
    choices: list[str] | None = None


class MaterialSpecOut(Schema):
    type: str
    label: str
    required: bool
    help: str = ""


class NoticeOut(Schema):
    text: str
    min_seconds: int


class OpeningWindowOut(Schema):
    start: str
    end: str


class OpeningOut(Schema):
    always: bool
    windows: list[OpeningWindowOut]


class StageSpecOut(Schema):
    code: str
    name: str


class ChainOut(Schema):
    name: str
    stages: list[StageSpecOut]


class ProgramDetailOut(ProgramOut):
    opening: OpeningOut
    notice: NoticeOut
    commitment: str
    fields: list[FieldOut]
    materials: list[MaterialSpecOut]
    chains: list[ChainOut]
    claim_kind: bool
    upgrades: bool


class StageOut(Schema):
    name: str
    status: Literal["done", "current", "stopped", "waiting"]


class ApplicationOut(Schema):
    id: int
    number: str | None
    program_code: str
    program_name: str
    state: State
    state_display: str
    stage_name: str | None = Field(
        description="The stage it waits at, while submitted or in review"
    )
    stages: list[StageOut]
    editable: bool
    months: int | None
    amount: str | None = Field(description="Yuan, two decimals, as text")
    claim_kind: str | None
    claim_kind_display: str | None
    upgrade_number: int | None
    last_opinion: str
    previous_id: int | None
    version: int = Field(description="Send it back with every change (optimistic locking)")
    created_at: datetime.datetime
    submitted_at: datetime.datetime | None
    decided_at: datetime.datetime | None
    data: dict[str, Any]
    materials: dict[str, list[int]] = Field(description="Material type → material ids")


class ApplicationPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ApplicationOut]


class RuleOut(Schema):
    code: str
    name: str
    ok: bool
    reason: str


class PrecheckOut(Schema):
    all_ok: bool
    editable: bool
    results: list[RuleOut]


class EventOut(Schema):
    action: str
    action_display: str
    actor_name: str
    role: str
    organisation: str
    stage_name: str
    from_state: str
    to_state: str
    opinion: str
    at: datetime.datetime


class ApplicationIn(In):
    program: str = Field(description="Program code")
    data: dict[str, Any] = Field(
        default_factory=dict, description="Field code → value; missing fields take the defaults"
    )
    materials: dict[str, list[int]] | None = Field(
        default=None, description="Material type → ids of the applicant's materials"
    )
    client_token: str | None = Field(
        default=None,
        description="8–64 letters, digits, - or _, new for each draft: a retry with the same "
        "token returns the draft the first call made instead of a second one",
    )


class ApplicationUpdateIn(In):
    data: dict[str, Any] | None = Field(
        default=None, description="Replaces the filled form; omit to keep it"
    )
    materials: dict[str, list[int]] | None = Field(
        default=None, description="Replaces the attachments; omit to keep them"
    )
    version: int


class SubmitIn(In):
    commitment_accepted: bool = False
    version: int


class VersionIn(In):
    version: int


class DecisionIn(In):
    action: Literal["approve", "return", "reject"]
    opinion: str = ""
    version: int


class ApplicantOut(Schema):
    name: str
    masked_id_number: str
    masked_phone: str


class ReviewItemOut(Schema):
    id: int
    number: str | None
    program_code: str
    program_name: str
    applicant: ApplicantOut
    employer_name: str | None
    state: State
    state_display: str
    stage_name: str | None
    months: int | None
    amount: str | None
    submitted_at: datetime.datetime | None
    version: int
    can_act: bool


class ReviewPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ReviewItemOut]


class EducationOut(Schema):
    id: int
    school_id: int
    school: str
    major: str
    level: str
    level_display: str
    degree: str
    degree_display: str
    graduation_date: datetime.date
    diploma_number: str
    degree_number: str
    is_highest: bool


class QualificationOut(Schema):
    id: int
    qualification_id: int
    name: str
    level: str
    level_display: str
    certificate_number: str
    issued_date: datetime.date


class HistoryOut(Schema):
    id: int
    kind: str
    organisation_name: str
    employer_id: int | None
    district_id: int | None
    district: str
    role: str
    start_date: datetime.date
    end_date: datetime.date | None
    is_current: bool
    contract_start: datetime.date | None
    contract_end: datetime.date | None


class ProfileBasicsOut(Schema):
    complete: bool
    ethnicity: str
    ethnicity_display: str
    party: str
    party_display: str
    household_address: str
    current_address: str
    position: str


class MaterialOut(Schema):
    id: int
    material_type: str
    original_name: str
    size: int
    uploaded_at: datetime.datetime


class ProfileOut(Schema):
    user_id: int
    real_name: str
    id_type: str
    gender: str
    gender_display: str
    birth_date: datetime.date | None
    employer_id: int | None
    employer: str
    profile: ProfileBasicsOut
    highest_education: EducationOut | None
    educations: list[EducationOut]
    qualifications: list[QualificationOut]
    work_history: list[HistoryOut]
    study_history: list[HistoryOut]
    materials: list[MaterialOut] = Field(
        default_factory=list, description="The person's uploaded materials (ids to attach)"
    )


class ReviewApplicationOut(ApplicationOut):
    applicant: ApplicantOut
    employer_name: str | None
    can_act: bool
    checks: list[RuleOut]
    events: list[EventOut]
    profile: ProfileOut | None


# --- helpers -------------------------------------------------------------------------


def _kind_of(user) -> str | None:
    """The applicant kind of a signed-in applicant; None for staff and the anonymous."""
    if not user.is_authenticated:
        return None
    if user.is_person:
        return "person"
    if user.is_organisation_account:
        return "agency" if user.kind == "agency" else "employer"
    return None


def _programs():
    return Program.objects.filter(active=True, current_version__isnull=False).select_related(
        "current_version", "pack"
    )


def _program_out(program: Program) -> dict:
    definition = program.definition
    return {
        "code": program.code,
        "name": program.name,
        "category": program.category,
        "category_name": program.category_name,
        "applicant_kind": program.applicant_kind,
        "applicant_kind_display": str(program.get_applicant_kind_display()),
        "summary": definition.get("summary", ""),
    }


def _program_detail_out(program: Program) -> dict:
    d = program.definition
    return {
        **_program_out(program),
        "opening": d.get("opening") or {"always": True, "windows": []},
        "notice": d["notice"],
        "commitment": d["commitment"],
        "fields": d["fields"],
        "materials": d["materials"],
        "chains": [
            {
                "name": chain.get("name") or "",
                "stages": [{"code": s["code"], "name": s["name"]} for s in chain["stages"]],
            }
            for chain in d["chains"]
        ],
        "claim_kind": bool(d.get("claim_kind")),
        "upgrades": bool(d.get("upgrades")),
    }


def _materials_of(app: Application, prefetched: bool = False) -> dict[str, list[int]]:
    if not prefetched:
        return selectors.attached_by_type(app)
    out: dict[str, list[int]] = {}
    for link in app.attachments.all():
        out.setdefault(link.material_type, []).append(link.material_id)
    return out


def _application_out(app: Application, *, prefetched: bool = False) -> dict:
    stage = app.current_stage
    return {
        "id": app.pk,
        "number": app.number,
        "program_code": app.program.code,
        "program_name": app.program.name,
        "state": app.state,
        "state_display": str(app.get_state_display()),
        "stage_name": stage["name"] if stage else None,
        "stages": selectors.stage_track(app),
        "editable": app.state in transitions.EDITABLE,
        "months": app.months,
        "amount": str(app.amount) if app.amount is not None else None,
        "claim_kind": app.claim_kind or None,
        "claim_kind_display": str(app.get_claim_kind_display()) if app.claim_kind else None,
        "upgrade_number": app.upgrade_number,
        "last_opinion": app.last_opinion,
        "previous_id": app.previous_id,
        "version": app.version,
        "created_at": app.created_at,
        "submitted_at": app.submitted_at,
        "decided_at": app.decided_at,
        "data": app.data,
        "materials": _materials_of(app, prefetched),
    }


def _rule_out(result) -> dict:
    return {"code": result.code, "name": result.name, "ok": result.ok, "reason": result.reason}


def _event_out(event: ApplicationEvent) -> dict:
    return {
        "action": event.action,
        "action_display": str(ACTION_NAMES.get(event.action, event.action)),
        "actor_name": event.actor_name,
        "role": event.role,
        "organisation": event.organisation,
        "stage_name": event.stage_name,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "opinion": event.opinion,
        "at": event.at,
    }


def _applicant_out(user) -> dict:
    # Staff never see a full ID number in the API.
    return {
        "name": user.display_name,
        "masked_id_number": user.masked_id_number,
        "masked_phone": user.masked_phone,
    }


def _can_act(app: Application, scope: tuple[set[int], set[int]]) -> bool:
    employers, authorities = scope
    return app.is_open and (
        app.stage_employer_id in employers or app.stage_authority_id in authorities
    )


def _review_out(app: Application, user) -> dict:
    return {
        **_application_out(app),
        "applicant": _applicant_out(app.applicant),
        "employer_name": app.employer.name if app.employer else None,
        "can_act": access.can_act_on(user, app),
        "checks": [_rule_out(r) for r in rules.precheck(app)],
        "events": [_event_out(e) for e in selectors.timeline(app)],
        "profile": selectors.profile_for_review(app),
    }


def _mine(user, pk: int) -> Application:
    app = access.own_application(user, pk)
    if app.deleted_at is not None:
        raise Http404
    return app


def _program_for(user, code: str) -> Program:
    """An active program the signed-in applicant may apply for (else a 404 on the
    ``program`` field, as the pages answer a program of another kind)."""
    program = None
    if "\x00" not in code:  # no code has one (and PostgreSQL refuses it in a query)
        program = _programs().filter(code=code, applicant_kind=_kind_of(user)).first()
    if program is None:
        raise ServiceError(_("没有可申报的该项目。"), field="program", code="not_found")
    return program


def _require_notice_read(request, program: Program) -> None:
    """F29 as on the pages: the notice (GET /api/programs/{code}, or its page) must have
    been opened at least its minimum time before a draft is started."""
    notice = program.definition["notice"]
    if not notice["text"]:
        return
    opened = request.session.get(_notice_key(program))
    if opened is None or time.time() - opened < notice["min_seconds"]:
        message = _("请先阅读申请须知（GET /api/programs/%(code)s）。") % {"code": program.code}
        if notice["min_seconds"]:
            message += _("须阅读至少 %(n)d 秒后再开始填写。") % {"n": notice["min_seconds"]}
        raise ServiceError(message, field="program", code="notice")


def _clean_data(definition: dict, data: dict) -> dict:
    """Check the values with the pages' form, so both accept exactly the same; the first
    problem becomes a 400 on that field."""
    specs = {spec["code"]: spec for spec in definition["fields"]}
    for code, value in data.items():
        if code not in specs:
            raise ServiceError(_("该项目没有“%(f)s”这一填报项。") % {"f": code}, field=code)
        if isinstance(value, dict | list):
            raise ServiceError(
                _("“%(label)s”的格式不正确。") % {"label": specs[code]["label"]}, field=code
            )
    form = ApplicationForm(
        definition,
        {code: "" if value is None else value for code, value in data.items()},
        materials_of_owner=[],
    )
    if form.is_valid():
        return form.to_data()
    for code, spec in specs.items():
        if code in form.errors:
            raise ServiceError(
                _("%(label)s：%(error)s") % {"label": spec["label"], "error": form.errors[code][0]},
                field=code,
            )
    raise ServiceError(form.non_field_errors()[0] if form.non_field_errors() else _("填报有误。"))


def _clean_materials(definition: dict, materials: dict | None, user) -> dict | None:
    """Each type must be one the program asks for; each id one of the applicant's own
    materials of that type (what the pages offer as choices)."""
    if materials is None:
        return None
    specs = {spec["type"]: spec for spec in definition["materials"]}
    out = {}
    for material_type, ids in materials.items():
        spec = specs.get(material_type)
        if spec is None:
            raise ServiceError(
                _("该项目不需要“%(t)s”类材料。") % {"t": material_type}, field="materials"
            )
        ids = list(dict.fromkeys(ids))
        found = set(
            Material.objects.filter(
                owner=user,
                material_type=material_type,
                pk__in=[pk for pk in ids if 0 < pk <= MAX_ID],
            ).values_list("pk", flat=True)
        )
        unknown = [str(pk) for pk in ids if pk not in found]
        if unknown:
            raise ServiceError(
                _("材料 %(ids)s 不存在，或不是您上传的“%(label)s”。")
                % {"ids": "、".join(unknown), "label": spec["label"]},
                field="materials",
            )
        out[material_type] = ids
    return out


def _page(qs, limit: int, offset: int) -> tuple[int, list]:
    return qs.count(), list(qs[offset : offset + limit])


# --- programs ------------------------------------------------------------------------


@router.get("/programs", response={200: list[ProgramOut], **errors(403, 422)}, tags=["programs"])
def programs(request, applicant_kind: Kind | None = None):
    """Active programs. A signed-in applicant sees those of its own kind; anyone else
    (anonymous, staff) sees all, or one kind with ``applicant_kind``."""
    kind = _kind_of(request.user) or applicant_kind
    qs = _programs()
    if kind:
        qs = qs.filter(applicant_kind=kind)
    return [_program_out(p) for p in qs.order_by("pack__code", "order")]


@router.get(
    "/programs/{anytext:code}",
    response={200: ProgramDetailOut, **errors(403, 404)},
    tags=["programs"],
)
def program_detail(request, code: str):
    """A program's definition: notice, commitment, fields, materials and stages. For a
    signed-in applicant this is also opening the notice (F29): a draft may be started
    once it has been open ``notice.min_seconds``."""
    if "\x00" in code:
        raise Http404
    kind = _kind_of(request.user)
    qs = _programs().filter(code=code)
    if kind:
        qs = qs.filter(applicant_kind=kind)
    program = qs.first()
    if program is None:
        raise Http404
    if kind:
        request.session.setdefault(_notice_key(program), time.time())
    return _program_detail_out(program)


# --- the applicant -------------------------------------------------------------------


@router.get(
    "/me/profile",
    response={200: ProfileOut, **errors(401, 403, 404)},
    auth=django_auth,
    tags=["profile"],
)
def my_profile(request):
    """The person's basic information, education, qualifications, history and uploaded
    materials. Only persons have one (404 for other accounts)."""
    user = request.auth
    if not user.is_person:
        raise Http404
    materials = Material.objects.filter(owner=user).order_by("material_type", "-id")
    return {
        **profile_summary(user),
        "materials": [
            {
                "id": m.pk,
                "material_type": m.material_type,
                "original_name": m.original_name,
                "size": m.size,
                "uploaded_at": m.uploaded_at,
            }
            for m in materials
        ],
    }


@router.get(
    "/applications",
    response={200: ApplicationPage, **errors(401, 403, 422)},
    auth=django_auth,
    tags=["applications"],
)
def my_applications(
    request,
    state: State | None = None,
    limit: int = Query(20, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    """My applications, newest first."""
    qs = selectors.applications_of(request.auth).prefetch_related("attachments")
    if state:
        qs = qs.filter(state=state)
    count, rows = _page(qs, limit, offset)
    return {
        "count": count,
        "limit": limit,
        "offset": offset,
        "items": [_application_out(app, prefetched=True) for app in rows],
    }


@router.post(
    "/applications",
    response={201: ApplicationOut, **errors(400, 401, 403, 404, 409, 422)},
    auth=django_auth,
    tags=["applications"],
)
def application_create(request, payload: ApplicationIn):
    """Start a draft (暂存) of a program, after its notice was read."""
    require_csrf(request)
    user = request.auth
    program = _program_for(user, payload.program)
    _require_notice_read(request, program)
    definition = program.definition
    data = _clean_data(definition, {**initial_from(definition, {}), **payload.data})
    materials = _clean_materials(definition, payload.materials, user)
    app = transitions.draft_save(
        actor=user,
        program=program,
        data=data,
        materials=materials,
        client_token=payload.client_token,
        request=request,
    )
    return Status(201, _application_out(app))


@router.get(
    "/applications/{app_id}",
    response={200: ApplicationOut, **errors(401, 403, 404, 422)},
    auth=django_auth,
    tags=["applications"],
)
def application_detail(request, app_id: int):
    return _application_out(_mine(request.auth, app_id))


@router.put(
    "/applications/{app_id}",
    response={200: ApplicationOut, **errors(400, 401, 403, 404, 409, 422)},
    auth=django_auth,
    tags=["applications"],
)
def application_update(request, app_id: int, payload: ApplicationUpdateIn):
    """Change a draft or a returned application: ``data`` replaces the filled form,
    ``materials`` the attachments; ``version`` is the one last read."""
    require_csrf(request)
    user = request.auth
    app = _mine(user, app_id)
    definition = app.definition
    data = _clean_data(definition, payload.data) if payload.data is not None else app.data
    materials = _clean_materials(definition, payload.materials, user)
    app = transitions.draft_save(
        actor=user,
        application=app,
        data=data,
        materials=materials,
        seen_version=payload.version,
        request=request,
    )
    return _application_out(app)


@router.delete(
    "/applications/{app_id}",
    response={204: None, **errors(401, 403, 404, 409, 422)},
    auth=django_auth,
    tags=["applications"],
)
def application_delete(request, app_id: int):
    """Delete a draft (its content stays in the history)."""
    require_csrf(request)
    app = _mine(request.auth, app_id)
    transitions.draft_delete(actor=request.auth, application=app, request=request)
    return Status(204, None)


@router.get(
    "/applications/{app_id}/precheck",
    response={200: PrecheckOut, **errors(401, 403, 404, 422)},
    auth=django_auth,
    tags=["applications"],
)
def application_precheck(request, app_id: int):
    """Every eligibility rule with its result and reason (B2)."""
    app = _mine(request.auth, app_id)
    results = rules.precheck(app)
    return {
        "all_ok": all(r.ok for r in results),
        "editable": app.state in transitions.EDITABLE,
        "results": [_rule_out(r) for r in results],
    }


@router.post(
    "/applications/{app_id}/submit",
    response={200: ApplicationOut, **errors(400, 401, 403, 404, 409, 422)},
    auth=django_auth,
    tags=["applications"],
)
def application_submit(request, app_id: int, payload: SubmitIn):
    """Submit a draft or resubmit a returned application; refused (422, ``ineligible``)
    while a rule of the pre-check fails."""
    require_csrf(request)
    app = _mine(request.auth, app_id)
    app = transitions.submit(
        actor=request.auth,
        application=app,
        commitment_accepted=payload.commitment_accepted,
        seen_version=payload.version,
        request=request,
    )
    return _application_out(app)


@router.post(
    "/applications/{app_id}/withdraw",
    response={200: ApplicationOut, **errors(400, 401, 403, 404, 409, 422)},
    auth=django_auth,
    tags=["applications"],
)
def application_withdraw(request, app_id: int, payload: VersionIn):
    """Withdraw a submitted application no reviewer has acted on yet (back to draft)."""
    require_csrf(request)
    app = _mine(request.auth, app_id)
    app = transitions.withdraw(
        actor=request.auth, application=app, seen_version=payload.version, request=request
    )
    return _application_out(app)


@router.post(
    "/applications/{app_id}/reapply",
    response={201: ApplicationOut, **errors(401, 403, 404, 409, 422)},
    auth=django_auth,
    tags=["applications"],
)
def application_reapply(request, app_id: int):
    """After a rejection: a new draft with the same content, linked to the old one."""
    require_csrf(request)
    app = _mine(request.auth, app_id)
    new_app = transitions.apply_again(actor=request.auth, application=app, request=request)
    return Status(201, _application_out(new_app))


@router.get(
    "/applications/{app_id}/timeline",
    response={200: list[EventOut], **errors(401, 403, 404, 422)},
    auth=django_auth,
    tags=["applications"],
)
def application_timeline(request, app_id: int):
    """Who did what, when, at which stage, with which opinion (F36)."""
    return [_event_out(e) for e in selectors.timeline(_mine(request.auth, app_id))]


# --- staff ---------------------------------------------------------------------------


def _staff(user):
    if not is_staff_area_user(user):
        raise Http404
    return user


@router.get(
    "/review/queue",
    response={200: ReviewPage, **errors(401, 403, 404, 422)},
    auth=django_auth,
    tags=["review"],
)
def review_queue(
    request,
    status: Literal["waiting", "handled"] = "waiting",
    q: str = "",
    limit: int = Query(20, ge=1, le=MAX_PAGE),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    """What waits at my stage (``waiting``, oldest first) or what my organisation
    already handled (``handled``). ID numbers are masked."""
    user = _staff(request.auth)
    scope = access.actor_scope(user)
    base = Application.objects.select_related("program", "program_version", "applicant", "employer")
    if status == "handled":
        employers, authorities = scope
        qs = base.filter(
            deleted_at__isnull=True,
            pk__in=ApplicationEvent.objects.filter(
                Q(actor_org_employer_id__in=employers) | Q(actor_org_authority_id__in=authorities)
            ).values("application_id"),
        )
    else:
        qs = base.filter(access.queue_filter(user))
    q = q.replace("\x00", "").strip()
    if q:
        qs = qs.filter(
            Q(number__icontains=q)
            | Q(applicant__real_name__icontains=q)
            | Q(program__name__icontains=q)
            | Q(employer__name__icontains=q)
        )
    count, rows = _page(qs.order_by("submitted_at", "id"), limit, offset)
    items = []
    for app in rows:
        stage = app.current_stage
        items.append(
            {
                "id": app.pk,
                "number": app.number,
                "program_code": app.program.code,
                "program_name": app.program.name,
                "applicant": _applicant_out(app.applicant),
                "employer_name": app.employer.name if app.employer else None,
                "state": app.state,
                "state_display": str(app.get_state_display()),
                "stage_name": stage["name"] if stage else None,
                "months": app.months,
                "amount": str(app.amount) if app.amount is not None else None,
                "submitted_at": app.submitted_at,
                "version": app.version,
                "can_act": _can_act(app, scope),
            }
        )
    return {"count": count, "limit": limit, "offset": offset, "items": items}


@router.get(
    "/review/applications/{app_id}",
    response={200: ReviewApplicationOut, **errors(401, 403, 404, 422)},
    auth=django_auth,
    tags=["review"],
)
def review_application(request, app_id: int):
    """An application at my stage, or one my organisation handled: the form, the
    applicant (ID masked) and profile, the rule checks and the timeline."""
    user = _staff(request.auth)
    return _review_out(access.application_for_staff(user, app_id), user)


DECISIONS = {
    "approve": transitions.approve,
    "return": transitions.return_,
    "reject": transitions.reject,
}


@router.post(
    "/review/applications/{app_id}/decision",
    response={200: ReviewApplicationOut, **errors(400, 401, 403, 404, 409, 422)},
    auth=django_auth,
    tags=["review"],
)
def review_decision(request, app_id: int, payload: DecisionIn):
    """Approve (to the next stage, or finally), return with a reason, or reject with a
    reason, at my stage; ``version`` is the one last read."""
    require_csrf(request)
    user = _staff(request.auth)
    app = access.application_for_staff(user, app_id)
    form = ReviewActionForm(payload.model_dump())  # the page's form: the same values pass
    if not form.is_valid():
        code, messages = next(iter(form.errors.items()))
        raise ServiceError(
            _("%(label)s：%(error)s") % {"label": form.fields[code].label, "error": messages[0]},
            field=code,
        )
    app = DECISIONS[payload.action](
        actor=user,
        application=app,
        opinion=form.cleaned_data["opinion"],
        seen_version=form.cleaned_data["version"],
        request=request,
    )
    return _review_out(app, user)
