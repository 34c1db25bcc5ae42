"""What is inside an uploaded file (issue 8). ``check_upload`` (materials.py) has agreed the
name, the extension, the size and the first bytes; ``inspect`` reads the content:

- pictures must decode (Pillow) and stay under a pixel limit;
- a PDF must be complete (``%%EOF``) and carry no active content (JavaScript, launch
  actions, embedded files, rich media), looked for in the file and in its compressed object
  streams (inflated with a hard cap), ``#xx`` escapes in names decoded;
- Word/Excel 97–2003 (OLE) files must hold the stream their extension names, and no macros;
- docx/xlsx are inflated member by member, streaming, under a hard cap on the total; a
  member that inflates past the size the central directory declares is refused while it is
  read, so a directory that lies cannot make us inflate more than it admits. Macros,
  programs, unsafe member paths and external templates or objects are refused;
- a picture or a PDF must not also be a zip archive (GIFAR-style polyglots) nor carry HTML
  or script.

Every refusal is a ServiceError on the field ``file`` with a message naming the problem."""

import html
import io
import re
import struct
import zipfile
import zlib

from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from rencai.errors import ServiceError

IMAGE_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "gif": "GIF", "bmp": "BMP"}
MAX_IMAGE_PIXELS = 89_478_485  # Pillow's own decompression-bomb threshold (~ 9459 × 9459)
MAX_PDF_INFLATED_BYTES = 64 * 1024 * 1024  # object streams of one PDF, inflated together
MAX_RELS_BYTES = 4 * 1024 * 1024  # one .rels or [Content_Types].xml part, inflated
_CHUNK = 64 * 1024

# --------------------------------------------------------------------------- helpers


def refuse(message: str, code: str) -> ServiceError:
    return ServiceError(message, field="file", code=code)


def _damaged(name: str) -> ServiceError:
    return refuse(
        _("文件“%(name)s”不完整或已损坏，无法打开。请重新保存（或重新扫描）后再上传。")
        % {"name": name},
        "damaged",
    )


# Markup a picture or a PDF never carries. Each pattern is long or constrained enough that
# it does not turn up by chance in compressed data (well under one in 10⁵ files of 20 MB).
_MARKUP = re.compile(
    rb"<script[\s>/]|<iframe[\s>/]|<object[\s>/]|<embed[\s>/]|<html[\s>]|<body[\s>]"
    rb"|<!doctype\s+html|<svg\s[^>]{0,512}?(?:xmlns|\son[a-z]+\s*=)|<\?php\s"
    rb"|javascript:|\bonload\s*=|\bonerror\s*="
)
# Where a match can start: found with bytes.find (fast on megabytes), then the pattern is
# tried on a small window only.
_MARKUP_HINTS = (
    b"<script", b"<iframe", b"<object", b"<embed", b"<html", b"<body", b"<!doctype", b"<svg",
    b"<?php", b"javascript:", b"onload", b"onerror",
)  # fmt: skip


def _no_markup(data: bytes, name: str) -> None:
    lowered = data.lower()
    for hint in _MARKUP_HINTS:
        pos = lowered.find(hint)
        while pos >= 0:
            found = _MARKUP.search(lowered[max(0, pos - 1) : pos + 600])
            if found:
                raise refuse(
                    _(
                        "文件“%(name)s”中夹带了网页或脚本代码（%(what)s），出于安全原因不能上传。"
                        "请重新导出（或重新扫描）后再上传。"
                    )
                    % {"name": name, "what": _shown_bytes(found.group(0))},
                    "script",
                )
            pos = lowered.find(hint, pos + 1)


def _shown_bytes(raw: bytes) -> str:
    text = raw.decode("latin-1").strip()
    return "".join(ch if ch.isprintable() else " " for ch in text)[:20]


def _no_zip_inside(data: bytes, name: str) -> None:
    """A picture or a PDF that a zip reader also opens (an archive appended, the classic
    GIFAR): refused, whatever the archive holds."""
    stream = io.BytesIO(data)
    if not zipfile.is_zipfile(stream):
        return
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, OSError):
        return  # an end-of-archive signature by chance, not an archive
    if members:
        raise refuse(
            _(
                "文件“%(name)s”的末尾附带了一个压缩包（可能是伪装的程序），出于安全原因不能上传。"
                "请重新导出（或重新扫描）后再上传。"
            )
            % {"name": name},
            "polyglot",
        )


# --------------------------------------------------------------------------- pictures


