"""The staff area: registration reviews for district HR bureaus (F03) and employers (F04)."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.accounts import services
from rencai.accounts.forms import ReviewForm
from rencai.accounts.models import User
from rencai.agency.catalog import qualification_names
from rencai.applications import selectors
from rencai.errors import ServiceError
from rencai.orgs import changes
from rencai.orgs.models import Employer, Membership, RegistrationChange
from rencai.params import parse_id, search_text
from rencai.review.access import (
    change_for_district_reviewer,
    employer_for_district_reviewer,
    employer_roles_of,
    is_staff_area_user,
    person_for_employer_reviewer,
    reviewable_districts_of,
)

PAGE_SIZE = 20


def _staff_required(view):
    @login_required
    def wrapper(request, *args, **kwargs):
        if not is_staff_area_user(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    return wrapper


@_staff_required
def dashboard(request):
    user = request.user
    districts = reviewable_districts_of(user)
    employers = employer_roles_of(user)
    ctx = {
        "memberships": Membership.objects.filter(user=user).select_related(
            "authority__region", "employer"
        ),
        "pending_employers": Employer.objects.filter(
            district_id__in=districts, status=Employer.Status.PENDING
        ).count()
        if districts
        else None,
        "pending_changes": changes.changes_for_districts(districts).count() if districts else None,
        "pending_people": User.objects.filter(
            employer_id__in=employers,
            registration_status=User.RegistrationStatus.PENDING,
            closed_at__isnull=True,
        ).count()
        if employers
        else None,
    }
    from rencai.applications.access import actor_scope, queue_filter
    from rencai.applications.models import Application

    employers_scope, authorities_scope = actor_scope(user)
    from rencai.applications.transitions import payout_authorities_of

    finance = payout_authorities_of(user)
    ctx["has_payouts"] = bool(finance)
    ctx["has_authority"] = bool(authorities_scope - finance)  # the notice desk
    from rencai.housing.access import is_housing_staff

    ctx["housing_staff"] = is_housing_staff(user)
    ctx["waiting_applications"] = (
        Application.objects.filter(queue_filter(user)).count()
        if employers_scope or authorities_scope
        else None
    )
    return render(request, "review/dashboard.html", ctx)


def _status_filter(request, choices, default):
    status = request.GET.get("status", default)
    return status if status in dict(choices) or status == "all" else default


def _review_list(request, qs, *, field, statuses, default, search, order=("created_at", "id")):
    """What the review lists share (F03, F61): the status filter (on ``field``; ``all``
    for every status), the search box (control characters dropped, at most 100 characters) and a
    page of rows. ``search`` turns the search words into a ``Q``."""
    status = _status_filter(request, statuses, default)
    if status != "all":
        qs = qs.filter(**{field: status})
    q = search_text(request.GET.get("q"))
    if q:
        qs = qs.filter(search(q))
    page = Paginator(qs.order_by(*order), PAGE_SIZE).get_page(request.GET.get("page"))
    return {"page": page, "status": status, "q": q, "statuses": statuses}


@_staff_required
def employer_list(request):
    districts = reviewable_districts_of(request.user)
    if not districts:
        raise Http404
    ctx = _review_list(
        request,
        Employer.objects.filter(district_id__in=districts).select_related("district"),
        field="status",
        statuses=Employer.Status.choices,
        default=Employer.Status.PENDING,
        search=lambda q: Q(name__icontains=q) | Q(credit_code__icontains=q.upper()),
    )
    return render(request, "review/employer_list.html", ctx)


def _decide(request, form, decide, name: str, back: str):
    """A registration or change decision posted with a ``ReviewForm``: the service is
    called with ``approve`` and ``opinion``; on success the list, with the message; on a
    refusal None, with the service's message on the form."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        decide(
            approve=form.cleaned_data["decision"] == "approve",
            opinion=form.cleaned_data["opinion"],
        )
    except ServiceError as exc:
        form.add_service_error(exc)
        return None
    messages.success(request, _("已保存审核结果：%(name)s。") % {"name": name})
    return redirect(back)


@_staff_required
def employer_review(request, pk: int):
    employer = employer_for_district_reviewer(request.user, pk)
    form = ReviewForm(request.POST or None)
    decided = _decide(
        request,
        form,
        lambda **d: services.employer_registration_review(
            actor=request.user, employer_id=employer.pk, request=request, **d
        ),
        employer.name,
        "review:employers",
    )
    if decided:
        return decided
    admin = (
        Membership.objects.filter(employer=employer, role="employer_admin")
        .select_related("user")
        .first()
    )
    return render(
        request,
        "review/employer_review.html",
        {
            "employer": employer,
            "form": form,
            "admin_user": admin.user if admin else None,
            "qualifications": qualification_names(employer.qualifications),
        },
    )


