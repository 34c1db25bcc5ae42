"""What an uploaded material may be (F16, issue 8): the types with their labels, the
allowed extensions, the size limit, the per-person quota, the name a file may have, and the
check that a file's content is what its extension says and nothing more (the content
itself is read by ``rencai.profiles.filecheck``).

Programs pass their own ``types`` dict to the services later; ``MATERIAL_TYPES`` is the
default."""

import hashlib
import html
import unicodedata
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rencai.errors import ServiceError
from rencai.profiles import filecheck

MATERIAL_TYPES: dict[str, str] = {
    "id_card": gettext_lazy("身份证"),
    "diploma": gettext_lazy("毕业证书"),
    "degree": gettext_lazy("学位证书"),
    "qualification": gettext_lazy("职业资格证书"),
    "labour_contract": gettext_lazy("劳动合同"),
    "work_proof": gettext_lazy("在职证明"),
    "other": gettext_lazy("其他材料"),
}

# extension -> content type sent back when the file is served (never the browser's claim)
CONTENT_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "pdf": "application/pdf",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ALLOWED_EXTENSIONS = tuple(CONTENT_TYPES)
ACCEPT_ATTR = ",".join(f".{ext}" for ext in ALLOWED_EXTENSIONS)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# A docx/xlsx that unpacks to more than this is refused (zip bomb): the sizes its directory
# declares are added up first, and the real bytes are counted while inflating.
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_NAME_LENGTH = 100
# What one person's materials may take together (RENCAI_USER_QUOTA_BYTES; 0: no limit).
USER_QUOTA_BYTES = 200 * 1024 * 1024

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "gif": (b"GIF87a", b"GIF89a"),
    "bmp": (b"BM",),
    "pdf": (b"%PDF-",),
    "doc": (_OLE,),
    "xls": (_OLE,),
    "docx": (b"PK\x03\x04",),
    "xlsx": (b"PK\x03\x04",),
}


