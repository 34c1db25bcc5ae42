"""The application state machine (F30–F32): the one module that changes an application's
state. Each transition

- checks the actor's right through ``rencai.applications.access`` (refusals are 404s for
  other people's records, ServiceErrors for a wrong state);
- runs in one transaction holding a row lock on the application, and compares the
  version the actor saw, so two reviewers can never both act;
- appends an ``ApplicationEvent``, writes an audit row and notifies (SMS after commit).

    draft ──submit──▶ submitted ──approve──▶ in_review(k) ──approve…──▶ approved
      ▲                  │  └─return/reject─┐      │
      └──withdraw────────┘                  ▼      ▼
    returned ──resubmit──▶ the returning stage, or the start
    rejected ──apply again──▶ a new draft linked to it
"""

import contextvars
import datetime
import re
import uuid

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rencai.applications import access, rules
from rencai.applications import uploads as form_uploads
from rencai.applications.models import (
    Application,
    ApplicationEvent,
    ApplicationGap,
    ApplicationMaterial,
    ApplicationVersion,
)
from rencai.applications.notices import deliver
from rencai.audit.services import audit_record, audit_record_many
from rencai.bulk import combined, insert_many, insert_one, update_one
from rencai.errors import ServiceError
from rencai.links import url
from rencai.notifications.services import notify, notify_each, notify_many
from rencai.orgs.models import Authority, Membership, Region
from rencai.prepared import PreparedGet
from rencai.programs import months as m
from rencai.programs.models import Program

S = Application.State
EDITABLE = (S.DRAFT, S.RETURNED)


# --- helpers -------------------------------------------------------------------------


# The application with what every action reads of it, locked to the end of the
# transaction; the statement is compiled once per process (issue 7).
_locked = PreparedGet(
    lambda: Application.objects.select_for_update(of=("self",)).select_related(
        "program", "program_version", "employer", "applicant"
    )
)


def _lock(pk: int) -> Application:
    app = _locked(pk)
    if app is None:
        raise Http404
    _share_employer(app, app.applicant)
    return app


# An applicant's own action: the applicant is the signed-in user, already read.
_locked_own = PreparedGet(
    lambda: Application.objects.select_for_update(of=("self",)).select_related(
        "program", "program_version", "employer"
    )
)


def _unwrapped(user):
    """The user behind ``request.user``, Django's lazy proxy: every attribute read through
    the proxy is a function call, and a submission reads its applicant's some two hundred
    times (issue 7)."""
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        return user._wrapped
    return user


def _lock_own(pk: int, actor) -> Application:
    """``_lock`` for the applicant acting on their own application (saving, submitting,
    withdrawing, deleting, confirming, applying again): the applicant is ``actor``
    (unwrapped, see above), not read again. Someone else's, or a deleted one, is a 404."""
    actor = _unwrapped(actor)
    app = _locked_own(pk)
    if app is None or app.applicant_id != actor.pk or app.deleted_at is not None:
        raise Http404
    app.applicant = actor
    _share_employer(app, actor)
    return app


def _share_employer(app: Application, applicant) -> None:
    if applicant.employer_id is not None and applicant.employer_id == app.employer_id:
        applicant.employer = app.employer  # the same row, already read with the lock


def _ids(values) -> list[int]:
    """Record ids posted by a desk's checkboxes, sorted and unique. Anything not a whole
    number means a tampered or garbled form: refused with a message, nothing done."""
    try:
        return sorted({int(v) for v in values})
    except (TypeError, ValueError):
        raise ServiceError(
            _("所选申报有误，请刷新页面后重新选择。"), field="applications"
        ) from None


def _id(value) -> int:
    """One posted record id; a garbled one finds nothing (404)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


def _check_version(app: Application, seen_version: int | None) -> None:
    try:
        seen = int(seen_version) if seen_version not in (None, "") else None
    except (TypeError, ValueError):
        seen = -1  # a tampered or garbled form: treat it as stale
    if seen is not None and seen != app.version:
        raise ServiceError(
            _("该申报已被他人处理或修改，请刷新页面查看最新状态后再操作。"), code="state"
        )


def _event(app, **fields):
    return insert_one(_event_row(app, **fields))


def _event_row(
    app, *, action, actor, from_state, from_stage, opinion="", role="", org=None, notices=None
):
    """An event not yet stored: ``_event`` saves one, the batch paths store many at once.
    ``notices``: the messages the worker is to send for it (``_notices``)."""
    employer = org if org is not None and org.__class__.__name__ == "Employer" else None
    authority = org if org is not None and org.__class__.__name__ == "Authority" else None
    stage_name = ""
    if from_stage is not None and app.program_version.definition["chains"]:
        stages = app.stages
        if 0 <= from_stage < len(stages):
            stage_name = stages[from_stage]["name"]
    # ids, not instances: 10,000 events are built per batch (issue 7)
    return ApplicationEvent(
        application_id=app.pk,
        action=action,
        actor_id=actor.pk if actor else None,
        actor_name=(getattr(actor, "display_name", "") or str(actor)) if actor else _("系统"),
        role=role,
        organisation=str(org) if org is not None else "",
        actor_org_employer_id=employer.pk if employer else None,
        actor_org_authority_id=authority.pk if authority else None,
        stage_name=stage_name,
        from_state=from_state,
        to_state=app.state,
        from_stage=from_stage,
        to_stage=app.stage if app.is_open else None,
        opinion=opinion,
        notices=notices,
    )


def _snapshot(app: Application, reason: str) -> None:
    insert_one(
        ApplicationVersion(
            application=app,
            number=rules.next_version_number(app),
            reason=reason,
            data=app.data,
            materials=[
                {
                    "material_type": a.material_type,
                    "material_id": a.material_id,
                    "material__original_name": a.original_name,
                }
                for a in rules.attachments_of(app)
            ],
        )
    )


def _save(app: Application) -> None:
    app.version += 1
    if app._state.adding:
        app.save()  # a new draft
    else:
        update_one(app)


def _audit(app, action, actor, request, **extra):
    audit_record(**_audit_row(app, action, actor, request, **extra))


def _audit_row(app, action, actor, request, **extra) -> dict:
    return {
        "action": f"application.{action}",
        "actor": actor,
        "obj": app,
        "after": {"state": app.state, "stage": app.stage, "number": app.number or "", **extra},
        "request": request,
    }


def _link(app) -> str:
    return url("applications:detail", app.pk)


def _staff_link(app) -> str:
    return url("review:application", app.pk)


def _tell_applicant(app, title, body):
    notify(user=app.applicant, title=title, body=body, link=_link(app))


def _tell_row(app, title, body) -> tuple:
    """``_tell_applicant``'s message for ``notify_each`` (the batch paths)."""
    return (app.applicant, title, body, _link(app))


def _stage_employers(app) -> list[int]:
    return [e for e in (app.stage_employer_id, app.stage_employer_also_id) if e]


def _stage_people(app):
    """The users who act at the application's current stage (every pending organisation)."""
    return access.stage_people(_stage_employers(app), app.stage_authority_id)


def _stage_message(app) -> tuple[str, str, str]:
    return (
        _("待审核：%(p)s") % {"p": app.program.name},
        _("%(name)s 的申报 %(no)s 已到“%(stage)s”环节，请及时审核。")
        % {
            "name": app.applicant.display_name,
            "no": app.number,
            "stage": app.current_stage["name"],
        },
        _staff_link(app),
    )


def _tell_stage(app):
    title, body, link = _stage_message(app)
    notify_many(users=_stage_people(app), title=title, body=body, link=link)


def _notices(app, title: str, body: str) -> dict:
    """``_tell_applicant`` and ``_tell_stage`` as a notice for the task worker (issue 7,
    ``rencai.applications.notices``): the texts are written now, in the request's
    language, and stored in the step's event, so they go out if and only if the step
    commits; finding the stage's people and writing the messages and the SMS outbox rows
    is the worker's job."""
    stage_title, stage_body, stage_link = _stage_message(app)
    return {
        "users": [{"users": [app.applicant_id], "title": title, "body": body, "link": _link(app)}],
        "stages": [
            {
                "employers": _stage_employers(app),
                "authority": app.stage_authority_id,
                "title": stage_title,
                "body": stage_body,
                "link": stage_link,
            }
        ],
    }


def _worker_sends() -> bool:
    """Whether a task worker runs (the database task backend, ``rencai.ops.tasks``): then
    a step's messages wait in its event for it; otherwise the request sends them itself."""
    from rencai.applications.tasks import send_notices

    return getattr(send_notices.get_backend(), "runs_in_worker", False)


def choose_chain(definition: dict, employer, talent_rank: int = 0) -> int:
    for index, chain in enumerate(definition["chains"]):
        when = chain["when"]
        if not when:
            return index
        if "talent_rank" in when and talent_rank < when["talent_rank"]:
            continue  # F28: E and above to the talent office, F to the HR bureau
        if "employer_level" in when:
            level = employer.district.level if employer else None
            if level != when["employer_level"]:
                continue
        if "employer_in_park" in when:
            if bool(employer and employer.park_id) != when["employer_in_park"]:
                continue
        return index
    return len(definition["chains"]) - 1


def _city_of(region: Region) -> Region:
    return region if region.level == Region.Level.CITY or region.parent is None else region.parent


def stage_actors(stage: dict) -> list:
    """A stage's actors: one for a review stage, several for an "all of" stage (F17)."""
    return stage.get("actors") or [stage["actor"]]


# Within one batch, who plays a stage's actor is the same for every application of the
# same employer and dispatcher: asked once (issue 7). None outside a batch.
_resolved = contextvars.ContextVar("rencai_resolved", default=None)


def _resolve(app: Application, actor: dict, stage: dict):
    """The organisation that plays ``actor`` for this application, or None when the
    actor does not apply to it (no dispatching company named)."""
    cache = _resolved.get()
    if cache is None:
        return _resolve_now(app, actor, stage)
    key = (repr(actor), stage.get("name"), app.employer_id, app.dispatcher_id)
    if key not in cache:
        try:
            cache[key] = _resolve_now(app, actor, stage)
        except ServiceError as exc:
            cache[key] = exc
    if isinstance(cache[key], ServiceError):
        raise cache[key]
    return cache[key]


