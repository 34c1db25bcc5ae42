"""Serving a stored file (materials, downloads, housing pictures): read through the
default storage, a missing file is a 404, the content type is the one checked at upload
(never the browser's claim) and browsers are told not to sniff."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404


def stored_file_response(
    name: str,
    *,
    content_type: str,
    filename: str | None = None,
    as_attachment: bool = False,
    cache: str = "private, no-store",
) -> FileResponse:
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, content_type=content_type, as_attachment=as_attachment, filename=filename or ""
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = cache
    return response
