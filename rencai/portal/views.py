from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from rencai.city import city_setting
from rencai.orgs.models import Employer


def home(request):
    from rencai.talent.selectors import service_tiles

    ctx = {
        "tiles": service_tiles(request.user),
        "employer_count": Employer.objects.filter(status="approved")
        .exclude(kind="virtual")
        .count(),
        "lockout_failures": city_setting("lockout_failures"),
    }
    return render(request, "portal/home.html", ctx)


def notices(request):
    """Public notices (公示, F41): open ones first, then the recent closed ones."""
    from django.core.paginator import Paginator

    from rencai.applications.models import PublicNotice

    qs = PublicNotice.objects.select_related("authority").order_by("closed_at", "-starts_at")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "portal/notices.html", {"page": page})


def notice(request, pk):
    """One notice: the list (names and ID numbers masked) and the objection form."""
    from django.core.paginator import Paginator
    from django.shortcuts import get_object_or_404

    from rencai.applications.models import NoticeEntry, PublicNotice
    from rencai.applications.transitions import objection_file
    from rencai.errors import ServiceError
    from rencai.portal.forms import ObjectionForm

    item = get_object_or_404(PublicNotice.objects.select_related("authority"), pk=pk)
    is_open = item.is_open
    entries = item.entries.exclude(status=NoticeEntry.Status.PULLED).order_by("id")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    form = None
    if is_open:
        entry = request.GET.get("entry", "")
        form = ObjectionForm(
            request.POST or None,
            entries=entries,
            shown=page.object_list,
            initial={"entry": entry} if entry.isdigit() else {},
        )
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            objection_file(
                entry_id=int(form.cleaned_data["entry"]),
                name=form.cleaned_data["name"],
                contact=form.cleaned_data["contact"],
                content=form.cleaned_data["content"],
                request=request,
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("异议已提交，公示单位将核实处理。感谢您的监督。"))
            return redirect("portal:notice", pk=pk)
    return render(
        request,
        "portal/notice.html",
        {"notice": item, "page": page, "form": form, "is_open": is_open},
    )


def policy_match(request):
    """政策匹配 (F50): pick your conditions, see the programmes you qualify for."""
    from rencai.portal.forms import MatchForm
    from rencai.programs.matching import Conditions, match_programs

    form = MatchForm(request.GET or None)
    matches = None
    if request.GET and form.is_valid():
        matches = match_programs(
            Conditions(
                education=form.cleaned_data["education"],
                qualification=form.cleaned_data["qualification"],
                employed=form.cleaned_data["employed"],
                talent_level=form.cleaned_data.get("talent_level") or "",
                first_contract=form.cleaned_data.get("first_contract"),
            )
        )
    return render(request, "portal/match.html", {"form": form, "matches": matches})
