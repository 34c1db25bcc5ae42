"""Reads for the application pages, the staff pages and the PDF. Each list is a bounded
number of queries whatever the number of rows (select_related / prefetch)."""

from collections import OrderedDict

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.applications import rules
from rencai.applications.models import ACTION_NAMES, Application, ApplicationEvent
from rencai.programs.models import Program

S = Application.State


def programs_by_category(kind: str) -> list[tuple[str, list[Program]]]:
    groups: OrderedDict[str, list[Program]] = OrderedDict()
    for program in (
        Program.objects.filter(active=True, applicant_kind=kind, current_version__isnull=False)
        .select_related("current_version", "pack")
        .order_by("pack__code", "order")
    ):
        groups.setdefault(program.category_name, []).append(program)
    return list(groups.items())


def material_template(code: str, material_type: str) -> dict:
    """The material spec of an active program's current version that carries a blank
    form (F60); Http404 for an unknown program, material type or template."""
    program = (
        Program.objects.select_related("current_version").filter(code=code, active=True).first()
    )
    if program is None or program.current_version is None:
        raise Http404
    for spec in program.definition.get("materials", []):
        if spec["type"] == material_type and spec.get("template"):
            return spec
    raise Http404


def open_application_by_program(user) -> dict[int, Application]:
    """The latest not-deleted application per program, for the entry page's buttons."""
    latest: dict[int, Application] = {}
    for app in Application.objects.filter(applicant=user, deleted_at__isnull=True).order_by("id"):
        latest[app.program_id] = app
    return latest


def applications_of(user):
    return (
        Application.objects.filter(applicant=user, deleted_at__isnull=True)
        .select_related("program", "stage_authority", "stage_employer", "program_version")
        .order_by("-id")
    )


def materials_of(user):
    from rencai.profiles.models import Material

    return list(Material.objects.filter(owner=user).order_by("material_type", "-id"))


def attached_by_type(app) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for material_type, material_id in app.attachments.values_list("material_type", "material_id"):
        out.setdefault(material_type, []).append(material_id)
    return out


def attachments_of(app) -> list[tuple[dict, list]]:
    links = list(app.attachments.select_related("material"))
    out = []
    for spec in app.definition["materials"]:
        out.append((spec, [link.material for link in links if link.material_type == spec["type"]]))
    return out


def display_values(app) -> list[tuple[str, str]]:
    rows = []
    if app.data.get("grading_kind"):
        from rencai.agency.models import GradingKind

        rows.append((_("分类"), str(GradingKind(app.data["grading_kind"]).label)))
    for spec in app.definition["fields"]:
        value = app.data.get(spec["code"], "")
        if spec["type"] == "bool":
            value = _("是") if value else _("否")
        elif spec["type"] == "talent_level":
            value = next((lv["name"] for lv in spec["levels"] if lv["code"] == value), value)
        elif spec["type"] == "talent_criteria":
            texts = {c["code"]: c["text"] for lv in spec["levels"] for c in lv["criteria"]}
            value = "；".join(texts.get(code, code) for code in value or [])
        elif spec["type"] in ("station", "community") and value:
            from rencai.housing import services as housing

            value = housing.place_name(spec["type"], value)
        elif spec["type"] == "service_category":
            value = next((c["name"] for c in spec["categories"] if c["code"] == value), value)
        rows.append((spec["label"], str(value) if value not in (None, "") else "—"))
    return rows


def timeline(app) -> list[ApplicationEvent]:
    return list(app.events.order_by("id"))


def stage_track(app) -> list[dict]:
    """The chain as steps with done / current / waiting, for the process view (F36)."""
    if app.state == S.DRAFT and not app.submitted_at:
        return []
    stages = app.stages
    out = []
    waiting_here = app.is_open or app.state == S.TO_CONFIRM
    for index, stage in enumerate(stages):
        if app.state in (S.APPROVED, S.CONFIRMED) or (waiting_here and index < app.stage):
            status = "done"
        elif waiting_here and index == app.stage:
            status = "current"
        elif app.state in (S.RETURNED, S.REJECTED) and index < (
            app.returned_from_stage if app.returned_from_stage is not None else app.stage
        ):
            status = "done"
        elif app.state in (S.RETURNED, S.REJECTED) and index == (
            app.returned_from_stage if app.returned_from_stage is not None else app.stage
        ):
            status = "stopped"
        else:
            status = "waiting"
        out.append({"name": stage["name"], "status": status})
    return out


def versions_for_display(app) -> list[dict]:
    specs = app.definition["fields"]
    out = []
    previous = None
    for version in app.versions.order_by("number"):
        rows = []
        for spec in specs:
            value = version.data.get(spec["code"], "")
            before = previous.data.get(spec["code"], "") if previous else value
            rows.append({"label": spec["label"], "value": value or "—", "changed": before != value})
        out.append({"version": version, "rows": rows})
        previous = version
    return list(reversed(out))