def _check_image(data: bytes, name: str, ext: str) -> None:
    if ext == "gif" and data[6:8] == b"/*":  # GIF89a/*…*/=alert(1): a GIF that is also script
        raise refuse(
            _("文件“%(name)s”同时是一段脚本（GIF/JavaScript 混合文件），出于安全原因不能上传。")
            % {"name": name},
            "polyglot",
        )
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header; verify() checks chunks
            image_format, (width, height) = image.format, image.size
            image.verify()
    except Image.DecompressionBombError:
        raise _too_many_pixels(name) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, struct.error):
        raise _damaged(name) from None
    if image_format != IMAGE_FORMATS[ext]:
        raise _damaged(name)
    if width * height > MAX_IMAGE_PIXELS:
        raise _too_many_pixels(name)


def _too_many_pixels(name: str) -> ServiceError:
    return refuse(
        _("图片“%(name)s”的尺寸过大（超过 8900 万像素），请缩小后再上传。") % {"name": name},
        "too_many_pixels",
    )


# --------------------------------------------------------------------------- PDF

# Names of active content: scripts, launching programs, files inside the PDF, Flash/media.
_PDF_ACTIVE = {
    b"JavaScript": "/JavaScript",
    b"JS": "/JS",
    b"Launch": "/Launch",
    b"EmbeddedFile": "/EmbeddedFile",
    b"EmbeddedFiles": "/EmbeddedFiles",
    b"RichMedia": "/RichMedia",
    b"GoToE": "/GoToE",
}


def _spelt_any_way(name: bytes) -> bytes:
    """A pattern for a PDF name any character of which may be written as #xx."""
    parts = []
    for ch in name:
        digits = b"".join(
            b"[%s%s]" % (bytes([d]).lower(), bytes([d]).upper()) for d in b"%02x" % ch
        )
        parts.append(b"(?:%s|#%s)" % (re.escape(bytes([ch])), digits))
    return b"".join(parts)


# In stream bodies (binary data) only the long names are looked for, and with one regex:
# "/JS" turns up by chance in megabytes of image data, "/JavaScript" does not.
_PDF_ACTIVE_LONG = re.compile(
    b"/(" + b"|".join(_spelt_any_way(n) for n in _PDF_ACTIVE if len(n) >= 6) + b")"
    rb"(?=[\s\x00/<>\[\]()%{}]|$)"
)
_PDF_NAME = re.compile(rb"/([^\s\x00/<>\[\]()%{}]+)")
_PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream(?:\r\n|\n|\r)")


def _unhex(match) -> bytes:
    return bytes([int(match.group(1), 16)])


def _pdf_names(segment: bytes):
    for match in _PDF_NAME.finditer(segment):
        yield _PDF_HEX.sub(_unhex, match.group(1))


def _pdf_active(segment: bytes, names: dict) -> str | None:
    for pdf_name in _pdf_names(segment):
        if pdf_name in names:
            return names[pdf_name]
    return None


_PDF_OBJ = re.compile(rb"\d+\s+\d+\s+obj\b")
_PDF_FILTERS = {
    b"ASCIIHexDecode", b"ASCII85Decode", b"LZWDecode", b"RunLengthDecode", b"CCITTFaxDecode",
    b"JBIG2Decode", b"DCTDecode", b"JPXDecode", b"Crypt", b"DecodeParms",
}  # fmt: skip


def _pdf_segments(data: bytes, name: str):
    """The file cut at its streams: ("text", bytes, b"") for what lies between streams and
    ("stream", dictionary, body) for each stream."""
    pos = 0
    while True:
        start = _PDF_STREAM.search(data, pos)
        # "endstream" also contains "stream"; the keyword itself follows a dictionary's ">>".
        while start and not data[max(0, start.start() - 64) : start.start()].rstrip().endswith(
            b">>"
        ):
            start = _PDF_STREAM.search(data, start.end())
        if start is None:
            yield "text", data[pos:], b""
            return
        end = data.find(b"endstream", start.end())
        if end < 0:
            raise _damaged(name)
        head = data[pos : start.start()]
        yield "text", head, b""
        tail = head[-8192:]
        objects = list(_PDF_OBJ.finditer(tail))
        dictionary = tail[objects[-1].start() :] if objects else tail
        yield "stream", dictionary, data[start.end() : end]
        pos = end + len(b"endstream")


