"""Applicant pages (F30–F36, F38): business entry by category, the notice, the form,
my applications, detail with timeline and history, the PDF, messages. Thin: parse, call
``transitions``, render."""

import time
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rencai import links
from rencai.applications import access, rules, selectors, transitions
from rencai.applications.forms import ApplicationForm, initial_from, initial_from_query
from rencai.applications.models import Application
from rencai.applications.uploads import template_content_type
from rencai.errors import ServiceError
from rencai.files import stored_file_response
from rencai.notifications.models import Message
from rencai.notifications.services import message_mark_read
from rencai.params import parse_id
from rencai.programs.models import Program

S = Application.State


def _kind(user) -> str:
    if user.is_person:
        return "person"
    return "agency" if user.kind == "agency" else "employer"


@login_required
def programs(request):
    """业务申报: programs of the applicant's kind, grouped by category like the manuals."""
    kind = _kind(request.user)
    if request.user.kind == "staff":
        raise Http404
    groups = selectors.programs_by_category(kind)
    open_apps = selectors.open_application_by_program(request.user)
    closed = rules.category_gates(request.user, [p for _c, ps in groups for p in ps])
    return render(
        request,
        "applications/programs.html",
        {"groups": groups, "open_apps": open_apps, "closed": closed, "menu": "programs"},
    )


def _program_for(user, code) -> Program:
    program = (
        Program.objects.select_related("current_version")
        .filter(code=code, active=True, applicant_kind=_kind(user))
        .first()
    )
    if program is None or program.current_version is None:
        raise Http404
    return program


def _notice_key(program):
    return f"notice_opened:{program.code}:{program.current_version_id}"


@login_required
def notice(request, code):
    """The notice (申请须知), to stay open its minimum time before the form opens (F29)."""
    program = _program_for(request.user, code)
    definition = program.definition
    request.session.setdefault(_notice_key(program), time.time())
    return render(
        request,
        "applications/notice.html",
        {
            "program": program,
            "definition": definition,
            "attempts": selectors.attempts(request.user, program),
            "query": request.GET.urlencode(),
            "menu": "programs",
        },
    )