def max_upload_bytes() -> int:
    return int(getattr(settings, "RENCAI_MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES))


def max_unzipped_bytes() -> int:
    return int(getattr(settings, "RENCAI_MAX_UNZIPPED_BYTES", MAX_UNZIPPED_BYTES))


def user_quota_bytes() -> int:
    """0 means no limit."""
    return int(getattr(settings, "RENCAI_USER_QUOTA_BYTES", USER_QUOTA_BYTES))


def size_text(n: int) -> str:
    """20 MB rather than 20.0 MB for whole megabytes."""
    mib = 1024 * 1024
    return f"{n // mib} MB" if n >= mib and n % mib == 0 else str(filesizeformat(n))


def material_types_for(user) -> dict:
    """The default types plus every type the active programs for this user's kind ask
    for, with the programs' labels (the pack names its materials)."""
    from rencai.programs.models import Program

    kind = "person" if user.is_person else ("agency" if user.kind == "agency" else "employer")
    types = dict(MATERIAL_TYPES)
    for definition in Program.objects.filter(
        active=True, applicant_kind=kind, current_version__isnull=False
    ).values_list("current_version__definition", flat=True):
        for spec in definition.get("materials", []):
            types.setdefault(spec["type"], spec["label"])
    return types


def material_type_label(code: str, types: dict | None = None) -> str:
    return str((types or MATERIAL_TYPES).get(code, code))


def sanitize_filename(name: str) -> str:
    """The last path component, without control characters (NUL included), at most
    ``MAX_NAME_LENGTH`` characters with the extension kept."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".").strip()
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME_LENGTH - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_NAME_LENGTH]
    return name


@dataclass
class CheckedFile:
    original_name: str
    extension: str
    content_type: str
    size: int
    sha256: str


def _refuse(message: str, code: str) -> ServiceError:
    return ServiceError(message, field="file", code=code)


def upload_name(uploaded) -> str:
    """The file's name as the client sent it: ``raw_name`` where ``rencai.uploadnames``
    kept it (Django's parser has already cut paths and control characters from ``name``)."""
    return str(getattr(uploaded, "raw_name", None) or getattr(uploaded, "name", "") or "")


def _shown(raw: str) -> str:
    """A name fit to quote in a message: printable, at most 60 characters."""
    text = "".join(ch for ch in str(raw) if ch.isprintable())
    return text if len(text) <= 60 else text[:59] + "…"


_NAME_FORBIDDEN = '<>"'


def _name_problem(raw: str) -> ServiceError | None:
    """A name a browser would not send: a path, control characters (NUL, a right-to-left
    override that hides the real extension), markup, too long, or nothing but dots."""
    unescaped = html.unescape(raw)  # Django's parser unescapes "&#47;" to "/"
    shown = _shown(unescaped)
    if any(sep in text for text in (raw, unescaped) for sep in ("/", "\\")):
        return _refuse(
            _("文件名“%(name)s”带有路径（/ 或 \\），不能上传。请只用文件本身的名字重新上传。")
            % {"name": shown},
            "name_path",
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in raw + unescaped):
        return _refuse(
            _(
                "文件名“%(name)s”含有不可见的控制字符（如 NUL 或文字方向控制符），不能上传。"
                "请改名后再上传。"
            )
            % {"name": shown},
            "name_control",
        )
    if any(ch in _NAME_FORBIDDEN for ch in unescaped):
        return _refuse(
            _('文件名“%(name)s”含有不允许的字符（< > "），不能上传。请改名后再上传。')
            % {"name": shown},
            "name_chars",
        )
    stripped = unescaped.strip()
    if len(stripped) > MAX_NAME_LENGTH:
        return _refuse(
            _("文件名过长（%(n)d 个字，最多 %(max)d 个字），不能上传。请改短后再上传。")
            % {"n": len(stripped), "max": MAX_NAME_LENGTH},
            "name_too_long",
        )
    if stripped and (not stripped.strip(". ") or stripped.startswith(".")):
        return _refuse(
            _("文件名“%(name)s”无效（没有名字，只有点或扩展名），不能上传。请改名后再上传。")
            % {"name": shown},
            "name_invalid",
        )
    return None


def checked_name(uploaded) -> tuple[str, str]:
    """(the name shown and stored, its extension in lower case); refuses names no browser
    sends. The stored file's own name never comes from here (``storage_name``)."""
    raw = upload_name(uploaded)
    problem = _name_problem(raw)
    if problem is not None:
        raise problem
    name = sanitize_filename(raw) or _("未命名文件")
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return name, ext


def double_extension_refusal(name: str, ext: str, allowed) -> ServiceError | None:
    """A name like "x.pdf.exe" is told plainly that it is an .exe, not a PDF (None for
    other names)."""
    parts = name.lower().split(".")
    inner = parts[-2] if len(parts) > 2 else ""
    if not ext or ext in allowed or inner not in CONTENT_TYPES:
        return None
    return _refuse(
        _(
            "文件“%(name)s”实际是 .%(ext)s 文件（名字中的 .%(inner)s 不是它的格式），不能接收。"
            "可以接收的格式：%(allowed)s。"
        )
        % {"name": name, "ext": ext, "inner": inner, "allowed": "、".join(allowed)},
        "extension",
    )


def check_upload(uploaded) -> CheckedFile:
    """Refuse anything that is not a plainly named, allowed, non-empty file of at most the
    size limit whose content is what its extension says and nothing more
    (``filecheck.inspect``). Returns what the row stores; the file is rewound."""
    name, ext = checked_name(uploaded)
    if ext not in CONTENT_TYPES:
        raise double_extension_refusal(name, ext, ALLOWED_EXTENSIONS) or _refuse(
            _("文件“%(name)s”的格式不能上传。可以上传的格式：%(allowed)s。")
            % {"name": name, "allowed": "、".join(ALLOWED_EXTENSIONS)},
            "extension",
        )
    limit = max_upload_bytes()
    size = getattr(uploaded, "size", None)
    if size is not None and size > limit:
        raise _too_large(name, size, limit)
    uploaded.seek(0)
    data = uploaded.read(limit + 1)  # the size the client reported is not trusted either
    uploaded.seek(0)
    if not data:
        raise _refuse(_("文件“%(name)s”是空文件，请重新选择。") % {"name": name}, "empty")
    if len(data) > limit:
        raise _too_large(name, max(len(data), size or 0), limit)
    if not any(data.startswith(magic) for magic in _MAGIC[ext]):
        raise _refuse(filecheck.mismatch_message(name, ext), "mismatch")
    filecheck.inspect(
        data, name, ext, max_members=MAX_ZIP_MEMBERS, max_unzipped=max_unzipped_bytes()
    )
    return CheckedFile(
        original_name=name,
        extension=ext,
        content_type=CONTENT_TYPES[ext],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def _too_large(name: str, size: int, limit: int) -> ServiceError:
    return _refuse(
        _("文件“%(name)s”大小为 %(size)s，超过了 %(limit)s 的上限，请压缩后再上传。")
        % {"name": name, "size": size_text(size), "limit": size_text(limit)},
        "too_large",
    )


def storage_name(owner_id: int, extension: str) -> str:
    """``materials/<owner id>/<random>.<ext>``: nothing in it comes from the uploader."""
    return f"materials/{int(owner_id)}/{uuid.uuid4().hex}.{extension}"