def _resolve_now(app: Application, actor: dict, stage: dict):
    if actor.get("employer"):
        if app.employer is None or not app.employer.is_approved:
            raise ServiceError(_("所在单位尚未通过审核，暂不能提交。"), code="blocked")
        if app.employer.kind == "virtual":
            # A county's virtual employer (F26) is run by that county's HR bureau.
            bureau = Authority.objects.filter(
                kind=Authority.Kind.HR_BUREAU, region_id=app.employer.district_id
            ).first()
            if bureau is None:
                raise ServiceError(
                    _("本市尚未设置“%(stage)s”环节的审核部门，暂不能提交，请联系管理员。")
                    % {"stage": stage["name"]},
                    code="blocked",
                )
            return bureau
        return app.employer
    if actor.get("dispatcher"):
        if app.dispatcher_id and not app.dispatcher.is_approved:
            raise ServiceError(_("劳务派遣公司尚未通过审核，暂不能提交。"), code="blocked")
        return app.dispatcher
    employer = app.employer
    authority = None
    if employer is None and actor["level"] == "city":
        # A person without an employer (a job seeker asking for a talent station): the
        # platform's city authority acts.
        cities = Region.objects.filter(level=Region.Level.CITY)
        if cities.count() == 1:
            authority = Authority.objects.filter(
                kind=actor["authority"], region=cities.first()
            ).first()
    if employer is not None:
        if actor["level"] == "park":
            authority = employer.park if employer.park_id else None
        else:
            region = employer.district
            if actor["level"] == "city":
                region = _city_of(region)
            authority = Authority.objects.filter(kind=actor["authority"], region=region).first()
            if authority is None and actor["level"] == "district":
                # A city-level employer has no district: its city's authority acts.
                authority = Authority.objects.filter(
                    kind=actor["authority"], region=_city_of(region)
                ).first()
    if authority is None or (actor["level"] == "park" and authority.kind != actor["authority"]):
        raise ServiceError(
            _("本市尚未设置“%(stage)s”环节的审核部门，暂不能提交，请联系管理员。")
            % {"stage": stage["name"]},
            code="blocked",
        )
    return authority


def _place_at_stage(app: Application, stage_index: int) -> None:
    """Point the application at stage k of its chain and resolve who acts there: one
    organisation, or for an "all of" stage every one of them (F17)."""
    stage = app.stages[stage_index]
    app.stage = stage_index
    app.stage_kind = stage.get("kind", "review")
    app.stage_entered_at = timezone.now()
    app.stage_employer = app.stage_employer_also = app.stage_authority = None
    if stage.get("kind") == "confirm":
        return  # the applicant acts (F37)
    if stage.get("kind") == "batch_report":
        app.stage_authority = _resolve(app, stage["reporter"], stage)  # it reports first
        return
    orgs = [org for actor in stage_actors(stage) if (org := _resolve(app, actor, stage))]
    for org in orgs:
        if isinstance(org, Authority):
            app.stage_authority = org
        elif app.stage_employer is None:
            app.stage_employer = org
        else:
            app.stage_employer_also = org


def _advance(app: Application) -> None:
    """Move to the next stage, or approve after the last."""
    if app.stage + 1 < len(app.stages):
        _place_at_stage(app, app.stage + 1)
        app.state = S.TO_CONFIRM if app.current_stage_kind == "confirm" else S.IN_REVIEW
    else:
        app.state = S.APPROVED
        _clear_stage(app)
        app.decided_at = timezone.now()
        _on_approved(app)


def _on_approved(app: Application) -> None:
    """What a final approval grants besides the state: a talent category (F46, F48), an
    agency's grade (F59) or a station booking (F51). Inside the approving transaction."""
    if app.definition.get("outcome") == "talent_category":
        from rencai.talent.services import grant

        grant(app)
    if app.definition.get("outcome") == "agency_grade":
        from rencai.agency.services import grant as grant_grade

        grant_grade(app)
    if app.definition.get("housing") == "station":
        from rencai.housing.services import booking_for_approved

        booking_for_approved(app)


def _clear_stage(app: Application) -> None:
    app.stage_employer = app.stage_employer_also = app.stage_authority = None
    app.stage_kind = ""


def _reviewer_org(actor, app):
    """The pending organisation the actor acts for, and their membership there."""
    from rencai.review.access import memberships_of

    for org in app.pending_orgs:
        field = "authority_id" if isinstance(org, Authority) else "employer_id"
        for membership in memberships_of(actor):
            if getattr(membership, field) == org.pk:
                return org, membership
    return None, None


def _applicant_employer(actor):
    if actor.is_person:
        return actor.employer
    return actor.own_employer()


# --- the applicant's side --------------------------------------------------------------


def draft_save(
    *,
    actor,
    program: Program | None = None,
    application: Application | None = None,
    data: dict,
    materials: dict[str, list[int]] | None = None,
    uploads: dict[str, list] | None = None,
    seen_version: int | None = None,
    client_token: str | None = None,
    request=None,
) -> Application:
    """Create a draft (暂存) or save changes to a draft or a returned application (F30).
    ``client_token`` makes a create idempotent (issue 7): a retry of the same form or API
    call returns the application the first attempt made, unchanged.
    ``data`` is already cleaned by the program form; ``materials`` maps a material type to
    the applicant's material ids; ``uploads`` maps a material type to files uploaded from
    the form (F60). Every file is checked before anything is written; then the files go
    into the applicant's material library and are attached with the ticked materials, in
    the same transaction. If the save fails, the stored files are deleted again."""
    from rencai.profiles.models import Material
    from rencai.profiles.services import material_upload

    token = _client_token(client_token) if application is None else None
    with form_uploads.removed_on_failure() as stored, transaction.atomic():
        if token:
            earlier = _created_with(actor, token)
            if earlier is not None:
                return earlier
        if application is None:
            if program is None or not program.active or program.current_version is None:
                raise ServiceError(_("该项目当前不受理申报。"), code="state")
            if program.applicant_kind != _kind_of(actor):
                raise Http404
            app = Application(
                program=program,
                program_version=program.current_version,
                applicant=actor,
                employer=_applicant_employer(actor),
                client_token=token,
                data={},
            )
            created = True
        else:
            app = _lock_own(application.pk, actor)
            _check_version(app, seen_version)
            if app.state not in EDITABLE:
                raise ServiceError(
                    _("申报已提交，当前状态为“%(s)s”，不能修改。") % {"s": app.get_state_display()},
                    code="state",
                )
            created = False
        files = form_uploads.check_uploads(app.definition, uploads)
        if app.definition.get("grading") == "rating":
            from rencai.agency.services import grading_data

            data = grading_data(app, data, created)
        app.data = data
        _derive(app)
        _save(app)
        labels = {mt["type"]: mt["label"] for mt in app.definition["materials"]}
        if materials is not None:
            app.attachments.all().delete()
            for material_type, ids in materials.items():
                if material_type not in labels:
                    continue
                for material in Material.objects.filter(pk__in=ids, owner=actor):
                    ApplicationMaterial.objects.create(
                        application=app, material_type=material_type, material=material
                    )
        for material_type, items in files.items():
            for uploaded in items:
                material = material_upload(
                    actor, material_type, uploaded, request, actor=actor, types=labels
                )
                stored.append(material.file.name)
                ApplicationMaterial.objects.create(
                    application=app, material_type=material_type, material=material
                )
        _snapshot(app, "created" if created else "saved")
        if created:
            _event(
                app, action="create", actor=actor, from_state="", from_stage=None, role=_("申请人")
            )
        _audit(
            app,
            "create" if created else "save",
            actor,
            request,
            **({"uploaded": {k: len(v) for k, v in files.items()}} if files else {}),
        )
    return app


CLIENT_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _client_token(value) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not CLIENT_TOKEN.match(value):
        raise ServiceError(_("请求标识无效，请刷新页面后重新填写。"), field="client_token")
    return value


def _created_with(actor, token: str) -> Application | None:
    """The application an earlier attempt with this token made. The applicant's row is
    locked first, so two attempts at once cannot both create one."""
    from rencai.accounts.models import User

    User.objects.select_for_update().filter(pk=actor.pk).first()
    return Application.objects.filter(applicant=actor, client_token=token).first()


def _kind_of(actor) -> str:
    if actor.is_person:
        return "person"
    return "agency" if actor.kind == "agency" else "employer"


def declaring_employer(app: Application):
    """F26: who the application is declared through. Persons declare through their
    current employer; with ``cross_county`` a bachelor may pick a job from the work
    history: in the current employer's county → the current employer; in another county
    → that county's virtual employer."""
    current = _applicant_employer(app.applicant)
    if not app.definition.get("cross_county") or not app.data.get("declaring_work"):
        return current
    from rencai.orgs.models import Employer
    from rencai.profiles.models import WorkHistory

    if rules.highest_education(app.applicant) != "bachelor":
        raise ServiceError(
            _("硕士、博士研究生的申报单位固定为现任职单位，不能选择其他单位。"),
            field="declaring_work",
        )
    work = WorkHistory.objects.filter(
        pk=app.data["declaring_work"], owner=app.applicant, kind="work"
    ).first()
    if work is None or work.district_id is None:
        raise ServiceError(
            _("请从工作经历中选择申报单位，并在工作经历中填写所在区县。"), field="declaring_work"
        )
    if current is not None and work.district_id == current.district_id:
        return current
    virtual = Employer.objects.filter(
        kind=Employer.Kind.VIRTUAL, district_id=work.district_id, status="approved"
    ).first()
    if virtual is None:
        raise ServiceError(
            _("%(d)s尚未设置跨区县申报的虚拟单位，请联系管理员。") % {"d": work.district},
            field="declaring_work",
        )
    return virtual


def _derive(app: Application) -> None:
    """Months, amount, period, claim kind, the dispatching company and the declaring
    employer, recomputed from the form at every save."""
    if app.state == S.DRAFT or app.pk is None:
        app.employer = declaring_employer(app)
    if app.definition.get("dispatch"):
        from rencai.orgs.models import Employer

        app.dispatcher = Employer.objects.filter(
            pk=app.data.get("dispatcher") or 0, kind=Employer.Kind.DISPATCH
        ).first()
    try:
        period = rules.period_of(app.definition, app.data)
    except ValueError:
        period = None
    if period is not None and period.end >= period.start:
        app.period_start = m.month_start(period.start)
        app.period_end = m.month_start(period.end)
        app.months = max(period.months, 0)
    else:
        app.period_start = app.period_end = app.months = None
    education = rules.highest_education(app.applicant) if app.applicant.is_person else None
    app.amount = rules.amount_of(app, period, education)
    if app.definition.get("claim_kind"):
        app.claim_kind = rules.claim_kind_of(app)
    if app.definition.get("upgrades"):
        app.upgrade_number = rules.upgrade_number_of(app)


