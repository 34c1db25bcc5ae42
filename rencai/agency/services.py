"""Gradings of HR-service agencies (F56–F59): creating a grading application, filling its
indicators one by one, upgrades and keep-grade, the reviewers' score adjustments, the
grade a final approval grants and the expiry notices.

A grading is an engine application: every write here goes through
``rencai.applications.transitions`` (draft_save, submit, approve, …), so the timeline,
versions, audit and review chain are the same as for every other program."""

import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.agency import scoring
from rencai.agency.models import AgencyGrade, GradingKind, ScoreAdjustment
from rencai.applications import access, transitions
from rencai.applications.models import Application
from rencai.audit.services import audit_record
from rencai.errors import ServiceError
from rencai.notifications.services import notify
from rencai.programs.models import Program
from rencai.programs.months import add_years

S = Application.State
EVIDENCE = "grading_evidence"
UNSETTLED = [S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.RETURNED]


def _require_agency(actor):
    if getattr(actor, "kind", "") != "agency":
        raise Http404
    agency = actor.own_employer()
    if agency is None:
        raise Http404
    return agency


def grading_program(kind: str) -> Program | None:
    """The active program for ratings and upgrades (``rating``) or keep-grade (``keep``)."""
    for program in Program.objects.filter(
        active=True, applicant_kind="agency", current_version__isnull=False
    ).select_related("current_version"):
        if program.definition.get("grading") == kind:
            return program
    return None


def category_code(app: Application) -> str:
    field = next(f for f in app.definition["fields"] if f["type"] == "service_category")
    return app.data.get(field["code"], "")


def category_of(app: Application) -> dict | None:
    return scoring.category_of(app.definition, category_code(app))


def grade_in_force(agency, code: str, today: datetime.date | None = None):
    today = today or timezone.localdate()
    return AgencyGrade.objects.filter(
        agency=agency, service_category=code, state=AgencyGrade.State.ACTIVE, valid_until__gte=today
    ).first()


def _unsettled_exists(agency, code: str, exclude_pk=None) -> bool:
    qs = Application.objects.filter(
        employer=agency,
        program__applicant_kind="agency",
        program__category__in=Program.objects.filter(code__in=_grading_codes()).values("category"),
        state__in=UNSETTLED,
        deleted_at__isnull=True,
        data__service_category=code,
    )
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _grading_codes() -> list[str]:
    return [p.code for p in (grading_program("rating"), grading_program("keep")) if p]


def _check_year(year) -> int:
    try:
        year = int(str(year).strip())
    except (TypeError, ValueError):
        raise ServiceError(_("请选择申报年度。"), field="year") from None
    this_year = timezone.localdate().year
    if not this_year - 1 <= year <= this_year + 1:
        raise ServiceError(
            _("申报年度须在 %(a)d 至 %(b)d 年之间。") % {"a": this_year - 1, "b": this_year + 1},
            field="year",
        )
    return year


def grading_data(app: Application, data: dict, created: bool) -> dict:
    """What a rating's draft keeps, whoever saves it (the form, the API): it is created
    by ``grading_create`` or ``upgrade_start`` only, its kind never changes, and its
    indicator answers are written by ``indicator_save`` only — a save that leaves them
    out keeps them."""
    if created:
        if "grading_kind" not in data or "indicators" not in data:
            raise ServiceError(
                _("分类分级评定请在“分类分级管理 → 申请列表”中点击“分类分级申报”新建。"),
                code="state",
            )
        return data
    out = dict(data)
    for key in ("grading_kind", "indicators"):
        if key not in out and key in app.data:
            out[key] = app.data[key]
    out["grading_kind"] = app.data.get("grading_kind", out.get("grading_kind"))
    return out


def grading_create(*, actor, year, service_category: str, kind: str, request=None) -> Application:
    """分类分级申报 (F56): a draft rating (评定) or upgrade (升级) application."""
    agency = _require_agency(actor)
    program = grading_program("rating")
    if program is None:
        raise ServiceError(_("当前不受理分类分级申报。"), code="state")
    year = _check_year(year)
    category = scoring.category_of(program.definition, service_category or "")
    if category is None:
        raise ServiceError(_("请选择申报类别。"), field="service_category")
    if kind not in (GradingKind.RATING, GradingKind.UPGRADE):
        raise ServiceError(_("请选择分类。"), field="kind")
    with transaction.atomic():
        # one unsettled grading per category and agency: lock the agency row to decide
        type(agency).objects.select_for_update().filter(pk=agency.pk).first()
        if _unsettled_exists(agency, category["code"]):
            raise ServiceError(
                _("“%(c)s”已有未办结的分类分级申报，请在申请列表中继续办理。")
                % {"c": category["name"]},
                field="service_category",
            )
        current = grade_in_force(agency, category["code"])
        if kind == GradingKind.UPGRADE and current is None:
            raise ServiceError(
                _("“%(c)s”还没有有效的评定等级，请选择“评定”。") % {"c": category["name"]},
                field="kind",
            )
        data = {"year": year, "service_category": category["code"], "grading_kind": kind}
        data["indicators"] = {}
        return transitions.draft_save(actor=actor, program=program, data=data, request=request)