def _inflate_capped(body: bytes, budget: int) -> bytes | None:
    """The zlib stream inflated chunk by chunk, as far as it goes (a reader shows what a
    damaged stream yields, so the check reads it too); None past ``budget`` bytes."""
    inflater = zlib.decompressobj()
    out = bytearray()
    pending, pos = b"", 0
    try:
        while not inflater.eof:
            if not pending and pos < len(body):
                pending, pos = body[pos : pos + _CHUNK], pos + _CHUNK
            chunk = inflater.decompress(pending, _CHUNK)
            progressed = bool(chunk) or len(inflater.unconsumed_tail) < len(pending)
            pending = inflater.unconsumed_tail
            out.extend(chunk)
            if len(out) > budget:
                return None
            if not progressed:
                break
    except zlib.error:
        pass
    return bytes(out)


def _check_pdf(data: bytes, name: str) -> None:
    if b"%%EOF" not in data[-1024:] or not _PDF_OBJ.search(data):
        raise _damaged(name)
    encrypted = packed = False
    budget = MAX_PDF_INFLATED_BYTES
    for kind, text, body in _pdf_segments(data, name):
        names = list(_pdf_names(text))
        found = next((_PDF_ACTIVE[n] for n in names if n in _PDF_ACTIVE), None)
        encrypted = encrypted or b"Encrypt" in names
        if kind == "stream" and not found:
            hidden = _PDF_ACTIVE_LONG.search(body)
            found = _PDF_ACTIVE[_PDF_HEX.sub(_unhex, hidden.group(1))] if hidden else None
            if not found and b"ObjStm" in names:
                # Objects packed in a compressed object stream: read them too.
                packed = True
                if encrypted or _PDF_FILTERS.intersection(names) or b"FlateDecode" not in names:
                    raise _pdf_unreadable(name)
                inflated = _inflate_capped(body, budget)
                if inflated is None:
                    raise refuse(
                        _("文件“%(name)s”内部的压缩内容过大，无法检查，不能上传。")
                        % {"name": name},
                        "zip_bomb",
                    )
                budget -= len(inflated)
                found = _pdf_active(inflated, _PDF_ACTIVE)
                if not found:
                    _no_markup(inflated, name)
        if found:
            raise refuse(
                _(
                    "文件“%(name)s”含有会自动运行的脚本、程序或附件（%(what)s），出于安全原因不能"
                    "上传。请用“打印为 PDF”另存一份（或重新扫描）后再上传。"
                )
                % {"name": name, "what": found},
                "active_content",
            )
    if encrypted and packed:  # the trailer naming /Encrypt came after an object stream
        raise _pdf_unreadable(name)


def _pdf_unreadable(name: str) -> ServiceError:
    return refuse(
        _(
            "文件“%(name)s”的内部对象经过加密或特殊编码，无法检查其内容。"
            "请去除密码保护（或用“打印为 PDF”另存一份）后再上传。"
        )
        % {"name": name},
        "unreadable",
    )


# --------------------------------------------------------------------------- Word/Excel 97–2003


def _ole_entry(data: bytes, entry: str) -> bool:
    """Whether the compound file's directory holds an entry of this name: the UTF-16 name,
    zero-padded to 64 bytes, then its length, on a 128-byte directory-entry boundary."""
    encoded = entry.encode("utf-16-le")
    pattern = encoded + bytes(64 - len(encoded)) + struct.pack("<H", len(encoded) + 2)
    pos = data.find(pattern)
    while pos >= 0:
        if pos % 128 == 0:
            return True
        pos = data.find(pattern, pos + 1)
    return False


def _check_ole(data: bytes, name: str, ext: str) -> None:
    if len(data) < 1536:
        raise _damaged(name)
    major, byte_order, shift = struct.unpack_from("<HHH", data, 26)
    if byte_order != 0xFFFE or (major, shift) not in {(3, 9), (4, 12)}:
        raise _damaged(name)
    wanted = ("WordDocument",) if ext == "doc" else ("Workbook", "Book")
    if not any(_ole_entry(data, entry) for entry in wanted):
        raise refuse(mismatch_message(name, ext), "mismatch")
    if any(_ole_entry(data, entry) for entry in ("_VBA_PROJECT", "_VBA_PROJECT_CUR", "Macros")):
        raise _macros(name, ext)


def _macros(name: str, ext: str) -> ServiceError:
    plain = "docx" if ext.startswith("doc") else "xlsx"
    return refuse(
        _(
            "文件“%(name)s”含有宏（VBA 代码），出于安全原因不能上传。"
            "请另存为不含宏的 .%(plain)s 文件后再上传。"
        )
        % {"name": name, "plain": plain},
        "macro",
    )