def draft_delete(*, actor, application: Application, request=None) -> None:
    with transaction.atomic():
        app = _lock_own(application.pk, actor)
        if app.state != S.DRAFT:
            raise ServiceError(_("只有暂存的申报可以删除。"), code="state")
        _snapshot(app, "deleted")
        app.deleted_at = timezone.now()
        _save(app)
        _event(
            app, action="delete", actor=actor, from_state=S.DRAFT, from_stage=None, role=_("申请人")
        )
        _audit(app, "delete", actor, request)


def submit(
    *,
    actor,
    application: Application,
    commitment_accepted: bool,
    seen_version: int | None = None,
    today: datetime.date | None = None,
    gaps: list[dict] | None = None,
    request=None,
) -> Application:
    """Submit a draft, or resubmit a returned application (F30, F32). ``gaps`` declares
    required materials missing for now (容缺, F47): ``{"material_type", "reason",
    "deadline"}`` each."""
    actor = _unwrapped(actor)
    with transaction.atomic(), rules.records_read_once():
        app = _lock_own(application.pk, actor)
        if _submitted_by_this_request(app, actor, seen_version):
            return app  # a retry (double click, lost answer): the first one went through
        _check_version(app, seen_version)
        if app.state not in EDITABLE:
            raise ServiceError(
                _("申报当前状态为“%(s)s”，不能提交。") % {"s": app.get_state_display()},
                code="state",
            )
        if app.definition["commitment"] and not commitment_accepted:
            raise ServiceError(_("请阅读并勾选申报承诺后再提交。"), field="commitment")
        rules.read_all_at_once(app, today)
        _derive(app)
        if gaps:
            _declare_gaps(app, gaps, today or timezone.localdate())
        failed = [r for r in rules.precheck(app, today=today) if not r.ok]
        if failed:
            raise ServiceError(
                _("暂不能提交：%(r)s") % {"r": "；".join(f"{r.name}：{r.reason}" for r in failed)},
                code="ineligible",
            )
        from_state, resubmitting = app.state, app.state == S.RETURNED
        if resubmitting and app.definition["resubmit"] == "returning_stage":
            stage = app.returned_from_stage or 0
        else:
            app.chain = choose_chain(app.definition, app.employer, _talent_rank(app.applicant))
            stage = 0
        _place_at_stage(app, stage)
        app.state = S.SUBMITTED if stage == 0 else S.IN_REVIEW
        app.returned_from_stage = None
        app.commitment_accepted_at = timezone.now()
        app.submitted_at = timezone.now()
        if not app.number:
            app.number = f"SB{timezone.localdate():%Y%m%d}{app.pk:06d}"
        gaps = [
            {"material": g.material_type, "deadline": g.deadline.isoformat()}
            for g in rules.gaps_of(app)
            if g.state == ApplicationGap.State.OPEN
        ]
        notices = _notices(
            app,
            _("申报已提交"),
            _("您的%(p)s（%(no)s）已提交，等待“%(stage)s”。")
            % {"p": app.program.name, "no": app.number, "stage": app.current_stage["name"]},
        )
        if not _worker_sends():
            # no worker: here and now (it reads, so before the combined writes)
            deliver(notices["users"], notices["stages"])
            notices = None
        with combined():  # the writes, one statement (the locked row exists)
            _save(app)
            _snapshot(app, "submitted")
            _event(
                app,
                action="resubmit" if resubmitting else "submit",
                actor=actor,
                from_state=from_state,
                from_stage=None,
                role=_("申请人"),
                notices=notices,
            )
            # last: the audit chain's lock is held from here to the commit
            _audit(app, "submit", actor, request, amount=str(app.amount or ""), gaps=gaps)
    return app


def _submitted_by_this_request(app: Application, actor, seen_version) -> bool:
    """Issue 7: a submit is idempotent. A retry carries the version the applicant saw
    before the first attempt; if that attempt is the application's last change (a submit
    by this applicant, one version on), the retry answers as the first did."""
    try:
        seen = int(seen_version)
    except (TypeError, ValueError):
        return False
    if app.state not in (S.SUBMITTED, S.IN_REVIEW) or app.version != seen + 1:
        return False
    last = app.events.order_by("-id").first()
    return last is not None and last.action in ("submit", "resubmit") and last.actor_id == actor.pk


def _talent_rank(user) -> int:
    category = rules.talent_category(user)
    return category.rank if category else 0


def _declare_gaps(app: Application, gaps: list[dict], today: datetime.date) -> None:
    """容缺 (F47): check and record the materials declared missing."""
    spec = app.definition.get("gaps")
    if not spec:
        raise ServiceError(_("该项目不接受容缺申请。"), field="gaps")
    required = {mt["type"]: mt["label"] for mt in app.definition["materials"] if mt["required"]}
    attached = {a.material_type for a in rules.attachments_of(app)}
    latest = today + datetime.timedelta(days=spec["max_days"])
    for gap in gaps:
        material_type = gap.get("material_type")
        if material_type not in required:
            raise ServiceError(_("只有必需材料可以申请容缺。"), field="gaps")
        label = required[material_type]
        if material_type in attached:
            raise ServiceError(_("“%(m)s”已上传，不需要容缺。") % {"m": label}, field="gaps")
        reason = (gap.get("reason") or "").strip()
        if not reason:
            raise ServiceError(_("请填写“%(m)s”的容缺原因。") % {"m": label}, field="gaps")
        if len(reason) > 300:
            raise ServiceError(_("容缺原因最多300字。"), field="gaps")
        deadline = gap.get("deadline")
        if isinstance(deadline, str):
            try:
                deadline = datetime.date.fromisoformat(deadline)
            except ValueError:
                deadline = None
        if not isinstance(deadline, datetime.date):
            raise ServiceError(_("请选择“%(m)s”的补充期限。") % {"m": label}, field="gaps")
        if not today < deadline <= latest:
            raise ServiceError(
                _("“%(m)s”的补充期限须在今天之后、%(d)s之前（最长%(n)d天）。")
                % {"m": label, "d": latest.isoformat(), "n": spec["max_days"]},
                field="gaps",
            )
        ApplicationGap.objects.update_or_create(
            application=app,
            material_type=material_type,
            defaults={
                "label": label,
                "reason": reason,
                "deadline": deadline,
                "state": ApplicationGap.State.OPEN,
                "material": None,
                "supplied_at": None,
            },
        )
    rules.forget_gaps(app)


def withdraw(*, actor, application: Application, seen_version=None, request=None) -> Application:
    """Withdraw (撤回) a submitted application no reviewer has acted on yet (F31)."""
    with transaction.atomic():
        app = _lock_own(application.pk, actor)
        _check_version(app, seen_version)
        if app.state != S.SUBMITTED:
            raise ServiceError(
                _("审核已开始，不能撤回。")
                if app.state == S.IN_REVIEW
                else _("该申报当前不能撤回。"),
                code="state",
            )
        from_stage = app.stage
        app.state = S.DRAFT
        _clear_stage(app)
        _save(app)
        _event(
            app,
            action="withdraw",
            actor=actor,
            from_state=S.SUBMITTED,
            from_stage=from_stage,
            role=_("申请人"),
        )
        _audit(app, "withdraw", actor, request)
    return app


def apply_again(*, actor, application: Application, request=None) -> Application:
    """After a rejection, "重新申请" starts a new draft linked to the old one (F32)."""
    with transaction.atomic():
        old = _lock_own(application.pk, actor)
        if old.state != S.REJECTED:
            raise ServiceError(_("只有审核不通过的申报可以重新申请。"), code="state")
        program = old.program
        if not program.active or program.current_version is None:
            raise ServiceError(_("该项目当前不受理申报。"), code="state")
        app = Application.objects.create(
            program=program,
            program_version=program.current_version,
            applicant=actor,
            employer=_applicant_employer(actor),
            data=dict(old.data),
            previous=old,
        )
        for link in old.attachments.all():
            ApplicationMaterial.objects.create(
                application=app, material_type=link.material_type, material_id=link.material_id
            )
        _derive(app)
        app.save()
        _snapshot(app, "created")
        _event(
            app,
            action="reapply",
            actor=actor,
            from_state="",
            from_stage=None,
            role=_("申请人"),
            opinion=_("由 %(no)s 重新申请") % {"no": old.number},
        )
        _audit(app, "reapply", actor, request, previous=old.pk)
    return app


# --- the reviewer's side -----------------------------------------------------------------


def _review_prelude(actor, pk, seen_version):
    return _review_checks(actor, _lock(pk), seen_version)


def _review_checks(actor, app, seen_version):
    """May ``actor`` decide on ``app`` (locked by the caller) now? Its organisation and
    role there, or Http404 / ServiceError."""
    if not access.can_view_as_staff(actor, app) and not access.can_act_on(actor, app):
        raise Http404
    _check_version(app, seen_version)
    if not access.can_act_on(actor, app):
        raise ServiceError(
            _("该申报已由他人处理，当前状态：%(s)s。") % {"s": app.get_state_display()},
            code="state",
        )
    if app.current_stage.get("kind") == "batch_report":
        raise ServiceError(
            _("该申报在汇总上报环节：请在“汇总上报”中上报，由上级接收或退回。"), code="state"
        )
    if app.current_stage.get("kind") == "payout":
        raise ServiceError(_("该申报在拨付环节：请列入拨付批次，按银行结果办理。"), code="state")
    if app.current_stage.get("kind") == "notice":
        raise ServiceError(
            _(
                "该申报在公示环节：请发布公示；公示期满无异议的自动通过，有异议的在异议处理中撤回复核。"
            ),
            code="state",
        )
    org, membership = _reviewer_org(actor, app)
    if membership is None:
        return app, org, ""
    if not hasattr(membership, "_role_label"):  # asked once per batch, not per item
        membership._role_label = str(membership.get_role_display())
    return app, org, membership._role_label


