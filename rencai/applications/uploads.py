"""Files uploaded from the application form (F60): each material type of a program may
limit its formats (``formats: [pdf]``) and carry a blank form to download (``template``).
An uploaded file is checked like any material (``check_upload``: allowed extension,
size limit, content) and against the type's formats; ``transitions.draft_save`` stores
the files in the applicant's library only when every file and every field is good."""

import contextlib

from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from rencai.errors import ServiceError
from rencai.profiles.materials import (
    ALLOWED_EXTENSIONS,
    CONTENT_TYPES,
    CheckedFile,
    check_upload,
    checked_name,
    max_upload_bytes,
    size_text,
)

# At most this many new files for one material type in one save: a form or a script
# posting dozens of files gets a clear refusal instead of a library full of copies.
MAX_FILES_PER_TYPE = 10


def upload_field(material_type: str) -> str:
    """The form field (and ServiceError field) of a material type's upload."""
    return f"upload_{material_type}"


def allowed_formats(spec: dict) -> tuple[str, ...]:
    return tuple(spec.get("formats") or ALLOWED_EXTENSIONS)


def formats_text(spec: dict) -> str:
    return "、".join(allowed_formats(spec))


def accept_attr(spec: dict) -> str:
    return ",".join(f".{ext}" for ext in allowed_formats(spec))


def upload_hint(spec: dict) -> str:
    """E.g. 上传pdf格式文件，大小控制在20 MB以内。"""
    return _("上传%(formats)s格式文件，大小控制在%(limit)s以内。") % {
        "formats": formats_text(spec),
        "limit": size_text(max_upload_bytes()),
    }


def format_allowed(spec: dict, extension: str) -> bool:
    return extension.lower() in allowed_formats(spec)


def check_file_count(spec: dict, files: list) -> None:
    """Refuse more than ``MAX_FILES_PER_TYPE`` files for one material type, or anything
    posted in an upload field that is not a file (plain text from a crafted request)."""
    if any(not hasattr(f, "chunks") for f in files):
        raise ServiceError(
            _("“%(label)s”收到的不是文件，请通过“上传新文件”选择要上传的文件。")
            % {"label": spec["label"]},
            field=upload_field(spec["type"]),
            code="invalid",
        )
    if len(files) > MAX_FILES_PER_TYPE:
        raise ServiceError(
            _("“%(label)s”一次最多上传%(max)s个文件，本次选择了%(n)s个，未保存。")
            % {"label": spec["label"], "max": MAX_FILES_PER_TYPE, "n": len(files)},
            field=upload_field(spec["type"]),
            code="too_many",
        )


def check_material_file(spec: dict, uploaded) -> CheckedFile:
    """The file's name, then the type's formats (the clearest message), then the checks
    every material passes. A refusal is a ServiceError on the type's upload field."""
    try:
        name, ext = checked_name(uploaded)
        if spec.get("formats") and not format_allowed(spec, ext):
            raise ServiceError(
                _("“%(label)s”只能上传%(formats)s格式的文件，“%(name)s”不符合要求，未保存。")
                % {"label": spec["label"], "formats": formats_text(spec), "name": name},
                code="format",
            )
        return check_upload(uploaded)
    except ServiceError as exc:
        raise ServiceError(exc.message, field=upload_field(spec["type"]), code=exc.code) from None


def check_uploads(definition: dict, uploads: dict[str, list] | None) -> dict[str, list]:
    """Every file of ``uploads`` (material type -> files) checked before anything is
    stored; types the program does not ask for are refused. Returns the non-empty ones."""
    specs = {spec["type"]: spec for spec in definition["materials"]}
    out = {}
    for material_type, files in (uploads or {}).items():
        files = [f for f in files or [] if f is not None]
        if not files:
            continue
        spec = specs.get(material_type)
        if spec is None:
            raise ServiceError(_("本项目不需要这类材料。"), code="invalid")
        check_file_count(spec, files)
        for uploaded in files:
            check_material_file(spec, uploaded)
        out[material_type] = files
    return out


@contextlib.contextmanager
def removed_on_failure():
    """Collect the storage names of files stored inside the block; if the block fails
    (and with it the transaction), delete them so no file outlives its rolled-back row."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise


def template_content_type(template: dict) -> str:
    ext = template["file"].rsplit(".", 1)[-1].lower()
    return CONTENT_TYPES.get(ext, "application/octet-stream")