@login_required
def new(request, code):
    program = _program_for(request.user, code)
    definition = program.definition
    if definition.get("grading") == "rating":
        # AGENCY (F56): a rating starts from the 分类分级申报 dialog, filled indicator by indicator
        return redirect("agency:gradings")
    refusal = rules.before_form(request.user, definition)
    if refusal:
        return render(
            request,
            "applications/refused.html",
            {"program": program, "reason": refusal, "menu": "programs"},
        )
    opened = request.session.get(_notice_key(program))
    waited = time.time() - opened if opened else -1
    if definition["notice"]["text"] and (
        opened is None or waited < definition["notice"]["min_seconds"]
    ):
        messages.warning(request, _("请先阅读申请须知。"))
        url = reverse("applications:notice", args=[code])
        return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)
    form = ApplicationForm(
        definition,
        request.POST or None,
        request.FILES or None,
        initial=initial_from_query(definition, request.GET),
        materials_of_owner=selectors.materials_of(request.user),
        work_history=selectors.work_history_of(request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            app = transitions.draft_save(
                actor=request.user,
                program=program,
                data=form.to_data(),
                materials=form.to_materials(),
                client_token=request.POST.get("client_token"),
                uploads=form.to_uploads(),
                request=request,
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("已暂存。可以继续修改，确认无误后提交。"))
            return HttpResponseRedirect(links.url("applications:detail", app.pk))
    return render(
        request,
        "applications/form.html",
        {
            "program": program,
            "definition": definition,
            "form": form,
            "bank": selectors.payout_account(request.user, definition),
            # issue 7: a resent form (double click, retry) saves one draft, not two
            "client_token": request.POST.get("client_token") or uuid.uuid4().hex,
            "menu": "programs",
        },
    )


@login_required
def template(request, code, material_type):
    """The blank form (申报表) of a program's material type, as the pack stored it (F60),
    for anyone logged in; unknown program, material or template: 404."""
    spec = selectors.material_template(code, material_type)
    return stored_file_response(
        spec["template"]["file"],
        content_type=template_content_type(spec["template"]),
        filename=spec["template"]["name"],
        as_attachment=True,
    )


@login_required
def detail(request, pk):
    """One application: status, the reason of a return or rejection, the form (editable
    while a draft or returned), materials, actions and the timeline."""
    app = access.own_application(request.user, pk)
    if app.deleted_at is not None:
        raise Http404
    definition = app.definition
    if definition.get("grading") == "rating":
        return redirect("agency:grading", pk=app.pk)
    editable = app.state in transitions.EDITABLE
    if request.method == "POST" and not editable:
        # The form of an application no longer in the applicant's hands (an old tab, a
        # crafted request): refused in words, nothing saved (issue 8).
        messages.error(
            request,
            _("申报已提交，当前状态为“%(s)s”，不能修改。") % {"s": app.get_state_display()},
        )
        return HttpResponseRedirect(links.url("applications:detail", app.pk))
    form = None
    if editable:
        form = ApplicationForm(
            definition,
            request.POST or None,
            request.FILES or None,
            initial=initial_from(definition, app.data),
            materials_of_owner=selectors.materials_of(request.user),
            attached=selectors.attached_by_type(app),
            work_history=selectors.work_history_of(request.user),
        )
        if request.method == "POST" and form.is_valid():
            try:
                transitions.draft_save(
                    actor=request.user,
                    application=app,
                    data=form.to_data(),
                    materials=form.to_materials(),
                    uploads=form.to_uploads(),
                    seen_version=request.POST.get("version"),
                    request=request,
                )
            except ServiceError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                if request.POST.get("then") == "check":
                    return HttpResponseRedirect(links.url("applications:check", app.pk))
                messages.success(request, _("已暂存。"))
                return HttpResponseRedirect(links.url("applications:detail", app.pk))
    return render(
        request,
        "applications/detail.html",
        {
            "app": app,
            "definition": definition,
            "form": form,
            "editable": editable,
            "values": selectors.display_values(app),
            "attachments": selectors.attachments_of(app),
            "events": selectors.timeline(app),
            "stages": selectors.stage_track(app),
            "upgrade": rules.ordinal(app.upgrade_number),
            "bank": selectors.payout_account(app.applicant, definition),
            "payouts": app.payout_items.select_related("batch").order_by("id"),
            "menu": "mine",
        },
    )


@login_required
def check(request, pk):
    """The eligibility pre-check (B2) and, when everything passes, the commitment and
    the submit button."""
    app = access.own_application(request.user, pk)
    if app.deleted_at is not None:
        raise Http404
    results = rules.precheck(app)
    can_submit = app.state in transitions.EDITABLE
    return render(
        request,
        "applications/check.html",
        {
            "app": app,
            "results": results,
            "all_ok": all(r.ok for r in results),
            "can_submit": can_submit,
            "gap_materials": selectors.gap_candidates(app, results) if can_submit else [],
            "gap_latest": selectors.gap_latest(app),
            "menu": "mine",
        },
    )


def _gaps_from(post) -> list[dict]:
    """容缺 declarations from the submit form: one per ticked material type."""
    return [
        {
            "material_type": material_type,
            "reason": post.get(f"gap_reason_{material_type}", ""),
            "deadline": post.get(f"gap_deadline_{material_type}", ""),
        }
        for material_type in post.getlist("gap")
    ]


def _act(request, pk, action, success):
    app = access.own_application(request.user, pk)
    try:
        result = action(app)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(links.url("applications:detail", pk))
    messages.success(request, success)
    return result


@login_required
@require_POST
def submit(request, pk):
    try:
        # the service locks the application and answers 404 unless it is the actor's own
        transitions.submit(
            actor=request.user,
            application=Application(pk=pk),
            commitment_accepted=request.POST.get("commitment") == "on",
            seen_version=request.POST.get("version"),
            gaps=_gaps_from(request.POST),
            request=request,
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(links.url("applications:check", pk))
    messages.success(request, _("提交成功。审核进度会以站内消息和短信通知您。"))
    return HttpResponseRedirect(links.url("applications:detail", pk))


@login_required
@require_POST
def withdraw(request, pk):
    def run(app):
        transitions.withdraw(
            actor=request.user,
            application=app,
            seen_version=request.POST.get("version"),
            request=request,
        )
        return HttpResponseRedirect(links.url("applications:detail", pk))

    return _act(request, pk, run, _("已撤回，申报回到暂存状态，可修改后重新提交。"))


@login_required
@require_POST
def confirm(request, pk):
    def run(app):
        transitions.confirm_receipt(
            actor=request.user,
            application=app,
            seen_version=request.POST.get("version"),
            request=request,
        )
        return HttpResponseRedirect(links.url("applications:detail", pk))

    return _act(request, pk, run, _("已确认到账，本次申报办结。"))


@login_required
@require_POST
def delete(request, pk):
    def run(app):
        transitions.draft_delete(actor=request.user, application=app, request=request)
        return redirect("applications:mine")

    return _act(request, pk, run, _("暂存的申报已删除，删除前的内容保留在申报记录中。"))


@login_required
@require_POST
def reapply(request, pk):
    def run(app):
        new_app = transitions.apply_again(actor=request.user, application=app, request=request)
        return HttpResponseRedirect(links.url("applications:detail", new_app.pk))

    return _act(request, pk, run, _("已按原申报内容新建申请，请修改后提交。"))


@login_required
def mine(request):
    """进度查询: my applications with status and the reason of a return or rejection."""
    q = (request.GET.get("q") or "").strip()
    qs = selectors.applications_of(request.user)
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(program__name__icontains=q))
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "applications/mine.html", {"page": page, "q": q, "menu": "mine"})


@login_required
def records(request):
    """申报记录: every application including deleted drafts, with their versions (F35)."""
    qs = (
        Application.objects.filter(applicant=request.user).select_related("program").order_by("-id")
    )
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "applications/records.html", {"page": page, "menu": "records"})