def upgrade_start(*, actor, grade_id, request=None) -> Application:
    """升级 (F59): a new rating application for the grade's category, pre-filled with the
    indicators of the application that earned the grade."""
    agency = _require_agency(actor)
    grade = (
        AgencyGrade.objects.filter(pk=grade_id, agency=agency).select_related("application").first()
    )
    if grade is None:
        raise Http404
    program = grading_program("rating")
    if program is None:
        raise ServiceError(_("当前不受理分类分级申报。"), code="state")
    if grade.state != AgencyGrade.State.ACTIVE or grade.valid_until < timezone.localdate():
        raise ServiceError(_("该等级已不在有效期内，请重新申请评定。"), code="state")
    with transaction.atomic():
        type(agency).objects.select_for_update().filter(pk=agency.pk).first()
        if _unsettled_exists(agency, grade.service_category):
            raise ServiceError(
                _("“%(c)s”已有未办结的分类分级申报，请在申请列表中继续办理。")
                % {"c": grade.category_name},
                code="state",
            )
        category = scoring.category_of(program.definition, grade.service_category)
        if category is None:
            raise ServiceError(_("该申报类别已停止受理。"), code="state")
        known = {ind["code"] for _f, _s, ind in scoring.flatten(category)}
        earlier = grade.application.data.get("indicators", {})
        data = {
            "year": timezone.localdate().year,
            "service_category": grade.service_category,
            "grading_kind": GradingKind.UPGRADE,
            "indicators": {k: v for k, v in earlier.items() if k in known},
        }
        evidence = [
            v
            for k, v in data["indicators"].items()
            if scoring.find_indicator(category, k)["kind"] == "attachment"
        ]
        app = transitions.draft_save(
            actor=actor,
            program=program,
            data=data,
            materials={EVIDENCE: evidence},
            request=request,
        )
        audit_record(
            action="agency.upgrade_start",
            actor=actor,
            obj=app,
            after={"from_grade": grade.pk, "grade": grade.grade},
            request=request,
        )
        return app


def indicator_save(
    *, actor, application: Application, code: str, value="", upload=None, request=None
) -> Application:
    """Fill one indicator in its dialog (F57). ``value`` is what the dialog posted;
    ``upload`` the file of an attachment indicator (checked and kept in the agency's
    material library like every upload, F16)."""
    from rencai.profiles.models import Material
    from rencai.profiles.services import material_upload

    _require_agency(actor)
    app = access.own_application(actor, application.pk)
    if app.definition.get("grading") != "rating":
        raise Http404
    category = category_of(app)
    indicator = scoring.find_indicator(category, code) if category else None
    if indicator is None:
        raise Http404
    if app.state not in transitions.EDITABLE:
        raise ServiceError(
            _("申报当前状态为“%(s)s”，不能修改。") % {"s": app.get_state_display()}, code="state"
        )
    label = next((m["label"] for m in app.definition["materials"] if m["type"] == EVIDENCE), "")
    stored = None
    if indicator["kind"] == "attachment":
        if upload is None:
            raise ServiceError(_("请选择要上传的文件。"), field="value")
        stored = material_upload(
            actor, EVIDENCE, upload, request, types={EVIDENCE: label or _("指标佐证材料")}
        )
        answer = stored.pk
    else:
        try:
            answer = scoring.parse_answer(indicator, value)
        except ValueError as exc:
            raise ServiceError(str(exc), field="value") from None
    try:
        with transaction.atomic():
            data = dict(app.data)
            answers = dict(data.get("indicators") or {})
            answers[code] = answer
            data["indicators"] = answers
            evidence = [
                v
                for k, v in answers.items()
                if (scoring.find_indicator(category, k) or {}).get("kind") == "attachment"
            ]
            return transitions.draft_save(
                actor=actor,
                application=app,
                data=data,
                materials={EVIDENCE: evidence},
                seen_version=app.version,
                request=request,
            )
    except BaseException:
        if stored is not None:
            Material.objects.filter(pk=stored.pk).delete()
            stored.file.storage.delete(stored.file.name)
        raise