@_staff_required
def change_list(request):
    """注册信息变更 (F61): the requests of the reviewer's districts."""
    districts = reviewable_districts_of(request.user)
    if not districts:
        raise Http404
    ctx = _review_list(
        request,
        changes.changes_for_districts(districts, "all"),
        field="state",
        statuses=RegistrationChange.State.choices,
        default=RegistrationChange.State.PENDING,
        search=lambda q: (
            Q(employer__name__icontains=q) | Q(employer__credit_code__icontains=q.upper())
        ),
    )
    return render(request, "review/change_list.html", ctx)


@_staff_required
def change_review(request, pk: int):
    change = change_for_district_reviewer(request.user, pk)
    form = ReviewForm(request.POST or None)
    decided = _decide(
        request,
        form,
        lambda **d: changes.change_review(
            actor=request.user, change_id=change.pk, request=request, **d
        ),
        change.employer.name,
        "review:changes",
    )
    if decided:
        return decided
    form.fields["opinion"].help_text = _("不通过时必填，单位将看到这段意见。")
    return render(
        request,
        "review/change_review.html",
        {"change": change, "rows": changes.change_rows(change), "form": form},
    )


@_staff_required
def person_list(request):
    employers = employer_roles_of(request.user)
    if not employers:
        raise Http404
    status = _status_filter(request, User.RegistrationStatus.choices, "pending")
    q = request.GET.get("q", "").strip()
    qs = User.objects.filter(
        employer_id__in=employers, kind=User.Kind.PERSON, closed_at__isnull=True
    ).select_related("employer")
    if status != "all":
        qs = qs.filter(registration_status=status)
    if q:
        qs = qs.filter(Q(real_name__icontains=q) | Q(id_number=q.upper()))
    page = Paginator(qs.order_by("date_joined", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "review/person_list.html",
        {
            "page": page,
            "status": status,
            "q": q,
            "statuses": User.RegistrationStatus.choices,
        },
    )


@_staff_required
def person_review(request, pk: int):
    person = person_for_employer_reviewer(request.user, pk)
    form = ReviewForm(request.POST or None)
    decided = _decide(
        request,
        form,
        lambda **d: services.person_registration_review(
            actor=request.user, person_id=person.pk, request=request, **d
        ),
        person.real_name,
        "review:people",
    )
    if decided:
        return decided
    return render(request, "review/person_review.html", {"person": person, "form": form})


# --- applications (F39, F40, F43, F44) ------------------------------------------------


def _queue_filters(request, qs):
    """The workbench filters (B6, issue 4): programme, district, employer, submission
    dates, amount, and a search by number, name or ID number."""
    from decimal import Decimal, InvalidOperation

    g = request.GET
    if g.get("program"):
        qs = qs.filter(program__code=g["program"])
    if district := parse_id(g.get("district")):
        qs = qs.filter(employer__district_id=district)
    if g.get("employer"):
        qs = qs.filter(employer__name__icontains=g["employer"].strip()[:60])
    for key, lookup in (("from", "submitted_at__date__gte"), ("to", "submitted_at__date__lte")):
        try:
            if g.get(key):
                qs = qs.filter(**{lookup: datetime.date.fromisoformat(g[key])})
        except ValueError:
            pass
    for key, lookup in (("min", "amount__gte"), ("max", "amount__lte")):
        try:
            if g.get(key):
                qs = qs.filter(**{lookup: Decimal(g[key])})
        except InvalidOperation:
            pass
    q = (g.get("q") or "").strip()[:40]
    if q:
        qs = qs.filter(
            Q(number__icontains=q)
            | Q(applicant__real_name__icontains=q)
            | Q(applicant__id_number=q.upper())
            | Q(program__name__icontains=q)
        )
    order = "-submitted_at" if g.get("sort") == "newest" else "stage_entered_at"
    return qs.order_by(order, "id")


@_staff_required
def application_queue(request):
    """The workbench: what waits at my stage in my scope, with filters, sorted by waiting
    time, items past the stage's deadline flagged; select items or all matching and
    approve or return them in one background job. status=handled lists what my
    organisation already handled."""
    from rencai.applications import access as app_access
    from rencai.applications import transitions
    from rencai.applications.models import Application, ApplicationEvent
    from rencai.programs.models import Program

    status = request.GET.get("status") or "waiting"
    # The wide columns (the form data, the programme definition) stay out of the sorted
    # rows: definitions come in one extra query for the few versions on the page.
    base = (
        Application.objects.select_related(
            "program", "applicant", "employer", "stage_authority", "stage_employer"
        )
        .prefetch_related("program_version")
        .defer("data")
    )
    employers, authorities = app_access.actor_scope(request.user)
    if status == "handled":
        qs = base.filter(
            deleted_at__isnull=True,
            pk__in=ApplicationEvent.objects.filter(
                Q(actor_org_employer_id__in=employers) | Q(actor_org_authority_id__in=authorities)
            ).values("application_id"),
        )
    else:
        status = "waiting"
        qs = base.filter(app_access.queue_filter(request.user))
    qs = _queue_filters(request, qs)
    error = None
    if request.method == "POST" and status == "waiting":
        if request.POST.get("select_all") == "1":
            ids = list(qs.values_list("pk", flat=True)[: transitions.BATCH_LIMIT + 1])
        else:
            ids = request.POST.getlist("applications")
        try:
            job = transitions.batch_start(
                actor=request.user,
                application_ids=ids,
                action=request.POST.get("action", ""),
                opinion=request.POST.get("opinion", ""),
                request=request,
            )
        except ServiceError as exc:
            error = exc.message
        else:
            return redirect("review:job", pk=job.pk)
    # Page through ids only (one narrow, indexed query), then load the page's rows with
    # their joins: the cost stays the same with 100,000 items waiting.
    page = Paginator(qs.values_list("pk", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = {a.pk: a for a in base.filter(pk__in=list(page.object_list))}
    page.object_list = [rows[pk] for pk in page.object_list if pk in rows]
    now = timezone.now()
    for app in page.object_list:
        deadline = (app.current_stage or {}).get("deadline_days")
        app.waiting_days = (now - app.stage_entered_at).days if app.stage_entered_at else None
        app.overdue = bool(
            deadline and app.waiting_days is not None and app.waiting_days > deadline
        )
    from rencai.orgs.models import Region

    return render(
        request,
        "review/application_queue.html",
        {
            "page": page,
            "q": request.GET.get("q", ""),
            "status": status,
            "statuses": [("waiting", _("待我审核")), ("handled", _("已处理"))],
            "programs": Program.objects.filter(active=True).order_by("pack", "order"),
            "districts": Region.objects.filter(level="district").order_by("code"),
            "f": request.GET,
            "query": request.GET.urlencode(),
            "error": error,
        },
    )


@_staff_required
def job(request, pk):
    """A batch job's progress and result; the page refreshes itself while it runs."""
    from rencai.applications.models import BatchJob

    item = BatchJob.objects.filter(pk=pk, actor=request.user).first()
    if item is None:
        raise Http404
    return render(request, "review/job.html", {"job": item})


@_staff_required
def application_review(request, pk):
    from rencai.applications import access as app_access
    from rencai.applications import rules, selectors, transitions
    from rencai.applications.forms import ReviewActionForm

    app = app_access.application_for_staff(request.user, pk)
    can_act = app_access.can_act_on(request.user, app)
    form = ReviewActionForm(request.POST or None, initial={"version": app.version})
    if request.method == "POST" and can_act and form.is_valid():
        action = {
            "approve": transitions.approve,
            "return": transitions.return_,
            "reject": transitions.reject,
        }[form.cleaned_data["action"]]
        try:
            action(
                actor=request.user,
                application=app,
                opinion=form.cleaned_data["opinion"],
                seen_version=form.cleaned_data["version"],
                request=request,
            )
        except ServiceError as exc:
            form.add_error("opinion" if exc.field == "opinion" else None, exc.message)
        else:
            messages.success(request, _("已保存审核结果：%(no)s。") % {"no": app.number})
            return redirect("review:applications")
    return render(
        request,
        "review/application_review.html",
        {
            "app": app,
            "form": form,
            "can_act": can_act,
            "values": selectors.display_values(app),
            "attachments": selectors.attachments_of(app),
            "events": selectors.timeline(app),
            "stages": selectors.stage_track(app),
            "checks": rules.precheck(app),
            "profile": selectors.profile_for_review(app),
            "upgrade": rules.ordinal(app.upgrade_number),
            "gaps": list(app.gaps.select_related("material")),
            "can_clear": transitions.can_clear_gaps(request.user, app),
            **_grading_context(app),
        },
    )


def _grading_context(app) -> dict:
    """AGENCY (F58): a rating's scores from the pack, the grade they reach and the
    adjustments made, for the reviewer."""
    if app.definition.get("grading") != "rating":
        return {}
    from rencai.agency import scoring
    from rencai.agency import services as agency

    result = agency.score_of(app)
    category = agency.category_of(app)
    names = {r.code: r.indicator["name"] for r in result.rows}
    adjustments = list(app.score_adjustments.select_related("actor").order_by("-id"))
    for adjustment in adjustments:
        adjustment.indicator_name = names.get(adjustment.indicator, adjustment.indicator)
    return {
        "grading_score": result,
        "grading_category": category,
        "grading_grade": scoring.grade_for(category, result) if category else None,
        "score_adjustments": adjustments,
    }


@_staff_required
def application_gap(request, pk, gap_pk):
    """容缺 (F47): clear a supplied gap, or send it back with a reason."""
    from rencai.applications import access as app_access
    from rencai.applications import transitions

    if request.method != "POST":
        raise Http404
    app = app_access.application_for_staff(request.user, pk)
    if not app.gaps.filter(pk=gap_pk).exists():
        raise Http404
    clear = request.POST.get("action") == "clear"
    try:
        transitions.gap_decide(
            actor=request.user,
            gap_id=gap_pk,
            clear=clear,
            opinion=request.POST.get("opinion", ""),
            request=request,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已解除容缺。") if clear else _("已退回申请人重新补充。"))
    return redirect("review:application", pk=pk)


# --- public notices (F41) ------------------------------------------------------------


@_staff_required
def notices(request):
    """The bureau's notice desk: applications waiting at its notice stage, to select and
    publish; and its notices with their objections."""
    from rencai.applications import access as app_access
    from rencai.applications import transitions
    from rencai.applications.models import PublicNotice

    authorities = app_access.reviewing_authorities_of(request.user)
    if not authorities:
        raise Http404
    waiting = selectors.desk_waiting(authorities, "notice")
    error = None
    if request.method == "POST":
        try:
            notice = transitions.notice_publish(
                actor=request.user,
                application_ids=request.POST.getlist("applications"),
                title=request.POST.get("title", ""),
                request=request,
            )
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, _("公示已发布：%(t)s。") % {"t": notice.title})
            return redirect("review:notice", pk=notice.pk)
    mine = (
        PublicNotice.objects.filter(authority_id__in=authorities)
        .annotate(
            entry_count=Count("entries", distinct=True),
            open_objections=Count(
                "entries__objections", filter=Q(entries__objections__status="open")
            ),
        )
        .order_by("-starts_at")[:50]
    )
    return render(
        request,
        "review/notices.html",
        {
            "waiting": waiting,
            "notices": mine,
            "error": error,
            "title": request.POST.get("title", ""),
        },
    )


@_staff_required
def notice(request, pk):
    from rencai.applications import access as app_access
    from rencai.applications import transitions
    from rencai.applications.models import PublicNotice

    item = PublicNotice.objects.filter(
        pk=pk, authority_id__in=app_access.reviewing_authorities_of(request.user)
    ).first()
    if item is None:
        raise Http404
    if request.method == "POST":
        try:
            transitions.objection_resolve(
                actor=request.user,
                objection_id=request.POST.get("objection"),
                uphold=request.POST.get("decision") == "uphold",
                opinion=request.POST.get("opinion", ""),
                request=request,
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("异议已处理。"))
        return redirect("review:notice", pk=pk)
    if request.GET.get("export") == "xlsx":
        from rencai.applications import exports

        # Built from the stored, masked entries: the full values are never in the file.
        # .iterator() keeps the query lazy, so it runs inside xlsx_response (replica scope).
        return exports.xlsx_response(
            f"notice-{item.pk}.xlsx",
            _("公示名单"),
            [
                _("序号"),
                _("姓名"),
                _("证件号码"),
                _("单位"),
                _("申报项目"),
                _("金额（元）"),
                _("状态"),
            ],
            (
                [
                    n,
                    e.masked_name,
                    e.masked_id_number,
                    e.employer_name,
                    e.program_name,
                    float(e.amount) if e.amount is not None else "",
                    str(e.get_status_display()),
                ]
                for n, e in enumerate(item.entries.order_by("id").iterator(), start=1)
            ),
        )
    entries = item.entries.select_related("application").prefetch_related("objections")
    return render(request, "review/notice.html", {"notice": item, "entries": entries})


# --- payouts (F37, F42) ------------------------------------------------------------------


@_staff_required
def payouts(request):
    """The finance desk: applications waiting at its payout stage, to batch; its batches."""
    from rencai.applications import transitions
    from rencai.applications.models import PayoutBatch

    authorities = transitions.payout_authorities_of(request.user)
    if not authorities:
        raise Http404
    waiting = selectors.desk_waiting(authorities, "payout")
    error = None
    if request.method == "POST":
        try:
            batch = transitions.payout_batch_create(
                actor=request.user,
                application_ids=request.POST.getlist("applications"),
                request=request,
            )
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, _("拨付批次已生成：%(n)s。") % {"n": batch.number})
            return redirect("review:payout", pk=batch.pk)
    batches = PayoutBatch.objects.filter(authority_id__in=authorities).order_by("-id")[:50]
    return render(
        request,
        "review/payouts.html",
        {"waiting": waiting, "batches": batches, "error": error},
    )


@_staff_required
def payout(request, pk):
    from django.http import HttpResponse

    from rencai.applications import transitions
    from rencai.applications.models import PayoutBatch

    batch = PayoutBatch.objects.filter(
        pk=pk, authority_id__in=transitions.payout_authorities_of(request.user)
    ).first()
    if batch is None:
        raise Http404
    error = None
    if request.method == "POST" and request.POST.get("action") == "export":
        content = transitions.payout_export(actor=request.user, batch_id=batch.pk, request=request)
        response = HttpResponse(
            content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{batch.number}.xlsx"'
        return response
    if request.method == "POST" and request.POST.get("action") == "results":
        upload = request.FILES.get("file")
        try:
            rows = _result_rows(upload)
            counts = transitions.payout_results_import(
                actor=request.user, batch_id=batch.pk, rows=rows, request=request
            )
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("银行结果已导入：成功 %(p)d 笔，失败 %(f)d 笔。")
                % {"p": counts["paid"], "f": counts["failed"]},
            )
            if counts["closed"]:
                messages.warning(
                    request,
                    _(
                        "以下申报在列入批次后已取消，银行结果已记录，申报状态未改变：%(n)s。"
                        "银行已拨付的，请按规定追回。"
                    )
                    % {"n": "、".join(counts["closed"])},
                )
            return redirect("review:payout", pk=batch.pk)
    return render(
        request,
        "review/payout.html",
        {"batch": batch, "items": batch.items.select_related("application"), "error": error},
    )


def _result_rows(upload) -> list:
    """The bank's result file: XLSX or UTF-8 CSV with columns 申报编号, 结果, 原因 (first
    row is the header). Returns [(line, (number, result, reason)), ...]."""
    import csv
    import io

    if upload is None:
        raise ServiceError(_("请选择银行返回的结果文件。"), field="file")
    name = (upload.name or "").lower()
    raw = upload.read(10 * 1024 * 1024 + 1)
    if len(raw) > 10 * 1024 * 1024:
        raise ServiceError(_("结果文件不能超过10MB。"), field="file")
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        from rencai.profiles import filecheck
        from rencai.profiles.materials import MAX_ZIP_MEMBERS, max_unzipped_bytes

        # The materials' checks first: never unpacked past what it declares (zip bombs).
        filecheck.inspect(
            raw, name, "xlsx", max_members=MAX_ZIP_MEMBERS, max_unzipped=max_unzipped_bytes()
        )
        try:
            sheet = load_workbook(io.BytesIO(raw), read_only=True, data_only=True).active
            table = [
                [("" if c is None else str(c)) for c in row]
                for row in sheet.iter_rows(values_only=True)
            ]
        except Exception:
            raise ServiceError(
                _("无法读取该 Excel 文件，请确认是 .xlsx 格式。"), field="file"
            ) from None
    elif name.endswith(".csv"):
        try:
            table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        except UnicodeDecodeError:
            raise ServiceError(_("CSV 文件须为 UTF-8 编码。"), field="file") from None
    else:
        raise ServiceError(_("结果文件须为 .xlsx 或 .csv。"), field="file")
    if not table:
        raise ServiceError(_("结果文件是空的。"), field="file")
    header = [h.strip() for h in table[0]]
    try:
        cols = [header.index(h) for h in ("申报编号", "结果")]
    except ValueError:
        raise ServiceError(_("结果文件须有“申报编号”和“结果”两列。"), field="file") from None
    reason_col = header.index("原因") if "原因" in header else None
    rows = []
    for line, row in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        padded = list(row) + [""] * len(header)
        reason = padded[reason_col] if reason_col is not None else ""
        rows.append((line, (padded[cols[0]], padded[cols[1]], reason)))
    return rows


# --- roll-up reports (汇总上报) --------------------------------------------------------------


@_staff_required
def reports(request):
    """Reports desk: what waits to be reported by my authority (select and report), and
    the reports sent to my authority (accept or return)."""
    from rencai.applications import access as app_access
    from rencai.applications import transitions
    from rencai.applications.models import BatchReport

    authorities = app_access.reviewing_authorities_of(request.user)
    if not authorities:
        raise Http404
    waiting = selectors.desk_waiting(authorities, "batch_report")
    error = None
    if request.method == "POST":
        try:
            report = transitions.report_submit(
                actor=request.user,
                application_ids=request.POST.getlist("applications"),
                request=request,
            )
        except ServiceError as exc:
            error = exc.message
        else:
            messages.success(request, _("已上报：%(n)s。") % {"n": report.number})
            return redirect("review:report", pk=report.pk)
    received = BatchReport.objects.filter(to_authority_id__in=authorities).select_related(
        "from_authority"
    )[:50]
    sent = BatchReport.objects.filter(from_authority_id__in=authorities).select_related(
        "to_authority"
    )[:50]
    return render(
        request,
        "review/reports.html",
        {"waiting": waiting, "received": received, "sent": sent, "error": error},
    )


@_staff_required
def report(request, pk):
    from rencai.applications import access as app_access
    from rencai.applications import transitions
    from rencai.applications.models import BatchReport

    authorities = app_access.reviewing_authorities_of(request.user)
    item = (
        BatchReport.objects.filter(pk=pk)
        .filter(Q(to_authority_id__in=authorities) | Q(from_authority_id__in=authorities))
        .select_related("from_authority", "to_authority")
        .first()
    )
    if item is None:
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action")
        opinion = request.POST.get("opinion", "")
        try:
            if action == "accept":
                transitions.report_accept(
                    actor=request.user, report_id=pk, opinion=opinion, request=request
                )
            elif action == "return":
                transitions.report_return(
                    actor=request.user, report_id=pk, opinion=opinion, request=request
                )
            elif action == "return_item":
                transitions.report_return_item(
                    actor=request.user,
                    report_id=pk,
                    application_id=request.POST.get("application"),
                    opinion=opinion,
                    request=request,
                )
            else:
                raise Http404
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已处理汇总报告 %(n)s。") % {"n": item.number})
        return redirect("review:report", pk=pk)
    return render(
        request,
        "review/report.html",
        {
            "report": item,
            "items": item.items.select_related("application__applicant", "application__program"),
            "can_decide": item.to_authority_id in authorities and item.status == "submitted",
        },
    )


# --- statistics (F63) ----------------------------------------------------------------------


@_staff_required
def statistics(request):
    """Counts and amounts by programme, district, state and month, limited to the
    authority's region, with a bar chart and an XLSX export."""
    from rencai.applications import access as app_access
    from rencai.applications import exports
    from rencai.dbrouter import use_replica
    from rencai.programs.models import Program

    authorities = app_access.reviewing_authorities_of(request.user)
    if not authorities:
        raise Http404
    regions = exports.regions_in_scope(authorities)
    code = request.GET.get("program") or ""
    year_raw = request.GET.get("year") or ""
    year = parse_id(year_raw)
    year = year if year and 2000 <= year <= 2100 else None
    with use_replica():  # read-only aggregates, lag-tolerant (rencai.dbrouter)
        stats = exports.statistics(regions, program_code=code, year=year)
    if request.GET.get("export") == "xlsx":
        return exports.xlsx_response(
            "statistics.xlsx",
            _("统计分析"),
            [_("分组"), _("件数"), _("金额（元）")],
            exports.statistics_rows(stats),
        )
    return render(
        request,
        "review/statistics.html",
        {
            "stats": stats,
            "programs": Program.objects.filter(active=True).order_by("pack", "order"),
            "program": code,
            "year": year or "",
        },
    )
