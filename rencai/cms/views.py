"""Public pages of the portal's content (F54). Anyone may read them; what is not
published (or dated in the future) is "not found" for everyone."""

from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from rencai.cms.access import article_for_public, download_for_public
from rencai.cms.models import Article, Download
from rencai.files import stored_file_response
from rencai.params import search_text

K = Article.Kind
PAGE_SIZE = 20

# kind -> (list URL name, detail URL name)
URL_NAMES = {
    K.POLICY_GUIDE: ("cms:policy_list", "cms:policy_detail"),
    K.ANNOUNCEMENT: ("cms:announcement_list", "cms:announcement_detail"),
    K.RECRUITMENT: ("cms:recruitment_list", "cms:recruitment_detail"),
}


def _article_list(request, kind: str):
    q = search_text(request.GET.get("q"))
    qs = Article.objects.visible().filter(kind=kind)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(summary__icontains=q))
    page = Paginator(qs.order_by("-pinned", "-published_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    ctx = {
        "kind": kind,
        "kind_label": K(kind).label,
        "detail_url": URL_NAMES[kind][1],
        "page": page,
        "q": q,
        "today": timezone.localdate(),
    }
    if kind == K.ANNOUNCEMENT:
        from rencai.applications.models import PublicNotice

        ctx["notices"] = PublicNotice.objects.order_by("closed_at", "-starts_at")[:5]
    return render(request, "cms/article_list.html", ctx)


def _article_detail(request, kind: str, pk: int):
    article = article_for_public(kind, pk)
    return render(
        request,
        "cms/article_detail.html",
        {
            "article": article,
            "kind_label": K(kind).label,
            "list_url": URL_NAMES[kind][0],
            "closed": article.is_closed(),
        },
    )


@require_safe
def policy_list(request):
    return _article_list(request, K.POLICY_GUIDE)


@require_safe
def policy_detail(request, pk):
    return _article_detail(request, K.POLICY_GUIDE, pk)


@require_safe
def announcement_list(request):
    return _article_list(request, K.ANNOUNCEMENT)


@require_safe
def announcement_detail(request, pk):
    return _article_detail(request, K.ANNOUNCEMENT, pk)


@require_safe
def recruitment_list(request):
    return _article_list(request, K.RECRUITMENT)


@require_safe
def recruitment_detail(request, pk):
    return _article_detail(request, K.RECRUITMENT, pk)


@require_safe
def download_list(request):
    page = Paginator(Download.objects.visible(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cms/download_list.html", {"page": page, "q": ""})


@require_safe
def download_file(request, pk):
    """The file as an attachment under its original name (RFC 5987 for Chinese names),
    with the content type stored when it was checked."""
    item = download_for_public(pk)
    return stored_file_response(
        item.file.name,
        content_type=item.content_type,
        filename=item.original_name,
        as_attachment=True,
        cache="public, max-age=300",
    )
