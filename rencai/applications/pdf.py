"""The printable filled application form (F33), in Chinese, as a PDF.

Pure layout: the caller turns an application into sections, rows and a timeline; nothing here
touches the database. Text is set in an embedded TrueType CJK font, never reportlab's CID fonts
(STSong-Light and friends are not embedded, so readers substitute a font and rare characters in
names come out as boxes or blanks).

One font rarely covers every character a name may hold: WenQuanYi Micro Hei has no CJK
Extension A (``䶮``), Zen Hei has Extension A but not B (``𠮷``). So the first font found is the
main font and every other installed candidate is a fallback, used character by character where
the main font has no glyph. A character that no installed font covers is logged as a warning.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from django.conf import settings
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

log = logging.getLogger(__name__)

SETTING = "RENCAI_PDF_FONT"
DEBIAN_PACKAGE = "fonts-wqy-microhei"

# TrueType (glyf) fonts only: reportlab cannot embed CFF-outline OpenType, so the Debian
# Noto CJK collections (/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc) cannot be used.
FONT_CANDIDATES: list[str] = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # fonts-wqy-zenhei: + Extension A
    "/usr/share/fonts/truetype/arphic/uming.ttc",  # fonts-arphic-uming
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",  # fonts-droid-fallback: + Ext A
    "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",  # fonts-hanazono: + Ext A, part of Ext B
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",  # fonts-hanazono: Extension B
]

MARGIN = 18 * mm
BODY_SIZE = 10
GRID = colors.HexColor("#666666")
SHADE = colors.HexColor("#eeeeee")
# A heading starts a new page when less than this is left, so it is never left alone at the
# foot of a page; the tables themselves split anywhere between (and inside) rows.
KEEP_WITH_HEADING = 30 * mm


class PdfFontMissing(RuntimeError):
    """No usable CJK TrueType font is installed: an operator must install or configure one."""


@dataclass
class PdfSection:
    heading: str
    rows: list[tuple[str, str]] = field(default_factory=list)  # label, value (may be multi-line)


@dataclass
class PdfTimelineEntry:
    when: str
    actor: str
    action: str
    opinion: str


# --- fonts ----------------------------------------------------------------------------------

_reportlab_to_unicode_cmap = ttfonts.makeToUnicodeCMap


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, with characters beyond the BMP (Extension B names such as
    ``𠮷``) written as UTF-16 surrogate pairs: reportlab writes ``<20BB7>``, which is invalid,
    so the character could not be searched, copied or extracted from the PDF."""
    cmap = _reportlab_to_unicode_cmap(fontname, subset)
    for i, code in enumerate(subset):
        if code > 0xFFFF:
            utf16 = chr(code).encode("utf-16-be").hex().upper()
            cmap = cmap.replace(f"<{i:02X}> <{code:04X}>", f"<{i:02X}> <{utf16}>")
    return cmap


ttfonts.makeToUnicodeCMap = _to_unicode_cmap

# C0 controls other than newlines, and DEL: they have no glyph and confuse the markup parser.
_CONTROL_CHARS = {c: None for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]}

_lock = threading.Lock()
_loaded: dict[str, tuple[str, frozenset[int]] | None] = {}  # path -> (font name, code points)


def _load(path: str) -> tuple[str, frozenset[int]] | None:
    """Register the font at ``path`` once per process; None when it cannot be used."""
    with _lock:
        if path not in _loaded:
            name = f"RencaiCJK{len(_loaded)}"
            try:
                index = {"subfontIndex": 0} if path.lower().endswith(".ttc") else {}
                font = TTFont(name, path, **index)
            except (OSError, TTFError) as exc:
                log.warning("PDF font %s cannot be used: %s", path, exc)
                _loaded[path] = None
            else:
                pdfmetrics.registerFont(font)
                chars = frozenset(c for c, glyph in font.face.charToGlyph.items() if glyph)
                _loaded[path] = (name, chars)
        return _loaded[path]


