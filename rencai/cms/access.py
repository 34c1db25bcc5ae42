"""Who may read the portal's content: anyone, but only what is published and not dated
in the future; anything else is the same 404 for everyone, staff included (no preview)."""

from django.shortcuts import get_object_or_404

from rencai.cms.models import Article, Download


def article_for_public(kind: str, pk: int) -> Article:
    """A visible article of this kind, else 404."""
    return get_object_or_404(Article.objects.visible().filter(kind=kind), pk=pk)


def download_for_public(pk: int) -> Download:
    """A visible file of 资料下载, else 404."""
    return get_object_or_404(Download.objects.visible(), pk=pk)