# --- the pre-check and the reviewers ---------------------------------------------------


def grading_checks(app: Application, today: datetime.date):
    """What a grading needs before it can be reported (F58): every required indicator
    done, with the list of what is missing; an upgrade or keep-grade, a grade in force."""
    from rencai.applications.rules import RuleResult

    results = []
    category = category_of(app)
    if category is None:
        return [RuleResult("service_category", _("申报类别"), False, _("请选择申报类别。"))]
    if app.definition["grading"] == "rating":
        result = scoring.score(category, app.data.get("indicators") or {})
        missing = result.missing
        results.append(
            RuleResult(
                "indicators",
                _("评价指标"),
                not missing,
                _("%(n)d 项指标已全部填写。") % {"n": len(result.rows)}
                if not missing
                else _("以下 %(n)d 项指标未完成：%(list)s。")
                % {"n": len(missing), "list": "、".join(r.indicator["name"] for r in missing)},
            )
        )
    kind = app.data.get("grading_kind") or (
        GradingKind.KEEP if app.definition["grading"] == "keep" else GradingKind.RATING
    )
    if kind in (GradingKind.UPGRADE, GradingKind.KEEP) and app.employer is not None:
        current = grade_in_force(app.employer, category["code"], today)
        results.append(
            RuleResult(
                "grade_in_force",
                _("现有等级"),
                current is not None,
                _("“%(c)s”现为 %(g)s，有效期至 %(d)s。")
                % {"c": category["name"], "g": current.grade, "d": current.valid_until}
                if current
                else _("“%(c)s”没有有效期内的等级，不能申请%(k)s。")
                % {"c": category["name"], "k": GradingKind(kind).label},
            )
        )
    return results


def score_of(app: Application) -> scoring.Score | None:
    category = category_of(app)
    if category is None or app.definition.get("grading") != "rating":
        return None
    return scoring.score(category, app.data.get("indicators") or {}, adjustments_of(app))


def adjustments_of(app: Application) -> dict:
    """The latest adjustment per indicator."""
    out = {}
    for adj in ScoreAdjustment.objects.filter(application=app).order_by("id"):
        out[adj.indicator] = adj.points
    return out


def score_adjust(*, actor, application_id, indicator: str, points, reason: str, request=None):
    """A reviewer at the current stage scores one indicator differently, with a reason
    (F58). Audited; the agency sees the adjusted score and the reason."""
    with transaction.atomic():
        app = transitions._lock(application_id)
        if not access.can_view_as_staff(actor, app):
            raise Http404
        if not access.can_act_on(actor, app):
            raise ServiceError(_("只有当前环节的审核人可以调整得分。"), code="state")
        category = category_of(app)
        ind = scoring.find_indicator(category, indicator) if category else None
        if ind is None or app.definition.get("grading") != "rating":
            raise Http404
        try:
            value = Decimal(str(points).strip())
        except (InvalidOperation, ValueError):
            raise ServiceError(_("请填写调整后的得分。"), field="points") from None
        if not value.is_finite() or not 0 <= value <= Decimal(str(ind["max_points"])):
            raise ServiceError(
                _("得分须在 0 至 %(m)s 分之间。") % {"m": ind["max_points"]}, field="points"
            )
        if value != value.quantize(Decimal("0.01")):
            raise ServiceError(_("得分最多保留两位小数。"), field="points")
        reason = (reason or "").replace("\x00", "").strip()
        if not reason:
            raise ServiceError(_("请填写调整理由。"), field="reason")
        if len(reason) > 500:
            raise ServiceError(_("调整理由不能超过500字。"), field="reason")
        computed = scoring.points_for(ind, (app.data.get("indicators") or {}).get(indicator))
        org, membership = transitions._reviewer_org(actor, app)
        transitions._event(
            app,
            action="score_adjust",
            actor=actor,
            from_state=app.state,
            from_stage=app.stage,
            opinion=_("%(i)s：%(a)s → %(b)s 分（%(r)s）")
            % {"i": ind["name"], "a": computed or 0, "b": value, "r": reason},
            role=membership.get_role_display() if membership else "",
            org=org,
        )
        adjustment = ScoreAdjustment.objects.create(
            application=app,
            indicator=indicator,
            computed=computed or 0,
            points=value,
            reason=reason,
            actor=actor,
            authority=org if org is not None and org == app.stage_authority else None,
        )
        audit_record(
            action="agency.score_adjust",
            actor=actor,
            obj=app,
            before={"indicator": indicator, "points": str(computed or 0)},
            after={"indicator": indicator, "points": str(value), "reason": reason},
            request=request,
        )
        return adjustment