def approve(
    *,
    actor,
    application: Application,
    opinion: str = "",
    seen_version=None,
    request=None,
    tell_next_stage: bool = True,
):
    """``tell_next_stage=False`` is for batch jobs: they tell each next reviewer once, with
    a count, instead of once per item."""
    with transaction.atomic():
        app, org, role = _review_prelude(actor, application.pk, seen_version)
        from_state, from_stage = app.state, app.stage
        opinion = (opinion or "").strip() or _("同意")
        if len(app.pending_orgs) > 1:
            # An "all of" stage: this organisation has approved; the others still must.
            if org == app.stage_employer:
                app.stage_employer, app.stage_employer_also = app.stage_employer_also, None
            elif org == app.stage_employer_also:
                app.stage_employer_also = None
            else:
                app.stage_authority = None
            app.state = S.IN_REVIEW  # someone has acted: no more withdrawing
            app.last_opinion = opinion
            _save(app)
            _event(
                app,
                action="approve",
                actor=actor,
                from_state=from_state,
                from_stage=from_stage,
                opinion=opinion,
                role=role,
                org=org,
            )
            _audit(app, "approve", actor, request, opinion=opinion, waiting=len(app.pending_orgs))
            _tell_applicant(
                app,
                _("审核进度"),
                _("%(org)s 已审核通过您的%(p)s（%(no)s），等待 %(others)s 审核。")
                % {
                    "org": org,
                    "p": app.program.name,
                    "no": app.number,
                    "others": "、".join(str(o) for o in app.pending_orgs),
                },
            )
            return app
        _advance(app)
        app.last_opinion = opinion
        _save(app)
        event, audit, message = _approval_records(
            app, actor, from_state, from_stage, opinion, role, org, request
        )
        event.save(force_insert=True)
        audit_record(**audit)
        notify_each([message])
        if app.state != S.APPROVED and tell_next_stage:
            _tell_stage(app)
    return app


def return_(*, actor, application: Application, opinion: str, seen_version=None, request=None):
    """Return (回退) with a reason: the applicant edits and resubmits (F32, F43)."""
    opinion = (opinion or "").strip()
    if not opinion:
        raise ServiceError(_("回退时请填写回退原因。"), field="opinion")
    with transaction.atomic():
        app, org, role = _review_prelude(actor, application.pk, seen_version)
        from_state, from_stage = app.state, app.stage
        app.state = S.RETURNED
        app.returned_from_stage = from_stage
        _clear_stage(app)
        app.last_opinion = opinion
        _save(app)
        _event(
            app,
            action="return",
            actor=actor,
            from_state=from_state,
            from_stage=from_stage,
            opinion=opinion,
            role=role,
            org=org,
        )
        _audit(app, "return", actor, request, opinion=opinion)
        _tell_applicant(
            app,
            _("申报被回退"),
            _("您的%(p)s（%(no)s）被回退，原因：%(o)s。请修改后重新提交。")
            % {"p": app.program.name, "no": app.number, "o": opinion},
        )
    return app


def reject(*, actor, application: Application, opinion: str, seen_version=None, request=None):
    """Reject (不通过): final; the applicant may "apply again" (F32)."""
    opinion = (opinion or "").strip()
    if not opinion:
        raise ServiceError(_("审核不通过时请填写原因。"), field="opinion")
    with transaction.atomic():
        app, org, role = _review_prelude(actor, application.pk, seen_version)
        from_state, from_stage = app.state, app.stage
        app.state = S.REJECTED
        _clear_stage(app)
        app.decided_at = timezone.now()
        app.last_opinion = opinion
        _save(app)
        _event(
            app,
            action="reject",
            actor=actor,
            from_state=from_state,
            from_stage=from_stage,
            opinion=opinion,
            role=role,
            org=org,
        )
        _audit(app, "reject", actor, request, opinion=opinion)
        _tell_applicant(
            app,
            _("审核不通过"),
            _("您的%(p)s（%(no)s）审核不通过，原因：%(o)s。")
            % {"p": app.program.name, "no": app.number, "o": opinion},
        )
    return app


def closure_blocker(user) -> str | None:
    """F10: an account with an application approved or under review cannot be closed."""
    busy = Application.objects.filter(
        applicant=user,
        deleted_at__isnull=True,
        state__in=[S.SUBMITTED, S.IN_REVIEW, S.APPROVED, S.TO_CONFIRM, S.CONFIRMED],
    ).exists()
    return _("存在审核通过或正在审核中的申报") if busy else None


# --- the public notice (F41) ------------------------------------------------------------


def notice_publish(*, actor, application_ids, title: str, request=None):
    """Publish a notice of applications waiting at this authority's notice stage."""
    from datetime import timedelta

    from rencai.applications.models import NoticeEntry, PublicNotice
    from rencai.identity import mask_id_number, mask_name

    title = (title or "").strip()
    if not title:
        raise ServiceError(_("请填写公示标题。"), field="title")
    if len(title) > 120:
        raise ServiceError(_("公示标题最多120个字。"), field="title")
    ids = _ids(application_ids)
    if not ids:
        raise ServiceError(_("请至少选择一条申报。"), field="applications")
    authorities = access.reviewing_authorities_of(actor)
    with transaction.atomic():
        apps = list(
            Application.objects.select_for_update(of=("self",))
            .select_related("applicant")
            .filter(pk__in=ids)
            .order_by("id")
        )
        _share_related(apps)
        if len(apps) != len(ids) or any(a.stage_authority_id not in authorities for a in apps):
            raise Http404
        days = set()
        for app in apps:
            stage = app.current_stage
            if stage is None or stage.get("kind") != "notice":
                raise ServiceError(
                    _("%(no)s 不在公示环节，不能公示。") % {"no": app.number}, code="state"
                )
            days.add(stage["days"])
        # An entry is still in a notice while listed, or objected to and waiting for the
        # bureau, even after its notice ended: listing it again would let each entry move
        # the application on, one stage too many (issue 8).
        listed = (
            NoticeEntry.objects.filter(
                application_id__in=ids,
                status__in=[NoticeEntry.Status.LISTED, NoticeEntry.Status.OBJECTED],
            )
            .order_by("application_id")
            .values_list("application__number", flat=True)
            .first()
        )
        if listed is not None:
            raise ServiceError(_("%(no)s 已在公示中。") % {"no": listed}, code="state")
        if len(days) != 1:
            raise ServiceError(_("所选申报的公示天数不同，请分别公示。"), code="state")
        now = timezone.now()
        authority = apps[0].stage_authority
        notice = PublicNotice.objects.create(
            authority=authority,
            title=title,
            starts_at=now,
            ends_at=now + timedelta(days=days.pop()),
            published_by=actor,
        )
        membership = Membership.objects.filter(user=actor, authority=authority).first()
        role = membership.get_role_display() if membership else ""
        end = timezone.localtime(notice.ends_at).strftime("%Y-%m-%d %H:%M")
        # 10,000 entries in one notice (issue 7): each table written in one statement
        insert_many(
            NoticeEntry,
            [
                NoticeEntry(
                    notice_id=notice.pk,
                    application_id=app.pk,
                    masked_name=mask_name(app.applicant.real_name),
                    masked_id_number=mask_id_number(app.applicant.id_number or ""),
                    employer_name=app.employer.name if app.employer else "",
                    program_name=app.program.name,
                    amount=app.amount,
                )
                for app in apps
            ],
            batch_size=1000,
        )
        _update_alike(apps, [])  # a new version each: a stale form is refused
        insert_many(
            ApplicationEvent,
            [
                _event_row(
                    app,
                    action="publish",
                    actor=actor,
                    from_state=app.state,
                    from_stage=app.stage,
                    role=role,
                    org=authority,
                    opinion=title,
                )
                for app in apps
            ],
        )
        notify_each(
            _tell_row(
                app,
                _("申报进入公示"),
                _("您的%(p)s（%(no)s）已进入公示，公示期至 %(end)s。")
                % {"p": app.program.name, "no": app.number, "end": end},
            )
            for app in apps
        )
        audit_record(
            action="notice.publish",
            actor=actor,
            obj=notice,
            after={"entries": len(apps), "ends_at": notice.ends_at.isoformat()},
            request=request,
        )
    return notice


def objection_file(*, entry_id: int, name: str, contact: str, content: str, request=None):
    """Anyone may object to an entry while its notice is open (F41)."""
    from rencai.applications.models import NoticeEntry, Objection

    name, contact, content = (name or "").strip(), (contact or "").strip(), (content or "").strip()
    if not name:
        raise ServiceError(_("请填写反映人姓名。"), field="name")
    if not contact:
        raise ServiceError(_("请填写联系方式，以便核实情况。"), field="contact")
    if len(content) < 5:
        raise ServiceError(_("请写明异议的具体内容（至少5个字）。"), field="content")
    with transaction.atomic():
        entry = (
            NoticeEntry.objects.select_for_update(of=("self",))
            .select_related("notice", "application")
            .filter(pk=entry_id)
            .first()
        )
        if entry is None:
            raise Http404
        if entry.notice.closed_at or timezone.now() >= entry.notice.ends_at:
            raise ServiceError(_("公示期已结束，不能再提出异议。"), code="state")
        if entry.status not in (NoticeEntry.Status.LISTED, NoticeEntry.Status.OBJECTED):
            raise ServiceError(_("该条目已不在公示中。"), code="state")
        objection = Objection.objects.create(
            entry=entry, name=name[:60], contact=contact[:60], content=content[:2000]
        )
        entry.status = NoticeEntry.Status.OBJECTED
        entry.save(update_fields=["status"])
        app = _lock(entry.application_id)
        _event(
            app,
            action="objection",
            actor=None,
            from_state=app.state,
            from_stage=app.stage,
            opinion=_("收到一条公示异议，待公示单位核实。"),
        )
        audit_record(
            action="notice.objection", obj=objection, after={"entry": entry.pk}, request=request
        )
        users = Membership.objects.filter(
            authority_id=entry.notice.authority_id, role__in=access.REVIEW_ROLES
        ).values_list("user_id", flat=True)
        from rencai.accounts.models import User

        notify_many(
            users=User.objects.filter(pk__in=users, is_active=True),
            title=_("公示异议"),
            body=_("“%(t)s”中 %(n)s 收到一条异议，请核实处理。")
            % {"t": entry.notice.title, "n": entry.masked_name},
            link=reverse("review:notice", args=[entry.notice_id]),
        )
    return objection


