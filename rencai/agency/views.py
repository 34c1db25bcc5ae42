"""The agency's pages (AGENCY guide): 分类分级管理 (申请列表, 评定结果) and 政策补贴
(实施细则, 补贴申报). Thin: parse, call the services, render. Every grading action is an
engine transition, so the timeline shows each step."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rencai.agency import scoring, selectors, services
from rencai.agency.models import GradingKind
from rencai.applications import access, rules, transitions
from rencai.applications import selectors as app_selectors
from rencai.errors import ServiceError
from rencai.params import parse_id


def agency_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.kind != "agency" or request.user.own_employer() is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _years():
    this = timezone.localdate().year
    return [this + 1, this, this - 1]


@agency_required
def gradings(request):
    """申请列表 (F56): ID, year, agency, credit code, category, kind, status, actions."""
    q = request.GET.get("q", "").replace("\x00", "").strip()[:40]
    page = Paginator(selectors.gradings(request.user, q), 20).get_page(request.GET.get("page"))
    for app in page.object_list:
        app.category_name = (services.category_of(app) or {}).get("name", "—")
        app.kind_label = GradingKind(
            app.data.get("grading_kind")
            or ("keep" if app.definition.get("grading") == "keep" else "rating")
        ).label
    program = services.grading_program("rating")
    return render(
        request,
        "agency/gradings.html",
        {
            "page": page,
            "q": q,
            "agency": request.user.own_employer(),
            "categories": program.definition["service_categories"] if program else [],
            "years": _years(),
            "keep_program": services.grading_program("keep"),
            "form_values": request.session.pop("grading_form", None),
            "menu": "gradings",
        },
    )


@agency_required
@require_POST
def grading_create(request):
    kind = request.POST.get("kind", "")
    category = request.POST.get("service_category", "")
    if kind == GradingKind.KEEP:
        # 保级 has its own form and review (F59)
        keep = services.grading_program("keep")
        if keep is None:
            raise Http404
        url = reverse("applications:new", args=[keep.code])
        return redirect(f"{url}?{urlencode({'service_category': category[:60]})}")
    try:
        app = services.grading_create(
            actor=request.user,
            year=request.POST.get("year"),
            service_category=category,
            kind=kind,
            request=request,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        request.session["grading_form"] = {
            "year": request.POST.get("year", ""),
            "service_category": category,
            "kind": kind,
        }
        return redirect(reverse("agency:gradings") + "?create=1")
    messages.success(request, _("已保存。请点击“填写”逐项填写评价指标。"))
    return redirect("agency:grading", pk=app.pk)


def _own_grading(request, pk):
    app = access.own_application(request.user, pk)
    if app.deleted_at is not None or app.definition.get("grading") != "rating":
        raise Http404
    return app


@agency_required
def grading(request, pk):
    """The indicator tree (F57): each third-level indicator with done / not done and its
    own dialog; reporting (上报) with the commitment (F58); the timeline."""
    app = _own_grading(request, pk)
    category = services.category_of(app)
    result = services.score_of(app)
    open_code = request.GET.get("fill", "")
    reasons = {}
    for adj in app.score_adjustments.order_by("id"):
        reasons[adj.indicator] = adj.reason
    return render(
        request,
        "agency/grading.html",
        {
            "app": app,
            "category": category,
            "result": result,
            "reasons": reasons,
            "editable": app.state in transitions.EDITABLE,
            "open_code": open_code,
            "error": request.session.pop(f"indicator_error_{app.pk}", None),
            "checks": rules.precheck(app) if request.GET.get("report") else None,
            "values": app_selectors.display_values(app),
            "events": app_selectors.timeline(app),
            "stages": app_selectors.stage_track(app),
            "kind_label": GradingKind(app.data.get("grading_kind") or "rating").label,
            "menu": "gradings",
        },
    )


@agency_required
@require_POST
def indicator(request, pk, code):
    app = _own_grading(request, pk)
    try:
        services.indicator_save(
            actor=request.user,
            application=app,
            code=code,
            value=request.POST.get("value", ""),
            upload=request.FILES.get("file"),
            request=request,
        )
    except ServiceError as exc:
        request.session[f"indicator_error_{app.pk}"] = {
            "code": code,
            "message": exc.message,
            "value": request.POST.get("value", "")[:40],
        }
        return redirect(reverse("agency:grading", args=[pk]) + f"?fill={code}#indicator-{code}")
    ind = scoring.find_indicator(services.category_of(app), code)
    messages.success(request, _("已保存：%(n)s。") % {"n": ind["name"]})
    return redirect(reverse("agency:grading", args=[pk]) + f"#row-{code}")


@agency_required
@require_POST
def report(request, pk):
    """上报 (F58): refused, with what is missing, until every required indicator is done."""
    app = _own_grading(request, pk)
    try:
        transitions.submit(
            actor=request.user,
            application=app,
            commitment_accepted=request.POST.get("commitment") == "on",
            seen_version=parse_id(request.POST.get("version")),
            request=request,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("agency:grading", pk=pk)
    messages.success(request, _("已上报，等待审核。请及时关注申报状态。"))
    return redirect("agency:gradings")


@agency_required
@require_POST
def delete(request, pk):
    app = access.own_application(request.user, pk)
    if not app.definition.get("grading"):
        raise Http404
    try:
        transitions.draft_delete(actor=request.user, application=app, request=request)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已删除。"))
    return redirect("agency:gradings")


@agency_required
def results(request):
    """评定结果 (F59): grade and validity per category; upgrade and keep-grade."""
    return render(
        request,
        "agency/results.html",
        {
            "grades": selectors.results(request.user.own_employer()),
            "agency": request.user.own_employer(),
            "keep_program": services.grading_program("keep"),
            "menu": "results",
        },
    )


@agency_required
@require_POST
def upgrade(request, pk):
    grade_id = parse_id(pk)
    try:
        app = services.upgrade_start(actor=request.user, grade_id=grade_id, request=request)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("agency:results")
    messages.success(
        request,
        _("已生成升级申报（%(c)s），指标已按上次申报预填，请核对修改后上报。")
        % {"c": (services.category_of(app) or {}).get("name", "")},
    )
    return redirect("agency:gradings")


@agency_required
def rules_documents(request):
    """实施细则 (F60): the policy documents of the agency subsidies."""
    from rencai.cms.models import Article

    articles = Article.objects.visible().filter(kind=Article.Kind.AGENCY_RULES)
    page = Paginator(articles, 20).get_page(request.GET.get("page"))
    return render(request, "agency/rules.html", {"page": page, "menu": "rules"})


@agency_required
def subsidies(request):
    """补贴申报 (F60): my subsidy applications with 修改 / 删除 / 提交, and 新增补贴申报
    listing the projects open now with their form templates."""
    today = timezone.localdate()
    programs = []
    for program in selectors.subsidy_programs():
        is_open, reason = rules.window_open(program.definition, today)
        programs.append({"program": program, "open": is_open, "reason": reason})
    page = Paginator(selectors.subsidies(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "agency/subsidies.html",
        {
            "page": page,
            "programs": programs,
            "show_new": request.GET.get("new") == "1",
            "menu": "subsidies",
        },
    )


@login_required
@require_POST
def score_adjust(request, pk):
    """A reviewer at the current stage adjusts one indicator's score, with a reason (F58)."""
    try:
        services.score_adjust(
            actor=request.user,
            application_id=pk,
            indicator=request.POST.get("indicator", ""),
            points=request.POST.get("points", ""),
            reason=request.POST.get("reason", ""),
            request=request,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已调整得分，并记入审计日志。"))
    return redirect(reverse("review:application", args=[pk]) + "#scores-title")
