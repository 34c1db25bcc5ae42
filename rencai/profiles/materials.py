"""What an uploaded material may be (F16): the types with their labels, the allowed
extensions, the size limit, and the check that a file's content matches its extension.

Programs pass their own ``types`` dict to the services later; ``MATERIAL_TYPES`` is the
default."""

import hashlib
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rencai.errors import ServiceError

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
# A docx/xlsx whose members declare more than this when unpacked is refused (zip bomb).
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_NAME_LENGTH = 100

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
_OOXML_PART = {"docx": "word/", "xlsx": "xl/"}


def max_upload_bytes() -> int:
    return int(getattr(settings, "RENCAI_MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES))


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


def _check_ooxml(uploaded, ext: str, name: str) -> None:
    uploaded.seek(0)
    try:
        with zipfile.ZipFile(uploaded) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise _refuse(
                    _("文件“%(name)s”包含的内容过多，无法接收。") % {"name": name}, "zip_bomb"
                )
            if sum(info.file_size for info in infos) > MAX_UNZIPPED_BYTES:
                raise _refuse(
                    _("文件“%(name)s”解压后超过 200 MB，无法接收。请另存为普通文档后再上传。")
                    % {"name": name},
                    "zip_bomb",
                )
            names = [info.filename for info in infos]
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        raise _refuse(_mismatch(name, ext), "mismatch") from None
    if "[Content_Types].xml" not in names or not any(n.startswith(_OOXML_PART[ext]) for n in names):
        raise _refuse(_mismatch(name, ext), "mismatch")


def _mismatch(name: str, ext: str) -> str:
    return _(
        "文件“%(name)s”的内容与扩展名 .%(ext)s 不符（文件可能已损坏，或是改了扩展名的其他文件），"
        "请上传真实的 %(ext)s 文件。"
    ) % {"name": name, "ext": ext}


def check_upload(uploaded) -> CheckedFile:
    """Refuse anything that is not an allowed, non-empty file of at most the size limit whose
    content matches its extension. Returns what the row stores; the file is rewound."""
    raw_name = getattr(uploaded, "name", "") or ""
    name = sanitize_filename(raw_name) or _("未命名文件")
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = "、".join(ALLOWED_EXTENSIONS)
    if ext not in CONTENT_TYPES:
        raise _refuse(
            _("文件“%(name)s”的格式不能上传。可以上传的格式：%(allowed)s。")
            % {"name": name, "allowed": allowed},
            "extension",
        )
    size = uploaded.size
    if not size:
        raise _refuse(_("文件“%(name)s”是空文件，请重新选择。") % {"name": name}, "empty")
    limit = max_upload_bytes()
    if size > limit:
        raise _refuse(
            _("文件“%(name)s”大小为 %(size)s，超过了 %(limit)s 的上限，请压缩后再上传。")
            % {"name": name, "size": size_text(size), "limit": size_text(limit)},
            "too_large",
        )
    uploaded.seek(0)
    head = uploaded.read(16)
    if not any(head.startswith(magic) for magic in _MAGIC[ext]):
        raise _refuse(_mismatch(name, ext), "mismatch")
    if ext in _OOXML_PART:
        _check_ooxml(uploaded, ext, name)
    digest = hashlib.sha256()
    uploaded.seek(0)
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return CheckedFile(
        original_name=name,
        extension=ext,
        content_type=CONTENT_TYPES[ext],
        size=size,
        sha256=digest.hexdigest(),
    )


def storage_name(owner_id: int, extension: str) -> str:
    """``materials/<owner id>/<random>.<ext>``: nothing in it comes from the uploader."""
    return f"materials/{int(owner_id)}/{uuid.uuid4().hex}.{extension}"