def objection_resolve(*, actor, objection_id: int, uphold: bool, opinion: str, request=None):
    """The bureau checks an objection: not upheld → the entry stays in the notice (and
    passes at once if the notice has already ended); upheld → the application is pulled
    back to the previous stage for review again."""
    from rencai.applications.models import NoticeEntry, Objection

    opinion = (opinion or "").strip()
    if not opinion:
        raise ServiceError(_("请填写处理意见。"), field="opinion")
    with transaction.atomic():
        objection = (
            Objection.objects.select_for_update(of=("self",))
            .select_related("entry__notice")
            .filter(pk=_id(objection_id))
            .first()
        )
        if (
            objection is None
            or objection.entry.notice.authority_id not in access.reviewing_authorities_of(actor)
        ):
            raise Http404
        if objection.status != Objection.Status.OPEN:
            raise ServiceError(_("该异议已处理。"), code="state")
        entry = NoticeEntry.objects.select_for_update().get(pk=objection.entry_id)
        app = _lock(entry.application_id)
        objection.status = Objection.Status.UPHELD if uphold else Objection.Status.DISMISSED
        objection.resolution = opinion
        objection.resolved_at = timezone.now()
        objection.resolved_by = actor
        objection.save()
        authority = entry.notice.authority
        # Once another objection to the entry was upheld (the application pulled back), the
        # entry is stale: this objection is answered and moves nothing again (issue 8).
        in_notice = _in_notice(entry, app)
        if uphold and in_notice:
            entry.status = NoticeEntry.Status.PULLED
            entry.save(update_fields=["status"])
            from_stage = app.stage
            _place_at_stage(app, max(app.stage - 1, 0))
            app.state = S.IN_REVIEW if app.stage else S.SUBMITTED
            app.last_opinion = opinion
            _save(app)
            _event(
                app,
                action="pull_back",
                actor=actor,
                from_state=S.IN_REVIEW,
                from_stage=from_stage,
                opinion=opinion,
                org=authority,
            )
            _tell_applicant(
                app,
                _("公示异议"),
                _("您的%(p)s（%(no)s）在公示期间收到异议，已撤回复核：%(o)s")
                % {"p": app.program.name, "no": app.number, "o": opinion},
            )
        elif (
            in_notice
            and not entry.objections.filter(status=Objection.Status.OPEN)
            .exclude(pk=objection.pk)
            .exists()
        ):
            entry.status = NoticeEntry.Status.LISTED
            entry.save(update_fields=["status"])
            if entry.notice.closed_at or timezone.now() >= entry.notice.ends_at:
                _pass_entry(entry, app)
        audit_record(
            action="notice.objection_resolve",
            actor=actor,
            obj=objection,
            after={"upheld": uphold, "opinion": opinion},
            request=request,
        )
    return objection


def _in_notice(entry, app) -> bool:
    """Whether ``entry`` still holds ``app`` in its notice: listed or objected to, and the
    application waiting at the notice stage of the notice's authority. Only then may the
    entry move the application (on when it passes, back when an objection is upheld): a
    pulled entry, or one whose application has gone on or was cancelled, is stale."""
    from rencai.applications.models import NoticeEntry

    return (
        entry.status in (NoticeEntry.Status.LISTED, NoticeEntry.Status.OBJECTED)
        and app.is_open
        and app.current_stage_kind == "notice"
        and app.stage_authority_id == entry.notice.authority_id
    )


def _pass_entry(entry, app) -> None:
    from rencai.applications.models import NoticeEntry

    if not _in_notice(entry, app):
        entry.status = NoticeEntry.Status.PULLED  # stale: it leaves the list, moving nothing
        entry.save(update_fields=["status"])
        return
    entry.status = NoticeEntry.Status.PASSED
    entry.save(update_fields=["status"])
    from_state, from_stage = app.state, app.stage
    _advance(app)
    _save(app)
    _event(
        app,
        action="notice_pass",
        actor=None,
        from_state=from_state,
        from_stage=from_stage,
        opinion=_("公示期满，无异议。"),
        org=entry.notice.authority,
    )
    if app.state == S.APPROVED:
        _tell_applicant(
            app,
            _("审核通过"),
            _("您的%(p)s（%(no)s）公示期满，已审核通过。")
            % {"p": app.program.name, "no": app.number},
        )
    else:
        _tell_applicant(
            app,
            _("公示期满"),
            _("您的%(p)s（%(no)s）公示期满无异议，进入“%(s)s”。")
            % {"p": app.program.name, "no": app.number, "s": app.current_stage["name"]},
        )
        _tell_stage(app)


def notices_expire(*, now=None) -> int:
    """Close every notice whose period has ended: entries without an open objection move
    on; entries with one wait for the bureau. Run by ``run_periodic``; idempotent."""
    from rencai.applications.models import NoticeEntry, PublicNotice

    now = now or timezone.now()
    passed = 0
    for notice_id in PublicNotice.objects.filter(
        ends_at__lte=now, closed_at__isnull=True
    ).values_list("pk", flat=True):
        with transaction.atomic():
            notice = PublicNotice.objects.select_for_update().get(pk=notice_id)
            if notice.closed_at:
                continue
            for entry in notice.entries.select_for_update().filter(
                status=NoticeEntry.Status.LISTED
            ):
                _pass_entry(entry, _lock(entry.application_id))
                passed += 1
            notice.closed_at = now
            notice.save(update_fields=["closed_at"])
            audit_record(action="notice.close", obj=notice, after={"passed": passed})
    return passed


# --- payouts and the applicant's confirmation (F37, F42) -----------------------------------

PAYOUT_ROLES = [Membership.Role.FINANCE_OFFICER, Membership.Role.AUTHORITY_ADMIN]


def payout_authorities_of(user) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(
        Membership.objects.filter(
            user=user, role__in=PAYOUT_ROLES, authority__kind=Authority.Kind.FINANCE_BUREAU
        ).values_list("authority_id", flat=True)
    )


def payout_batch_create(*, actor, application_ids, request=None):
    """A finance bureau puts applications waiting at its payout stage into a batch. The
    bank account comes from the social-security card (F22). An application is never in
    two pending or paid items of one stage (database constraint), so concurrent batches
    cannot pay it twice."""
    from django.db import IntegrityError

    from rencai.applications.models import PayoutBatch, PayoutItem
    from rencai.integrations.rules import bank_account_of

    ids = _ids(application_ids)
    if not ids:
        raise ServiceError(_("请至少选择一条申报。"), field="applications")
    authorities = payout_authorities_of(actor)
    try:
        with transaction.atomic():
            apps = list(
                Application.objects.select_for_update(of=("self",))
                .select_related("program", "program_version", "applicant")
                .filter(pk__in=ids)
                .order_by("id")
            )
            if len(apps) != len(ids) or any(a.stage_authority_id not in authorities for a in apps):
                raise Http404
            authority = apps[0].stage_authority
            if any(a.stage_authority_id != authority.pk for a in apps):
                raise ServiceError(_("所选申报不属于同一拨付部门。"), code="state")
            now = timezone.now()
            batch = PayoutBatch.objects.create(
                number=f"TMP{uuid.uuid4().hex[:24]}",
                authority=authority,
                stage=apps[0].stage,
                created_by=actor,
            )
            batch.number = f"BF{timezone.localtime(now):%Y%m%d}{batch.pk:06d}"
            batch.save(update_fields=["number"])
            total = 0
            for app in apps:
                if not app.is_open or app.current_stage_kind != "payout":
                    raise ServiceError(
                        _("%(no)s 不在拨付环节。") % {"no": app.number}, code="state"
                    )
                if PayoutItem.objects.filter(
                    application=app, stage=app.stage, status__in=["pending", "paid"]
                ).exists():
                    raise ServiceError(
                        _("%(no)s 已在拨付中或已拨付，不能重复拨付。") % {"no": app.number},
                        code="state",
                    )
                account = bank_account_of(app.applicant.id_number or "")
                if not account:
                    raise ServiceError(
                        _("%(no)s（%(name)s）在社保系统中没有社保卡账户，暂不能拨付。")
                        % {"no": app.number, "name": app.applicant.real_name},
                        code="state",
                    )
                PayoutItem.objects.create(
                    batch=batch,
                    application=app,
                    stage=app.stage,
                    name=app.applicant.real_name,
                    bank_name=account[0],
                    bank_account=account[1],
                    amount=app.amount or 0,
                )
                total += app.amount or 0
                _save(app)
                _event(
                    app,
                    action="payout_batch",
                    actor=actor,
                    from_state=app.state,
                    from_stage=app.stage,
                    org=authority,
                    opinion=batch.number,
                )
            batch.item_count, batch.total = len(apps), total
            batch.save(update_fields=["item_count", "total"])
            audit_record(
                action="payout.batch",
                actor=actor,
                obj=batch,
                after={"items": len(apps), "total": str(total)},
                request=request,
            )
    except IntegrityError:
        raise ServiceError(_("所选申报已在其他拨付批次中，不能重复拨付。"), code="state") from None
    return batch


def payout_bank_file(batch) -> bytes:
    """The bank file (XLSX): what the bank needs to pay, with the full account."""
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True, "in_memory": True})
    sheet = book.add_worksheet(_("拨付明细"))
    text = book.add_format({"num_format": "@"})
    headers = [
        _("序号"),
        _("申报编号"),
        _("姓名"),
        _("开户银行"),
        _("银行账号"),
        _("账号（脱敏，供核对）"),
        _("金额（元）"),
    ]
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header)
    for row, item in enumerate(batch.items.select_related("application").order_by("id"), start=1):
        sheet.write_number(row, 0, row)
        sheet.write_string(row, 1, item.application.number, text)
        sheet.write_string(row, 2, item.name)
        sheet.write_string(row, 3, item.bank_name)
        sheet.write_string(row, 4, item.bank_account, text)  # never a number: 19 digits
        sheet.write_string(row, 5, item.bank_account[:4] + "****" + item.bank_account[-4:])
        sheet.write_number(row, 6, float(item.amount))
    book.close()
    return buffer.getvalue()


def payout_export(*, actor, batch_id: int, request=None):
    from rencai.applications.models import PayoutBatch

    with transaction.atomic():
        batch = (
            PayoutBatch.objects.select_for_update()
            .filter(pk=batch_id, authority_id__in=payout_authorities_of(actor))
            .first()
        )
        if batch is None:
            raise Http404
        if batch.status == PayoutBatch.Status.OPEN:
            batch.status = PayoutBatch.Status.EXPORTED
            batch.save(update_fields=["status"])
        audit_record(action="payout.export", actor=actor, obj=batch, request=request)
    return payout_bank_file(batch)