def mismatch_message(name: str, ext: str) -> str:
    return _(
        "文件“%(name)s”的内容与扩展名 .%(ext)s 不符（文件可能已损坏，或是改了扩展名的其他文件），"
        "请上传真实的 %(ext)s 文件。"
    ) % {"name": name, "ext": ext}


# --------------------------------------------------------------------------- docx / xlsx

_OOXML_PART = {"docx": "word/", "xlsx": "xl/"}
_PROGRAM_SUFFIXES = (
    ".exe", ".dll", ".scr", ".com", ".bat", ".cmd", ".msi", ".cpl", ".hta", ".lnk", ".ps1",
    ".vbs", ".vbe", ".js", ".jse", ".wsf", ".sh", ".jar", ".class", ".apk",
)  # fmt: skip
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
# Relationship types that make Office fetch and run something from elsewhere when the
# document opens (remote templates, CVE-2017-0199 and "Follina" OLE objects, frames).
_EXTERNAL_DANGEROUS = {"attachedtemplate", "oleobject", "subdocument", "frame"}


def _member_path_problem(member: str) -> bool:
    parts = member.replace("\\", "/").split("/")
    return (
        member.startswith(("/", "\\"))
        or "\\" in member
        or ".." in parts
        or bool(re.match(r"^[A-Za-z]:", member))
        or any(ord(ch) < 32 for ch in member)
    )


class _Budget:
    def __init__(self, limit: int):
        self.limit, self.used = limit, 0


def _inflate_member(data: bytes, info: zipfile.ZipInfo, budget: _Budget, keep: bool, name: str):
    """Inflate one member from its own bytes, never past the size it declares nor past the
    budget left; check its CRC. Returns the content when ``keep``, else None."""
    offset = info.header_offset
    header = data[offset : offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size:
        raise _damaged(name)
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != b"PK\x03\x04":
        raise _damaged(name)
    name_len, extra_len = fields[10], fields[11]
    start = offset + _LOCAL_HEADER.size
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if data[start : start + name_len] != info.orig_filename.encode(encoding, "replace"):
        raise _damaged(name)  # the local name differs from the directory's: zip confusion
    start += name_len + extra_len
    compressed = data[start : start + info.compress_size]
    if len(compressed) != info.compress_size:
        raise _damaged(name)
    kept = bytearray() if keep else None
    produced, crc = 0, 0

    def take(chunk: bytes) -> None:
        nonlocal produced, crc
        produced += len(chunk)
        budget.used += len(chunk)
        if produced > info.file_size:
            raise _lying_sizes(name)
        if budget.used > budget.limit:
            raise _too_big_unpacked(name, budget.limit)
        crc = zlib.crc32(chunk, crc)
        if kept is not None:
            if len(kept) + len(chunk) > MAX_RELS_BYTES:
                raise _damaged(name)
            kept.extend(chunk)

    if info.compress_type == zipfile.ZIP_STORED:
        for pos in range(0, len(compressed), _CHUNK):
            take(compressed[pos : pos + _CHUNK])
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-15)
        pending, pos = b"", 0
        try:
            while not inflater.eof:
                if not pending and pos < len(compressed):
                    pending, pos = compressed[pos : pos + _CHUNK], pos + _CHUNK
                chunk = inflater.decompress(pending, _CHUNK)
                progressed = bool(chunk) or len(inflater.unconsumed_tail) < len(pending)
                pending = inflater.unconsumed_tail
                take(chunk)
                if not progressed:
                    break
        except zlib.error:
            raise _damaged(name) from None
        if not inflater.eof:
            raise _damaged(name)
    else:
        raise refuse(
            _("文件“%(name)s”使用了不支持的压缩方式，请用 Office 或 WPS 重新保存后再上传。")
            % {"name": name},
            "damaged",
        )
    if produced != info.file_size:
        raise _lying_sizes(name)
    if crc != info.CRC:
        raise _damaged(name)
    return bytes(kept) if kept is not None else None


def _lying_sizes(name: str) -> ServiceError:
    return refuse(
        _("文件“%(name)s”中压缩内容的实际大小与其声明的不符（可能是“压缩炸弹”），无法接收。")
        % {"name": name},
        "zip_bomb",
    )


def _too_big_unpacked(name: str, limit: int) -> ServiceError:
    from rencai.profiles.materials import size_text

    return refuse(
        _("文件“%(name)s”解压后超过 %(limit)s，无法接收。请另存为普通文档后再上传。")
        % {"name": name, "limit": size_text(limit)},
        "zip_bomb",
    )


