"""人才中心 (F46, F48, F49): my category, the classification and change buttons, and the
services my category opens (greyed out with the reason otherwise)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from rencai.applications.models import Application
from rencai.talent import selectors
from rencai.talent.models import TalentCategory
from rencai.talent.services import current_category


@login_required
def centre(request):
    if not request.user.is_person:
        raise Http404
    program = selectors.classification_program()
    pending = None
    if program is not None:
        pending = (
            Application.objects.filter(
                applicant=request.user, program=program, deleted_at__isnull=True
            )
            .order_by("-id")
            .first()
        )
        if pending is not None and pending.is_settled:
            pending = None
    open_apps = (
        Application.objects.filter(
            applicant=request.user,
            program__pack__talent__isnull=False,
            deleted_at__isnull=True,
        )
        .exclude(state="draft")
        .select_related("program")
        .order_by("-id")[:20]
    )
    category = current_category(request.user)
    history = TalentCategory.objects.filter(person=request.user).order_by("-id")
    return render(
        request,
        "talent/centre.html",
        {
            "category": category,
            # earlier, changed, cancelled or expired categories
            "history": history.exclude(pk=category.pk) if category else history,
            "program": program,
            "pending": pending,
            "tiles": selectors.service_tiles(request.user),
            "apps": open_apps,
            "menu": "talent",
        },
    )