def payout_results_import(*, actor, batch_id: int, rows, request=None) -> dict:
    """The bank's answer: rows of (申报编号, 结果, 原因). Paid items move their application
    on; failed ones stay at the payout stage for a later batch. Re-importing is refused."""
    from rencai.applications.models import PayoutBatch, PayoutItem

    paid_words = {"成功", "已拨付", "paid", "success", "ok"}
    failed_words = {"失败", "拨付失败", "failed", "fail"}
    with transaction.atomic():
        batch = (
            PayoutBatch.objects.select_for_update()
            .filter(pk=batch_id, authority_id__in=payout_authorities_of(actor))
            .first()
        )
        if batch is None:
            raise Http404
        if batch.status == PayoutBatch.Status.SETTLED:
            raise ServiceError(_("该批次的银行结果已导入，不能重复导入。"), code="state")
        items = {
            i.application.number: i
            for i in batch.items.select_for_update(of=("self",)).select_related("application")
        }
        seen, problems = {}, []
        for line, (number, result, reason) in rows:
            number, result = (number or "").strip(), (result or "").strip().lower()
            if number not in items:
                problems.append(
                    _("第%(l)d行：申报编号 %(n)s 不在本批次中。") % {"l": line, "n": number}
                )
            elif result not in paid_words | failed_words:
                problems.append(_("第%(l)d行：结果应为“成功”或“失败”。") % {"l": line})
            elif number in seen:
                problems.append(_("第%(l)d行：申报编号 %(n)s 重复。") % {"l": line, "n": number})
            else:
                seen[number] = (result in paid_words, (reason or "").strip())
        missing = sorted(set(items) - set(seen))
        if missing:
            problems.append(_("以下申报缺少银行结果：%(m)s。") % {"m": "、".join(missing)})
        if problems:
            raise ServiceError("；".join(problems), field="file", code="invalid")
        now = timezone.now()
        counts = {"paid": 0, "failed": 0, "closed": []}
        for number, (ok, reason) in seen.items():
            item = items[number]
            item.settled_at = now
            app = _lock(item.application_id)
            if not app.is_open or app.stage != item.stage:
                # Cancelled since the batch was made (F47: a 容缺 deadline passed): the
                # bank's answer is kept on the item, the application stays as it is.
                _settle_closed(app, item, batch, actor, ok, reason)
                counts["closed"].append(number)
            elif ok:
                item.status = PayoutItem.Status.PAID
                item.save(update_fields=["status", "settled_at"])
                from_state, from_stage = app.state, app.stage
                _advance(app)
                _save(app)
                _event(
                    app,
                    action="paid",
                    actor=actor,
                    from_state=from_state,
                    from_stage=from_stage,
                    org=batch.authority,
                    opinion=batch.number,
                )
                counts["paid"] += 1
                if app.state == S.TO_CONFIRM:
                    _tell_applicant(
                        app,
                        _("补助已拨付"),
                        _(
                            "您的%(p)s（%(no)s）%(amount)s元已拨付至社保卡账户，请到账后在“进度查询”中确认到账。"
                        )
                        % {"p": app.program.name, "no": app.number, "amount": item.amount},
                    )
                elif app.is_open:
                    _tell_stage(app)
            else:
                item.status = PayoutItem.Status.FAILED
                item.reason = (reason or _("银行未说明原因"))[:200]
                item.save(update_fields=["status", "reason", "settled_at"])
                _save(app)
                _event(
                    app,
                    action="payout_failed",
                    actor=actor,
                    from_state=app.state,
                    from_stage=app.stage,
                    org=batch.authority,
                    opinion=item.reason,
                )
                counts["failed"] += 1
                _tell_applicant(
                    app,
                    _("拨付失败"),
                    _("您的%(p)s（%(no)s）拨付失败：%(r)s。财政部门将在核实后重新拨付。")
                    % {"p": app.program.name, "no": app.number, "r": item.reason},
                )
        batch.status = PayoutBatch.Status.SETTLED
        batch.settled_at = now
        batch.save(update_fields=["status", "settled_at"])
        audit_record(action="payout.results", actor=actor, obj=batch, after=counts, request=request)
    return counts


def _settle_closed(app, item, batch, actor, paid: bool, reason: str) -> None:
    """The bank's answer for an application no longer waiting at the batch's payout stage:
    the item records what the bank did, an event on the application says so, and nothing
    else moves (a cancelled application is never revived by a late bank file)."""
    from rencai.applications.models import PayoutItem

    item.status = PayoutItem.Status.PAID if paid else PayoutItem.Status.FAILED
    item.reason = "" if paid else (reason or _("银行未说明原因"))[:200]
    item.save(update_fields=["status", "reason", "settled_at"])
    _event(
        app,
        action="paid" if paid else "payout_failed",
        actor=actor,
        from_state=app.state,
        from_stage=None,
        org=batch.authority,
        opinion=_("批次 %(b)s：申报已是“%(s)s”，银行结果只作记录，申报状态不变。")
        % {"b": batch.number, "s": app.get_state_display()},
    )


def confirm_receipt(*, actor, application: Application, seen_version=None, request=None):
    """拨付确认 (F37): the applicant confirms the money arrived; only while the status is
    "awaiting the applicant's confirmation"."""
    with transaction.atomic():
        app = _lock_own(application.pk, actor)
        _check_version(app, seen_version)
        if app.state != S.TO_CONFIRM:
            raise ServiceError(_("只有“个人拨付待确认”的申报可以确认到账。"), code="state")
        from_stage = app.stage
        app.state = S.CONFIRMED
        app.decided_at = timezone.now()
        _save(app)
        _event(
            app,
            action="confirm",
            actor=actor,
            from_state=S.TO_CONFIRM,
            from_stage=from_stage,
            role=_("申请人"),
        )
        _audit(app, "confirm", actor, request)
    return app


# --- roll-up reports (汇总上报) ---------------------------------------------------------------


def report_submit(*, actor, application_ids, request=None):
    """The lower authority bundles applications waiting at its batch_report stage into one
    numbered report to the upper authority."""
    from rencai.applications.models import BatchReport, ReportItem

    ids = _ids(application_ids)
    if not ids:
        raise ServiceError(_("请至少选择一条申报。"), field="applications")
    authorities = access.reviewing_authorities_of(actor)
    with transaction.atomic():
        apps = list(
            Application.objects.select_for_update(of=("self",))
            .select_related("program", "program_version", "employer", "stage_authority")
            .filter(pk__in=ids)
            .order_by("id")
        )
        if len(apps) != len(ids) or any(a.stage_authority_id not in authorities for a in apps):
            raise Http404
        uppers = set()
        for app in apps:
            if not app.is_open or app.current_stage_kind != "batch_report":
                raise ServiceError(
                    _("%(no)s 不在汇总上报环节。") % {"no": app.number}, code="state"
                )
            stage = app.current_stage
            if app.stage_authority_id != _resolve(app, stage["reporter"], stage).pk:
                raise ServiceError(_("%(no)s 已上报。") % {"no": app.number}, code="state")
            uppers.add(_resolve(app, stage["actor"], stage))
        if len(uppers) != 1 or len({a.stage_authority_id for a in apps}) != 1:
            raise ServiceError(_("所选申报的上报单位不同，请分别上报。"), code="state")
        upper = uppers.pop()
        lower = apps[0].stage_authority
        report = BatchReport.objects.create(
            number=f"TMP{uuid.uuid4().hex[:24]}",
            stage=apps[0].stage,
            from_authority=lower,
            to_authority=upper,
            created_by=actor,
        )
        report.number = f"BG{timezone.localdate():%Y%m%d}{report.pk:06d}"
        report.save(update_fields=["number"])
        total = 0
        for app in apps:
            ReportItem.objects.create(report=report, application=app)
            app.stage_authority = upper
            total += app.amount or 0
            _save(app)
            _event(
                app,
                action="report",
                actor=actor,
                from_state=app.state,
                from_stage=app.stage,
                org=lower,
                opinion=report.number,
            )
        report.item_count, report.total = len(apps), total
        report.save(update_fields=["item_count", "total"])
        audit_record(
            action="report.submit",
            actor=actor,
            obj=report,
            after={"items": len(apps), "total": str(total)},
            request=request,
        )
        from rencai.accounts.models import User

        notify_many(
            users=User.objects.filter(
                pk__in=Membership.objects.filter(
                    authority=upper, role__in=access.REVIEW_ROLES
                ).values("user_id"),
                is_active=True,
            ),
            title=_("收到汇总上报"),
            body=_("%(from)s 上报了 %(no)s，共 %(n)d 条，请接收或退回。")
            % {"from": lower, "no": report.number, "n": len(apps)},
            link=reverse("review:report", args=[report.pk]),
        )
    return report


def _report_for(actor, report_id, *, side="to"):
    from rencai.applications.models import BatchReport

    authorities = access.reviewing_authorities_of(actor)
    field = "to_authority_id__in" if side == "to" else "from_authority_id__in"
    report = (
        BatchReport.objects.select_for_update().filter(pk=report_id, **{field: authorities}).first()
    )
    if report is None:
        raise Http404
    if report.status != report.Status.SUBMITTED:
        raise ServiceError(_("该报告已处理。"), code="state")
    return report


def report_accept(*, actor, report_id: int, opinion: str = "", request=None):
    with transaction.atomic():
        report = _report_for(actor, report_id)
        opinion = (opinion or "").strip() or _("接收")
        for item in report.items.filter(status="included"):
            app = _lock(item.application_id)
            from_state, from_stage = app.state, app.stage
            _advance(app)
            app.last_opinion = opinion
            _save(app)
            _event(
                app,
                action="report_accept",
                actor=actor,
                from_state=from_state,
                from_stage=from_stage,
                org=report.to_authority,
                opinion=opinion,
            )
            if app.is_open:
                _tell_stage(app)
        report.status, report.opinion = report.Status.ACCEPTED, opinion
        report.decided_by, report.decided_at = actor, timezone.now()
        report.save()
        audit_record(action="report.accept", actor=actor, obj=report, request=request)
    return report


def _send_back(app, report, actor, opinion):
    stage = app.current_stage
    app.stage_authority = _resolve(app, stage["reporter"], stage)
    app.last_opinion = opinion
    _save(app)
    _event(
        app,
        action="report_return",
        actor=actor,
        from_state=app.state,
        from_stage=app.stage,
        org=report.to_authority,
        opinion=opinion,
    )


def report_return(*, actor, report_id: int, opinion: str, request=None):
    """Return the whole report: every item goes back to the reporting authority."""
    opinion = (opinion or "").strip()
    if not opinion:
        raise ServiceError(_("退回时请填写退回原因。"), field="opinion")
    with transaction.atomic():
        report = _report_for(actor, report_id)
        for item in report.items.filter(status="included"):
            _send_back(_lock(item.application_id), report, actor, opinion)
        report.status, report.opinion = report.Status.RETURNED, opinion
        report.decided_by, report.decided_at = actor, timezone.now()
        report.save()
        audit_record(
            action="report.return",
            actor=actor,
            obj=report,
            after={"opinion": opinion},
            request=request,
        )
    return report