def _check_ooxml(data: bytes, name: str, ext: str, *, max_members: int, max_unzipped: int):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, OSError):
        raise refuse(mismatch_message(name, ext), "mismatch") from None
    if len(infos) > max_members:
        raise refuse(_("文件“%(name)s”包含的内容过多，无法接收。") % {"name": name}, "zip_bomb")
    if sum(info.file_size for info in infos) > max_unzipped:
        raise _too_big_unpacked(name, max_unzipped)
    members = [info.filename for info in infos]
    if "[Content_Types].xml" not in members or not any(
        m.startswith(_OOXML_PART[ext]) for m in members
    ):
        raise refuse(mismatch_message(name, ext), "mismatch")
    for member in (info.orig_filename for info in infos):
        if _member_path_problem(member):
            raise refuse(
                _("文件“%(name)s”内部含有不安全的路径（“%(member)s”），出于安全原因不能上传。")
                % {"name": name, "member": _shown_text(member)},
                "zip_path",
            )
    if len(set(members)) != len(members):
        raise _damaged(name)
    for member in members:
        lower = member.lower()
        if lower.endswith("vbaproject.bin") or lower.endswith("vbadata.xml"):
            raise _macros(name, ext)
        if lower.endswith(_PROGRAM_SUFFIXES):
            raise refuse(
                _("文件“%(name)s”内部夹带了程序文件（“%(member)s”），出于安全原因不能上传。")
                % {"name": name, "member": _shown_text(member)},
                "zip_program",
            )
    budget = _Budget(max_unzipped)
    for info in infos:
        if info.flag_bits & 0x1:
            raise _damaged(name)  # an encrypted member: Office never writes one
        keep = info.filename == "[Content_Types].xml" or info.filename.endswith(".rels")
        content = _inflate_member(data, info, budget, keep, name)
        if content is None:
            continue
        if info.filename == "[Content_Types].xml":
            lowered = content.lower()
            if b"macroenabled" in lowered or b"vbaproject" in lowered:
                raise _macros(name, ext)
        else:
            _no_external_objects(content, name)


def _attributes(tag: bytes) -> dict[str, str]:
    """A tag's attributes, names without prefix in lower case, values with XML character
    references resolved (``&#104;ttp`` is ``http``)."""
    return {
        m.group(1).split(b":")[-1].lower().decode("ascii", "replace"): html.unescape(
            (m.group(2) if m.group(2) is not None else m.group(3)).decode("utf-8", "replace")
        )
        for m in _ATTRIBUTE.finditer(tag)
    }


def _remote(target: str) -> bool:
    """Whether a target is fetched from elsewhere: a URL (http:, mhtml:, …) or a network
    share (\\\\host\\…, file://host/…), not a file on the same computer (file:///C:/…)."""
    target = target.strip().lower().replace("\\", "/")
    if target.startswith("file:"):
        return not (target.startswith("file:///") and not target.startswith("file:////"))
    if target.startswith("//"):
        return True
    return bool(re.match(r"[a-z][a-z0-9+.-]+:", target)) and not re.match(r"[a-z]:/", target)


def _no_external_objects(rels: bytes, name: str) -> None:
    for match in _RELATIONSHIP.finditer(rels):
        attributes = _attributes(match.group(1))
        kind = attributes.get("type", "").rsplit("/", 1)[-1].lower()
        if (
            attributes.get("targetmode", "").lower() == "external"
            and kind in _EXTERNAL_DANGEROUS
            and _remote(attributes.get("target", ""))
        ):
            raise refuse(
                _(
                    "文件“%(name)s”打开时会从外部网址加载模板或对象，出于安全原因不能上传。"
                    "请另存为新文档后再上传。"
                )
                % {"name": name},
                "external_object",
            )


def _shown_text(text: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 60 else text[:59] + "…"


# --------------------------------------------------------------------------- entry point


def inspect(data: bytes, name: str, ext: str, *, max_members: int, max_unzipped: int) -> None:
    """Raise a ServiceError when the content of a file whose first bytes matched ``ext`` is
    incomplete, active or two things at once."""
    if ext in _OOXML_PART:
        _check_ooxml(data, name, ext, max_members=max_members, max_unzipped=max_unzipped)
    elif ext in ("doc", "xls"):
        _check_ole(data, name, ext)
    else:  # pictures and PDF: first what would make them two things at once
        _no_zip_inside(data, name)
        _no_markup(data, name)
        if ext == "pdf":
            _check_pdf(data, name)
        else:
            _check_image(data, name, ext)