@login_required
def history(request, pk):
    app = get_object_or_404(Application, pk=pk, applicant=request.user)
    return render(
        request,
        "applications/history.html",
        {"app": app, "versions": selectors.versions_for_display(app), "menu": "records"},
    )


@login_required
def pdf(request, pk):
    """The filled application form as a PDF to print and sign (F33)."""
    app = access.application_for_viewer(request.user, pk)
    # The applicant's own form carries the full numbers; a reviewer's copy is masked.
    content = selectors.application_pdf(app, masked=app.applicant_id != request.user.pk)
    response = HttpResponse(content, content_type="application/pdf")
    name = f"{app.number or 'draft-' + str(app.pk)}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def inbox(request):
    qs = Message.objects.filter(user=request.user)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "applications/inbox.html", {"page": page, "menu": "inbox"})


@login_required
@require_POST
def inbox_read(request):
    pk = request.POST.get("pk")
    if not pk or parse_id(pk):  # a garbled id marks nothing (not everything) as read
        message_mark_read(user=request.user, pk=parse_id(pk) if pk else None)
    nxt = request.POST.get("next") or ""
    if nxt.startswith("/") and not nxt.startswith("//"):
        return redirect(nxt)
    return redirect("applications:inbox")


@login_required
def roster(request):
    """员工申报花名表 (F45): the employer's people's applications by subsidy type, queried
    and exported to XLSX (ID numbers masked)."""
    from rencai.applications import exports
    from rencai.identity import mask_id_number

    if request.user.is_person or request.user.kind == "staff":
        raise Http404
    employer = request.user.own_employer()
    if employer is None:
        raise Http404
    code = request.GET.get("program") or ""
    state = request.GET.get("state") or ""
    qs = exports.roster_queryset(employer, program_code=code, state=state)
    if request.GET.get("export") == "xlsx":
        return exports.xlsx_response(
            f"roster-{employer.pk}.xlsx",
            _("员工申报花名表"),
            [_(h) for h in exports.ROSTER_HEADERS],
            exports.roster_rows(qs),
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    for app in page.object_list:
        app.masked_id = mask_id_number(app.applicant.id_number or "")
    programs = Program.objects.filter(applicant_kind="person", active=True).order_by(
        "pack", "order"
    )
    return render(
        request,
        "applications/roster.html",
        {
            "page": page,
            "programs": programs,
            "program": code,
            "state": state,
            "states": [(s, label) for s, label in Application.State.choices if s != "draft"],
            "menu": "roster",
        },
    )


@login_required
def gaps(request):
    """容缺材料 (F47): the materials I declared missing, their deadlines and state; supply
    an uploaded file for each, which a reviewer then clears."""
    from rencai.applications.models import ApplicationGap

    if request.method == "POST":
        try:
            transitions.gap_supply(
                actor=request.user,
                gap_id=request.POST.get("gap"),
                material_id=request.POST.get("material"),
                request=request,
            )
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已提交补充材料，等待审核部门确认解除容缺。"))
        return redirect("applications:gaps")
    items = list(
        ApplicationGap.objects.filter(application__applicant=request.user)
        .select_related("application__program", "material")
        .order_by("state", "deadline", "id")
    )
    owned = selectors.materials_of(request.user)
    for gap in items:
        gap.options = [m for m in owned if m.material_type == gap.material_type]
    return render(request, "applications/gaps.html", {"gaps": items, "menu": "gaps"})