def report_return_item(*, actor, report_id: int, application_id: int, opinion: str, request=None):
    """Return one item: it goes back to the reporting authority; the rest stay."""
    from rencai.applications.models import ReportItem

    opinion = (opinion or "").strip()
    if not opinion:
        raise ServiceError(_("退回时请填写退回原因。"), field="opinion")
    with transaction.atomic():
        report = _report_for(actor, report_id)
        item = ReportItem.objects.filter(
            report=report, application_id=_id(application_id), status="included"
        ).first()
        if item is None:
            raise Http404
        item.status, item.opinion = ReportItem.Status.RETURNED, opinion
        item.save()
        app = _lock(item.application_id)
        _send_back(app, report, actor, opinion)
        report.item_count -= 1
        report.total -= app.amount or 0
        report.save(update_fields=["item_count", "total"])
        audit_record(
            action="report.return_item",
            actor=actor,
            obj=report,
            after={"application": application_id, "opinion": opinion},
            request=request,
        )
    return report


# --- batch actions (workbench) ----------------------------------------------------------------

BATCH_LIMIT = 20000


def batch_start(*, actor, application_ids, action: str, opinion: str = "", request=None):
    """Approve or return many applications with one opinion: the job is recorded now and
    run by a background task, each item in its own transaction (one refusal does not stop
    the rest); the result page shows progress and what was refused and why."""
    from rencai.applications.models import BatchJob
    from rencai.applications.tasks import run_batch_job

    if action not in ("approve", "return"):
        raise ServiceError(_("请选择批量操作：审核通过或回退。"), field="action")
    opinion = (opinion or "").strip()
    if action == "return" and not opinion:
        raise ServiceError(_("批量回退时请填写回退原因。"), field="opinion")
    ids = _ids(application_ids)
    if not ids:
        raise ServiceError(_("请至少选择一条申报。"), field="applications")
    if len(ids) > BATCH_LIMIT:
        raise ServiceError(
            _("一次最多处理 %(n)d 条，请缩小筛选范围。") % {"n": BATCH_LIMIT}, field="applications"
        )
    with transaction.atomic():
        job = BatchJob.objects.create(
            actor=actor, action=action, opinion=opinion, application_ids=ids, total=len(ids)
        )
        audit_record(
            action="batch.start",
            actor=actor,
            obj=job,
            after={"action": action, "total": len(ids)},
            request=request,
        )
        transaction.on_commit(lambda: run_batch_job.enqueue(job.pk))
    return job


BATCH_CHUNK = 1000  # items locked and written together by a batch job