# --- the grade ------------------------------------------------------------------------


def _validity_years(app) -> int:
    from rencai.agency.catalog import section

    return section().get("validity_years", 3)


def grant(app: Application, today: datetime.date | None = None) -> AgencyGrade:
    """The final approval of a grading (F59), inside the approving transaction. A rating
    or upgrade grants the grade its score reaches (refused when it reaches none: the
    reviewer should reject with a reason); a keep-grade keeps the grade in force and
    extends its validity."""
    today = today or timezone.localdate()
    category = category_of(app)
    agency = app.employer
    current = (
        AgencyGrade.objects.select_for_update()
        .filter(agency=agency, service_category=category["code"], state=AgencyGrade.State.ACTIVE)
        .first()
    )
    years = _validity_years(app)
    if app.definition["grading"] == "keep":
        if current is None or current.valid_until < today:
            raise ServiceError(
                _("该机构“%(c)s”没有有效期内的等级，不能保级。") % {"c": category["name"]},
                code="state",
            )
        grade = next((g for g in category["grades"] if g["code"] == current.grade), None) or {
            "code": current.grade,
            "name": current.grade_name,
            "rank": current.rank,
        }
        total = current.score
        kind = GradingKind.KEEP
        valid_from = current.valid_until + datetime.timedelta(days=1)
    else:
        result = score_of(app)
        grade = scoring.grade_for(category, result)
        if grade is None:
            lowest = category["grades"][-1]
            unmet = scoring.unmet(category, lowest, result)
            raise ServiceError(
                _(
                    "得分 %(t)s 分，未达到任何等级（最低 %(g)s 需 %(m)s 分%(u)s），"
                    "不能审核通过。请选择“审核不通过”或“回退”并说明原因。"
                )
                % {
                    "t": result.total,
                    "g": lowest["name"],
                    "m": lowest["min_score"],
                    "u": _("，且须满足：%(l)s") % {"l": "、".join(unmet)} if unmet else "",
                },
                code="ineligible",
            )
        total = result.total
        kind = app.data.get("grading_kind") or GradingKind.RATING
        valid_from = today
    if current is not None:
        current.state = AgencyGrade.State.SUPERSEDED
        current.save(update_fields=["state"])
    granted = AgencyGrade.objects.create(
        agency=agency,
        service_category=category["code"],
        category_name=category["name"],
        grade=grade["code"],
        grade_name=grade["name"],
        rank=grade["rank"],
        score=total,
        year=int(app.data.get("year") or today.year),
        kind=kind,
        application=app,
        reported_at=app.submitted_at or timezone.now(),
        valid_from=valid_from,
        valid_until=add_years(valid_from, years) - datetime.timedelta(days=1),
    )
    audit_record(
        action="agency.grade",
        actor=None,
        obj=granted,
        before={"grade": current.grade, "valid_until": str(current.valid_until)}
        if current
        else None,
        after={
            "category": granted.service_category,
            "grade": granted.grade,
            "score": str(granted.score),
            "valid_until": str(granted.valid_until),
            "application": app.pk,
        },
    )
    return granted


def expiry_notices(today: datetime.date | None = None) -> int:
    """Tell each agency, once, that a grade ends within the pack's notice period (60 days
    by default), in-app and by SMS to the handler's phone."""
    from rencai.accounts.models import User
    from rencai.agency.catalog import section

    today = today or timezone.localdate()
    days = section().get("expiry_notice_days", 60)
    horizon = today + datetime.timedelta(days=days)
    sent = 0
    due = AgencyGrade.objects.filter(
        state=AgencyGrade.State.ACTIVE,
        expiry_notified_at__isnull=True,
        valid_until__gte=today,
        valid_until__lte=horizon,
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            grade = (
                AgencyGrade.objects.select_for_update()
                .select_related("agency")
                .filter(pk=pk, expiry_notified_at__isnull=True)
                .first()
            )
            if grade is None:
                continue
            admins = User.objects.filter(
                memberships__employer=grade.agency,
                memberships__role="employer_admin",
                is_active=True,
            )
            for user in admins:
                notify(
                    user=user,
                    title=_("评定等级即将到期"),
                    body=_(
                        "贵机构“%(c)s”的评定等级 %(g)s 将于 %(d)s 到期。"
                        "如需保持等级，请在到期前申请保级。"
                    )
                    % {"c": grade.category_name, "g": grade.grade, "d": grade.valid_until},
                    link=reverse("agency:results"),
                )
            grade.expiry_notified_at = timezone.now()
            grade.save(update_fields=["expiry_notified_at"])
            sent += 1
    return sent