def application_pdf(app, *, masked: bool = False) -> bytes:
    """The filled form. ``masked``: the ID and phone numbers masked (issue 8), for anyone
    but the applicant, who prints and signs their own form with the full values."""
    from rencai.applications.pdf import PdfSection, PdfTimelineEntry, render_application_pdf
    from rencai.identity import mask_id_number, mask_phone

    applicant = app.applicant
    id_number = applicant.id_number or applicant.username
    phone = applicant.phone or ""
    basic = [
        (_("姓名") if applicant.is_person else _("单位联系人"), applicant.real_name),
        (_("证件号码"), mask_id_number(id_number) if masked else id_number),
        (_("手机号码"), mask_phone(phone) if masked else phone),
        (_("申报单位"), app.employer.name if app.employer else ""),
    ]
    if applicant.is_person:
        education = rules.highest_education(applicant)
        basic.append(
            (
                _("最高学历"),
                _(rules.EDUCATION_NAMES[education]) if education in rules.EDUCATION_NAMES else "",
            )
        )
    summary = [(_("申报项目"), app.program.name), (_("状态"), app.get_state_display())]
    if app.months is not None:
        summary.append((_("申请月数"), str(app.months)))
    if app.amount is not None:
        demo = app.definition["amount"].get("demo")
        summary.append((_("申请金额（元）"), f"{app.amount}" + (_("（示范标准）") if demo else "")))
    if app.claim_kind:
        summary.append((_("申请类型"), app.get_claim_kind_display()))
    if app.upgrade_number:
        summary.append((_("提升次数"), rules.ordinal(app.upgrade_number)))
    materials = [
        (spec["label"], "、".join(m.original_name for m in items) or _("未上传"))
        for spec, items in attachments_of(app)
    ]
    sections = [
        PdfSection(_("申请人信息"), basic),
        PdfSection(_("申报信息"), summary + display_values(app)),
    ]
    if materials:
        sections.append(PdfSection(_("申报材料"), materials))
    if app.definition.get("commitment"):
        sections.append(PdfSection(_("申报承诺"), [(_("承诺"), app.definition["commitment"])]))
    entries = [
        PdfTimelineEntry(
            when=timezone.localtime(e.at).strftime("%Y-%m-%d %H:%M"),
            actor=f"{e.actor_name} {e.organisation}".strip(),
            action=f"{e.stage_name} {ACTION_NAMES.get(e.action, e.action)}".strip(),
            opinion=e.opinion,
        )
        for e in timeline(app)
    ]
    from rencai.city import city_setting

    return render_application_pdf(
        title=_("%(p)s申请表") % {"p": app.program.name},
        subtitle=f"{city_setting('name')}{city_setting('platform_name')}",
        number=app.number or _("（暂存，未提交）"),
        sections=sections,
        timeline=entries,
        footer=_("打印时间：%(t)s") % {"t": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
    )


def profile_for_review(app) -> dict | None:
    if not app.applicant.is_person:
        return None
    from rencai.profiles.selectors import profile_summary

    return profile_summary(app.applicant)


def payout_account(user, definition) -> dict | None:
    """F22: for programs checked against social insurance, the payout account is the bank
    account of the person's social-security card, shown read-only. None when the program
    does not use it; ``{"missing": True}`` when there is no record; ``{"error": msg}`` when
    the system cannot be reached."""
    if not user.is_person or not any(
        r["kind"] in ("pension_start", "deducted_matches_contributions")
        for r in definition["rules"]
    ):
        return None
    from rencai.errors import ServiceError
    from rencai.integrations.rules import bank_account_of

    try:
        found = bank_account_of(user.id_number or "")
    except ServiceError as exc:
        return {"error": exc.message}
    if not found:
        return {"missing": True}
    return {"bank": found[0], "account": found[1]}


def work_history_of(user):
    from rencai.profiles.models import WorkHistory

    return list(
        WorkHistory.objects.filter(owner=user, kind="work")
        .select_related("district")
        .order_by("-start_date")
    )


def gap_candidates(app, results) -> list[dict]:
    """容缺 (F47): when the only unmet condition is missing materials and the program
    accepts gaps, the required materials that may be declared missing."""
    if not app.definition.get("gaps"):
        return []
    failed = [r for r in results if not r.ok]
    if not failed or any(r.code != "materials_required" for r in failed):
        return []
    attached = set(app.attachments.values_list("material_type", flat=True))
    pending = {g.material_type for g in app.gaps.all() if g.is_pending}
    return [
        mt
        for mt in app.definition["materials"]
        if mt["required"] and mt["type"] not in attached and mt["type"] not in pending
    ]


def gap_latest(app):
    """The latest deadline a gap may have (the pack's limit from today)."""
    import datetime

    from django.utils import timezone

    spec = app.definition.get("gaps")
    if not spec:
        return None
    return timezone.localdate() + datetime.timedelta(days=spec["max_days"])


def attempts(user, program):
    """申请历史记录 (F55): the person's applications of one program, oldest first,
    numbered as attempts."""
    apps = list(
        Application.objects.filter(applicant=user, program=program)
        .exclude(state=S.DRAFT, submitted_at__isnull=True)
        .order_by("id")
    )
    for number, app in enumerate(apps, start=1):
        app.attempt = number
    return apps


DESK_LIMIT = 1000


def desk_waiting(authorities, kind: str) -> list[Application]:
    """What waits at an authority's notice, report or payout desk (F41, F42): open
    applications at a stage of that kind, not already in an open notice, a submitted
    report or a pending payout. Selected in SQL by ``stage_kind``; the oldest first, at
    most DESK_LIMIT (a desk acts on them in bundles)."""
    qs = Application.objects.filter(
        stage_authority_id__in=authorities,
        stage_kind=kind,
        state__in=[S.SUBMITTED, S.IN_REVIEW],
    )
    if kind == "notice":
        qs = qs.exclude(notice_entries__status__in=["listed", "objected"])
    elif kind == "batch_report":
        qs = qs.exclude(report_items__report__status="submitted", report_items__status="included")
    elif kind == "payout":
        qs = qs.exclude(payout_items__status="pending")
    return list(
        qs.select_related("program", "program_version", "applicant", "employer").order_by("id")[
            :DESK_LIMIT
        ]
    )