class _Fonts:
    """The main font and, lazily, the fallbacks for characters it lacks."""

    def __init__(self, main: tuple[str, frozenset[int]], fallback_paths: list[str]):
        self.main, self.main_chars = main
        self._fallback_paths = fallback_paths
        self._fallbacks: list[tuple[str, frozenset[int]]] | None = None
        self._warned: set[str] = set()

    def _fallback_fonts(self) -> list[tuple[str, frozenset[int]]]:
        if self._fallbacks is None:
            self._fallbacks = [f for f in map(_load, self._fallback_paths) if f is not None]
        return self._fallbacks

    def missing(self, text: str) -> set[str]:
        """The characters of ``text`` that no installed font can print."""
        return {
            char
            for char in set(text)
            if not char.isspace()
            and ord(char) not in self.main_chars
            and not any(ord(char) in chars for _, chars in self._fallback_fonts())
        }

    def font_for(self, char: str) -> str:
        code = ord(char)
        if code in self.main_chars or char.isspace():
            return self.main
        for name, chars in self._fallback_fonts():
            if code in chars:
                return name
        if char not in self._warned:
            self._warned.add(char)
            log.warning(
                "PDF: no installed font has a glyph for %r (U+%04X); it prints blank. "
                "Install fonts-wqy-zenhei and fonts-hanazono for rare characters.",
                char,
                code,
            )
        return self.main

    def markup(self, text: str) -> str:
        """Paragraph markup for literal ``text``: escaped, newlines kept, fallback runs."""
        out: list[str] = []
        text = str(text).replace("\t", " ").translate(_CONTROL_CHARS)
        for line_no, line in enumerate(text.splitlines() or [""]):
            if line_no:
                out.append("<br/>")
            run, run_font = "", self.main
            for char in line:
                font = self.font_for(char)
                if font != run_font and run:
                    out.append(self._run(run, run_font))
                    run = ""
                run_font = font
                run += char
            if run:
                out.append(self._run(run, run_font))
        return "".join(out)

    def _run(self, text: str, font: str) -> str:
        text = escape(text)
        return text if font == self.main else f'<font face="{font}">{text}</font>'


def _font_paths() -> tuple[list[str], str]:
    """Existing font files, the configured one first; and a note on what was tried."""
    configured = getattr(settings, SETTING, "") or ""
    paths: list[str] = []
    tried: list[str] = []
    if configured:
        tried.append(f"{SETTING}={configured}")
        if os.path.isfile(configured):
            paths.append(configured)
        else:
            log.warning("%s=%s does not exist; looking for a system CJK font", SETTING, configured)
    tried.extend(FONT_CANDIDATES)
    paths.extend(p for p in FONT_CANDIDATES if p not in paths and os.path.isfile(p))
    return paths, ", ".join(tried)


def pdf_fonts() -> _Fonts:
    """The fonts a render uses. Raises PdfFontMissing when no usable CJK font is installed."""
    paths, tried = _font_paths()
    for i, path in enumerate(paths):
        main = _load(path)
        if main is not None:
            return _Fonts(main, paths[i + 1 :])
    raise PdfFontMissing(
        "No usable CJK TrueType font for the printable application form. Set "
        f"{SETTING} to the path of a .ttf/.ttc font or install the Debian package "
        f"{DEBIAN_PACKAGE} (apt-get install {DEBIAN_PACKAGE}; add fonts-wqy-zenhei for rare "
        f"characters). Tried: {tried}."
    )


def unprintable_chars(text: str) -> set[str]:
    """The characters of ``text`` that no installed font can print (check names with it)."""
    return pdf_fonts().missing(text)


# --- layout ---------------------------------------------------------------------------------


def _styles(font: str) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=font, fontSize=BODY_SIZE, leading=BODY_SIZE * 1.45)
    return {
        "body": body,
        "title": ParagraphStyle(
            "title", parent=body, fontSize=18, leading=24, alignment=TA_CENTER, spaceAfter=4
        ),
        "subtitle": ParagraphStyle(
            "subtitle", parent=body, fontSize=11, leading=16, alignment=TA_CENTER
        ),
        "number": ParagraphStyle("number", parent=body, alignment=TA_RIGHT, spaceBefore=4),
        "heading": ParagraphStyle(
            "heading", parent=body, fontSize=12, leading=17, spaceBefore=10, spaceAfter=4
        ),
        "footer": ParagraphStyle("footer", parent=body, fontSize=8, leading=10),
        "signature": ParagraphStyle("signature", parent=body, fontSize=11, leading=16),
    }


