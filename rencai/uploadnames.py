"""Each uploaded file keeps the name the client sent (issue 8).

Django's multipart parser cleans a file's name before any view sees it: it keeps the last
path component, drops characters that are not printable (NUL included) and skips a part
named "." or "..". A browser sends only the bare name of the file the person picked, so a
name with a path, a control character or nothing but dots comes from a crafted request.
The upload checks (``rencai.profiles.materials.checked_name``) refuse such a name with a
message, rather than store the file under a name Django changed without a word. This
middleware puts the name as sent on each uploaded file as ``raw_name``; Django's cleaned
``name`` is unchanged. It must come before CsrfViewMiddleware, which reads the form."""

import types

from django.http.multipartparser import MultiPartParser
from django.utils.datastructures import ImmutableList
from django.utils.encoding import force_str

# The name Django gets for a part whose own name it would drop (".", "..", "/"), so that
# the part reaches the checks, which refuse it by its ``raw_name``.
PLACEHOLDER = "unnamed"


class RawNameMultiPartParser(MultiPartParser):
    _raw_name = None

    def sanitize_file_name(self, file_name):
        # Called for every file part with a non-empty name, just before its handlers.
        self._raw_name = file_name
        return super().sanitize_file_name(file_name) or PLACEHOLDER

    def handle_file_complete(self, old_field_name, counters):
        super().handle_file_complete(old_field_name, counters)
        field = force_str(old_field_name, self._encoding, errors="replace")
        files = self._files.getlist(field)
        if files and self._raw_name is not None:
            files[-1].raw_name = self._raw_name
        self._raw_name = None


class RawUploadNameMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
            request.parse_file_upload = types.MethodType(_parse, request)
        return self.get_response(request)


def _parse(request, META, post_data):
    """``HttpRequest.parse_file_upload`` with the parser above."""
    request.upload_handlers = ImmutableList(
        request.upload_handlers,
        warning="You cannot alter upload handlers after the upload has been processed.",
    )
    return RawNameMultiPartParser(
        META, post_data, request.upload_handlers, request.encoding
    ).parse()
