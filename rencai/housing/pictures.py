"""What a housing picture may be: a JPEG, PNG or GIF whose content is that picture. The
size limit, the name check and the content checks are the materials' own
(``rencai.profiles.materials.check_upload``); on top of it the picture must decode."""

from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from rencai.errors import ServiceError
from rencai.profiles.materials import (
    CheckedFile,
    check_upload,
    checked_name,
    double_extension_refusal,
)

PICTURE_EXTENSIONS = ("jpg", "jpeg", "png", "gif")
ACCEPT_ATTR = ",".join(f".{ext}" for ext in PICTURE_EXTENSIONS)
_PIL_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "gif": "GIF"}


def check_picture(uploaded) -> CheckedFile:
    """Refuse anything but an allowed picture that decodes as what its extension says.
    Raises ServiceError (field ``file``); the file is rewound."""
    name, ext = checked_name(uploaded)  # a path, control characters, too long: refused
    if ext not in PICTURE_EXTENSIONS:
        raise double_extension_refusal(name, ext, PICTURE_EXTENSIONS) or ServiceError(
            _("文件“%(name)s”不是可以上传的图片。可以上传的格式：%(allowed)s。")
            % {"name": name, "allowed": "、".join(PICTURE_EXTENSIONS)},
            field="file",
            code="extension",
        )
    checked = check_upload(uploaded)
    uploaded.seek(0)
    try:
        with Image.open(uploaded) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        image_format = None
    uploaded.seek(0)
    if image_format != _PIL_FORMATS[ext]:
        raise ServiceError(
            _("文件“%(name)s”不是有效的 %(ext)s 图片（文件可能已损坏，或是改了扩展名的其他文件）。")
            % {"name": name, "ext": ext},
            field="file",
            code="mismatch",
        )
    return checked
