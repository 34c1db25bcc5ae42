"""Files for 资料下载: documents and spreadsheets only, checked by the materials checker
(F16) so a renamed executable or a disguised page is refused."""

from django.utils.translation import gettext as _

from rencai.errors import ServiceError
from rencai.profiles.materials import (
    CheckedFile,
    check_upload,
    checked_name,
    double_extension_refusal,
)

DOWNLOAD_EXTENSIONS = ("pdf", "doc", "docx", "xls", "xlsx")
DOWNLOAD_ACCEPT = ",".join(f".{ext}" for ext in DOWNLOAD_EXTENSIONS)


def check_download(uploaded) -> CheckedFile:
    """Refuse anything but a real PDF, Word or Excel file (the checker tests the content
    against the extension); returns what the row stores."""
    name, ext = checked_name(uploaded)  # a path, control characters, too long: refused
    if ext not in DOWNLOAD_EXTENSIONS:
        raise double_extension_refusal(name, ext, DOWNLOAD_EXTENSIONS) or ServiceError(
            _("文件“%(name)s”的格式不能发布。可以发布的格式：%(allowed)s。")
            % {"name": name, "allowed": "、".join(DOWNLOAD_EXTENSIONS)},
            field="file",
            code="extension",
        )
    return check_upload(uploaded)