def _table_style(*, header: bool) -> TableStyle:
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), SHADE))
    return TableStyle(commands)


def _table(rows: list[list[Paragraph]], widths: list[float], *, header: bool) -> Table:
    # LongTable: faster layout for long tables; splitInRow lets one tall cell (a long CV)
    # continue on the next page instead of failing the whole render.
    return LongTable(
        rows,
        colWidths=widths,
        repeatRows=1 if header else 0,
        splitInRow=1,
        style=_table_style(header=header),
        hAlign="LEFT",
    )


def _section_flowables(
    sections: Iterable[PdfSection], fonts: _Fonts, styles: dict, width: float
) -> list:
    flowables: list = []
    body = styles["body"]
    for section in sections:
        heading = Paragraph(fonts.markup(section.heading), styles["heading"])
        if not section.rows:
            flowables += [CondPageBreak(KEEP_WITH_HEADING), heading]
            continue
        rows = [
            [Paragraph(fonts.markup(label), body), Paragraph(fonts.markup(value), body)]
            for label, value in section.rows
        ]
        table = _table(rows, [width * 0.35, width * 0.65], header=False)
        flowables += [CondPageBreak(KEEP_WITH_HEADING), heading, table]
    return flowables


def _timeline_flowables(
    timeline: list[PdfTimelineEntry], fonts: _Fonts, styles: dict, width: float
) -> list:
    body = styles["body"]
    heading = Paragraph(fonts.markup("办理过程"), styles["heading"])
    rows = [[Paragraph(fonts.markup(text), body) for text in ("时间", "办理人", "环节", "意见")]]
    rows += [
        [Paragraph(fonts.markup(text), body) for text in (e.when, e.actor, e.action, e.opinion)]
        for e in timeline
    ]
    if len(rows) == 1:
        rows.append([Paragraph(fonts.markup("（暂无）"), body), "", "", ""])
    widths = [width * 0.22, width * 0.18, width * 0.18, width * 0.42]
    return [CondPageBreak(KEEP_WITH_HEADING), heading, _table(rows, widths, header=True)]


def render_application_pdf(
    *,
    title: str,
    subtitle: str,
    number: str,
    sections: list[PdfSection],
    timeline: list[PdfTimelineEntry],
    footer: str,
) -> bytes:
    """The filled application form as A4 PDF bytes. Every string is literal text, not markup.

    Raises PdfFontMissing when no CJK font is installed.
    """
    fonts = pdf_fonts()
    styles = _styles(fonts.main)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,  # room for the footer line
        title=title,
        subject=f"编号：{number}" if number else "",
        creator="Rencai",
        author="Rencai",
        lang="zh-CN",
    )
    width = doc.width - 12  # the frame pads 6 pt on each side
    footer_paragraph = Paragraph(fonts.markup(footer), styles["footer"])

    def on_page(canvas, page_doc) -> None:
        canvas.saveState()
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.5)
        left, right, y = MARGIN + 6, MARGIN + 6 + width, MARGIN - 1 * mm
        canvas.line(left, y + 4 * mm, right, y + 4 * mm)
        _, height = footer_paragraph.wrap(width * 0.8, 12 * mm)
        footer_paragraph.drawOn(canvas, left, y + 2.5 * mm - height)
        canvas.setFont(fonts.main, 8)
        canvas.drawRightString(right, y, f"第 {page_doc.page} 页")
        canvas.restoreState()

    story: list = [
        Paragraph(fonts.markup(title), styles["title"]),
    ]
    if subtitle:
        story.append(Paragraph(fonts.markup(subtitle), styles["subtitle"]))
    if number:
        story.append(Paragraph(fonts.markup(f"编号：{number}"), styles["number"]))
    story += _section_flowables(sections, fonts, styles, width)
    story += _timeline_flowables(timeline, fonts, styles, width)
    signature = "申请人签字：________________" + "\u3000" * 4 + "日期：________________"
    story.append(
        KeepTogether([Spacer(1, 14 * mm), Paragraph(fonts.markup(signature), styles["signature"])])
    )
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