def batch_run(job_id: int):
    """Run a batch job. Each chunk of items is written in one transaction together with the
    job's progress (done, failed, the first errors), so a worker killed mid-job leaves the
    job at its last finished chunk: the task, requeued (rencai/ops/workers.py), runs again
    and goes on after that chunk, and no item is done twice or left out (issue 8)."""
    from rencai.applications.models import ApplicationEvent, BatchJob

    job = BatchJob.objects.get(pk=job_id)
    if job.status == BatchJob.Status.DONE:
        return job
    BatchJob.objects.filter(pk=job.pk).update(status=BatchJob.Status.RUNNING)
    ids = job.application_ids
    position = job.done + job.failed  # items an interrupted earlier run finished
    done, failed = job.done, job.failed
    errors = list(job.errors)
    moved_on: dict[tuple, list] = {}  # next stage's organisations → the applications

    def move_on(app):
        if app.is_open:
            key = (app.stage_employer_id, app.stage_employer_also_id, app.stage_authority_id)
            moved_on.setdefault(key, []).append(app)

    if position and job.action == "approve":
        # Approved by the interrupted run: their next stage hears of them with the rest.
        earlier = ApplicationEvent.objects.filter(
            application_id__in=ids[:position],
            actor=job.actor,
            action="approve",
            at__gte=job.created_at,
        ).values("application_id")
        for app in Application.objects.filter(pk__in=earlier).order_by("id"):
            move_on(app)
    numbers = dict(
        Application.objects.filter(pk__in=job.application_ids).values_list("pk", "number")
    )

    def refuse(pk, exc):
        message = exc.message if isinstance(exc, ServiceError) else _("无权处理或不存在。")
        errors.append({"id": pk, "number": numbers.get(pk) or "", "message": message})

    token = _resolved.set({})  # who acts at each stage: asked once for the whole job
    try:
        for start in range(position, len(ids), BATCH_CHUNK):
            chunk = ids[start : start + BATCH_CHUNK]
            with transaction.atomic():  # the chunk's items and the job's progress together
                if job.action == "approve":
                    approved, refused = _approve_many(
                        actor=job.actor, ids=chunk, opinion=job.opinion
                    )
                    for app in approved:
                        move_on(app)
                    done += len(approved)
                else:
                    refused = []
                    for pk in chunk:
                        try:
                            return_(
                                actor=job.actor,
                                application=Application(pk=pk),
                                opinion=job.opinion,
                            )
                            done += 1
                        except (ServiceError, Http404) as exc:
                            refused.append((pk, exc))
                for pk, exc in refused:
                    refuse(pk, exc)
                failed += len(refused)
                BatchJob.objects.filter(pk=job.pk).update(
                    done=done, failed=failed, errors=errors[:1000]
                )
    finally:
        _resolved.reset(token)
    for apps in moved_on.values():
        # One message (and SMS) per reviewer of the next stage, not one per item.
        first = apps[0]
        notify_many(
            users=_stage_people(first),
            title=ngettext("待审核：%(n)d 件申报", "待审核：%(n)d 件申报", len(apps))
            % {"n": len(apps)},
            body=ngettext(
                "%(n)d 件申报（%(p)s 等）已到“%(stage)s”环节，请及时审核。",
                "%(n)d 件申报（%(p)s 等）已到“%(stage)s”环节，请及时审核。",
                len(apps),
            )
            % {"n": len(apps), "p": first.program.name, "stage": first.current_stage["name"]},
            link=reverse("review:applications"),
        )
    BatchJob.objects.filter(pk=job.pk).update(
        done=done,
        failed=failed,
        errors=errors[:1000],
        status=BatchJob.Status.DONE,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def _approve_many(*, actor, ids: list[int], opinion: str = ""):
    """Approve many applications as ``approve`` approves one (the same checks, state
    changes, events, audit rows and messages), written together: one transaction, one
    statement per table, the stage's organisations resolved once per employer. 10,000
    approvals took 115 s one by one and take a few seconds this way (issue 7).

    An item that may not be approved is refused on its own, with the reason, and the
    others go on. An item at an "all of" stage (F17) waits for another organisation too:
    it goes through ``approve`` itself. Returns (approved applications, [(id, error)])."""
    opinion = (opinion or "").strip() or _("同意")
    approved, refused, one_by_one = [], [], []
    events, audits, tells = [], [], []
    # one cache for the whole job when batch_run set it, else for this call
    token = _resolved.set({}) if _resolved.get() is None else None
    try:
        with transaction.atomic():
            found = {
                app.pk: app
                for app in Application.objects.select_for_update(of=("self",))
                .select_related("applicant")
                .filter(pk__in=ids)
                .order_by("id")
            }
            _share_related(found.values())
            now = timezone.now()
            for pk in ids:
                app = found.get(pk)
                try:
                    if app is None:
                        raise Http404
                    app, org, role = _review_checks(actor, app, None)
                    if len(app.pending_orgs) > 1:
                        one_by_one.append(pk)
                        continue
                    from_state, from_stage = app.state, app.stage
                    if app.stage + 1 < len(app.stages):
                        _advance(app)  # to the next stage: nothing written yet
                    else:
                        with transaction.atomic():  # a refused grant leaves no trace
                            _advance(app)
                except (ServiceError, Http404) as exc:
                    refused.append((pk, exc))
                    continue
                app.last_opinion = opinion
                app.version += 1  # as stored by _update_alike
                approved.append(app)
                event, audit, message = _approval_records(
                    app, actor, from_state, from_stage, opinion, role, org, None
                )
                events.append(event)
                audits.append(audit)
                tells.append(message)
            for app in approved:  # one moment for the whole batch
                app.stage_entered_at = now if app.stage_entered_at else None
                app.decided_at = now if app.state == S.APPROVED else app.decided_at
            _update_alike(
                approved,
                [
                    "state",
                    "stage",
                    "stage_kind",
                    "stage_entered_at",
                    "stage_employer_id",
                    "stage_employer_also_id",
                    "stage_authority_id",
                    "decided_at",
                    "last_opinion",
                ],
            )
            insert_many(ApplicationEvent, events)
            audit_record_many(audits)
            notify_each(tells)
    finally:
        if token is not None:
            _resolved.reset(token)
    for pk in one_by_one:
        try:
            app = approve(
                actor=actor, application=Application(pk=pk), opinion=opinion, tell_next_stage=False
            )
        except (ServiceError, Http404) as exc:
            refused.append((pk, exc))
        else:
            approved.append(app)
    return approved, refused


def _share_related(apps) -> None:
    """Give many applications their programme, programme version and organisations from
    one read each: a batch's items share a handful of them, and a version's definition
    is decoded once instead of once per item."""
    from rencai.orgs.models import Employer
    from rencai.programs.models import ProgramVersion

    apps = list(apps)
    versions = ProgramVersion.objects.select_related("program").in_bulk(
        {a.program_version_id for a in apps}
    )
    employer_ids = {
        pk
        for a in apps
        for pk in (a.employer_id, a.stage_employer_id, a.stage_employer_also_id, a.dispatcher_id)
        if pk
    }
    employers = Employer.objects.in_bulk(employer_ids)
    authorities = Authority.objects.in_bulk({a.stage_authority_id for a in apps} - {None})
    for app in apps:
        app.program_version = versions[app.program_version_id]
        app.program = app.program_version.program
        for field, pool in (
            ("employer", employers),
            ("stage_employer", employers),
            ("stage_employer_also", employers),
            ("dispatcher", employers),
            ("stage_authority", authorities),
        ):
            pk = getattr(app, f"{field}_id")
            if pk:
                setattr(app, field, pool[pk])


def _update_alike(apps: list, fields: list[str]) -> None:
    """Store ``fields`` of many applications (and one more version each) with one UPDATE
    per set of equal values: a batch moves thousands of items to the same next stage and
    organisation, so that is a statement or two, not one per item (issue 7)."""
    from django.db.models import F

    alike: dict[tuple, list[int]] = {}
    for app in apps:
        alike.setdefault(tuple(getattr(app, f) for f in fields), []).append(app.pk)
    now = timezone.now()
    for values, ids in alike.items():
        Application.objects.filter(pk__in=ids).update(
            **dict(zip(fields, values, strict=True)), version=F("version") + 1, updated_at=now
        )


def _approval_records(app, actor, from_state, from_stage, opinion, role, org, request):
    """What an approval (moving on or final) leaves, not yet stored: its event, its audit
    row and the applicant's message. ``approve`` stores one set, a batch many at once."""
    event = _event_row(
        app,
        action="approve",
        actor=actor,
        from_state=from_state,
        from_stage=from_stage,
        opinion=opinion,
        role=role,
        org=org,
    )
    audit = _audit_row(app, "approve", actor, request, opinion=opinion)
    return event, audit, _approved_message(app, from_stage)


def _approved_message(app, from_stage) -> tuple:
    """What the applicant is told after an approval at ``from_stage``."""
    if app.state == S.APPROVED:
        return _tell_row(
            app,
            _("审核通过"),
            _("您的%(p)s（%(no)s）已审核通过。") % {"p": app.program.name, "no": app.number},
        )
    return _tell_row(
        app,
        _("审核进度"),
        _("您的%(p)s（%(no)s）已通过“%(done)s”，进入“%(next)s”。")
        % {
            "p": app.program.name,
            "no": app.number,
            "done": app.stages[from_stage]["name"],
            "next": app.current_stage["name"],
        },
    )


# --- 容缺: materials declared missing, supplied later (F47) ------------------------------

GAP_OPEN_STATES = [S.SUBMITTED, S.IN_REVIEW, S.RETURNED, S.APPROVED]


def gap_authority(app: Application):
    """Who clears an application's gaps: the authority of the last review stage of its
    chain (the talent office for E and above, the city HR bureau for F)."""
    for stage in reversed(app.stages):
        if stage.get("kind", "review") not in ("review", "all_of"):
            continue
        for actor in stage_actors(stage):
            if "authority" in actor:
                return _resolve(app, actor, stage)
    return None


def _lock_gap(gap_id):
    try:
        gap_id = int(gap_id)
    except (TypeError, ValueError):
        raise Http404 from None
    gap = ApplicationGap.objects.select_for_update().filter(pk=gap_id).first()
    if gap is None:
        raise Http404
    return gap, _lock(gap.application_id)


def gap_supply(*, actor, gap_id, material_id, request=None):
    """The applicant supplies a missing material (容缺附件); a reviewer then clears it."""
    from rencai.applications.models import ApplicationGap
    from rencai.profiles.models import Material

    with transaction.atomic():
        gap, app = _lock_gap(gap_id)
        if app.applicant_id != actor.pk:
            raise Http404
        if gap.state != ApplicationGap.State.OPEN:
            raise ServiceError(
                _("该容缺材料当前状态为“%(s)s”，不能再补充。") % {"s": gap.get_state_display()},
                code="state",
            )
        try:
            material = Material.objects.filter(pk=int(material_id), owner=actor).first()
        except (TypeError, ValueError):
            material = None
        if material is None:
            raise ServiceError(_("请选择要补充的材料文件。"), field="material")
        if material.material_type != gap.material_type:
            raise ServiceError(
                _("所选文件不是“%(m)s”，请在“附件管理”中按分类上传后再选择。") % {"m": gap.label},
                field="material",
            )
        gap.material = material
        gap.state = ApplicationGap.State.SUPPLIED
        gap.supplied_at = timezone.now()
        gap.opinion = ""
        gap.save()
        ApplicationMaterial.objects.get_or_create(
            application=app, material_type=gap.material_type, material=material
        )
        _save(app)
        _snapshot(app, "saved")
        _event(
            app,
            action="gap_supply",
            actor=actor,
            from_state=app.state,
            from_stage=app.stage if app.is_open else None,
            opinion=gap.label,
            role=_("申请人"),
        )
        audit_record(
            action="application.gap_supply",
            actor=actor,
            obj=gap,
            after={"application": app.number, "material": material.pk},
            request=request,
        )
        authority = gap_authority(app)
        if authority is not None:
            people = Membership.objects.filter(
                authority=authority, role__in=access.REVIEW_ROLES
            ).values("user_id")
            from rencai.accounts.models import User

            notify_many(
                users=User.objects.filter(pk__in=people, is_active=True),
                title=_("容缺材料待审核"),
                body=_("%(name)s 已补充申报 %(no)s 的容缺材料“%(m)s”，请审核。")
                % {"name": app.applicant.display_name, "no": app.number, "m": gap.label},
                link=_staff_link(app),
            )
    return gap


def _gap_decision(actor, gap_id):
    gap, app = _lock_gap(gap_id)
    authority = gap_authority(app)
    membership = (
        Membership.objects.filter(
            user=actor, authority=authority, role__in=access.REVIEW_ROLES
        ).first()
        if authority is not None
        else None
    )
    if membership is None:
        raise Http404
    if gap.state != ApplicationGap.State.SUPPLIED:
        raise ServiceError(
            _("该容缺材料当前状态为“%(s)s”，不能审核。") % {"s": gap.get_state_display()},
            code="state",
        )
    return gap, app, authority, membership


def can_clear_gaps(user, app: Application) -> bool:
    """Whether the user reviews for the authority that clears this application's gaps."""
    if not app.gaps.exists():
        return False
    try:
        authority = gap_authority(app)
    except ServiceError:
        return False
    return authority is not None and authority.pk in access.reviewing_authorities_of(user)


def gap_decide(*, actor, gap_id, clear: bool, opinion: str = "", request=None):
    """A reviewer decides on a supplied material: accepted, the gap is cleared (解除容缺);
    refused (a reason is required), it is open again with the same deadline."""
    opinion = (opinion or "").strip()
    if not clear and not opinion:
        raise ServiceError(_("退回补充时请填写原因。"), field="opinion")
    with transaction.atomic():
        gap, app, authority, membership = _gap_decision(actor, gap_id)
        if clear:
            opinion = opinion or _("材料齐全，解除容缺。")
            gap.state = ApplicationGap.State.CLEARED
            gap.closed_at, gap.closed_by = timezone.now(), actor
        else:
            gap.state = ApplicationGap.State.OPEN
        gap.opinion = opinion
        gap.save()
        _save(app)
        action = "gap_clear" if clear else "gap_refuse"
        _event(
            app,
            action=action,
            actor=actor,
            from_state=app.state,
            from_stage=app.stage if app.is_open else None,
            opinion=f"{gap.label}：{opinion}",
            role=membership.get_role_display(),
            org=authority,
        )
        audit_record(
            action=f"application.{action}",
            actor=actor,
            obj=gap,
            after={"opinion": opinion},
            request=request,
        )
        if clear:
            _tell_applicant(
                app,
                _("容缺已解除"),
                _("您申报 %(no)s 补充的“%(m)s”已审核通过，容缺状态已解除。")
                % {"no": app.number, "m": gap.label},
            )
        else:
            _tell_applicant(
                app,
                _("容缺材料需重新补充"),
                _("您申报 %(no)s 补充的“%(m)s”未通过审核：%(o)s。请在%(d)s前重新补充。")
                % {"no": app.number, "m": gap.label, "o": opinion, "d": gap.deadline},
            )
    return gap


def gap_clear(*, actor, gap_id, opinion: str = "", request=None):
    return gap_decide(actor=actor, gap_id=gap_id, clear=True, opinion=opinion, request=request)


def gap_refuse(*, actor, gap_id, opinion: str, request=None):
    return gap_decide(actor=actor, gap_id=gap_id, clear=False, opinion=opinion, request=request)


def _cancel(app: Application, reason: str) -> None:
    """The system cancels an application (F47); the applicant is told why."""
    from_state, from_stage = app.state, app.stage if app.is_open else None
    app.state = S.CANCELLED
    _clear_stage(app)
    app.decided_at = timezone.now()
    app.last_opinion = reason
    _save(app)
    _event(
        app,
        action="cancel",
        actor=None,
        from_state=from_state,
        from_stage=from_stage,
        opinion=reason,
    )
    audit_record(action="application.cancel", obj=app, after={"reason": reason})
    if app.definition.get("housing") == "apartment":
        from rencai.housing.services import allocation_end_for

        allocation_end_for(app, reason)  # the room goes back to the free inventory
    _tell_applicant(
        app,
        _("申报已取消"),
        _("您的%(p)s（%(no)s）已取消：%(r)s")
        % {"p": app.program.name, "no": app.number, "r": reason},
    )


def gaps_expire(*, today: datetime.date | None = None) -> int:
    """Gaps not supplied and cleared by their deadline (F47): the application is
    cancelled; a classification's category is cancelled too, and with it every open
    application that depends on the category. Run by ``run_periodic``; idempotent."""
    from rencai.applications.models import ApplicationGap
    from rencai.talent.services import cancel_granted_by, depends_on_category

    today = today or timezone.localdate()
    expired = 0
    for gap_id in ApplicationGap.objects.filter(
        state__in=[ApplicationGap.State.OPEN, ApplicationGap.State.SUPPLIED], deadline__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            gap, app = _lock_gap(gap_id)
            if not gap.is_pending or gap.deadline >= today:
                continue
            gap.state, gap.closed_at = ApplicationGap.State.EXPIRED, timezone.now()
            gap.save()
            expired += 1
            reason = _("容缺材料“%(m)s”未在%(d)s前补充并审核通过，资格取消。") % {
                "m": gap.label,
                "d": gap.deadline,
            }
            if app.state in GAP_OPEN_STATES:
                _cancel(app, reason)
            category = cancel_granted_by(app, reason)
            if category is None:
                continue
            notify(
                user=app.applicant,
                title=_("人才类型已取消"),
                body=_("您的人才类型“%(c)s”已取消：%(r)s")
                % {"c": category.level_name, "r": reason},
                link=_link(app),
            )
            dependants = (
                Application.objects.select_related("program_version")
                .filter(applicant_id=app.applicant_id, state__in=GAP_OPEN_STATES)
                .exclude(pk=app.pk)
            )
            for other in dependants:
                if depends_on_category(other.definition):
                    _cancel(
                        _lock(other.pk),
                        _("所依据的人才类型“%(c)s”已取消。") % {"c": category.level_name},
                    )
    return expired
