"""The printable application form (F33): embedded CJK font, rare characters, literal user text,
page splitting. No database."""

import io
import logging

import pytest
from pypdf import PdfReader

from rencai.applications import pdf
from rencai.applications.pdf import (
    PdfFontMissing,
    PdfSection,
    PdfTimelineEntry,
    render_application_pdf,
    unprintable_chars,
)

MICROHEI = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # Latin only, no CJK
TITLE = "示范市高层次人才补贴申请表"
CV = "2010—2014 北京大学 本科\n2014—2019 清华大学 博士\n2019—今 示范市某科技有限公司 研发总监"


@pytest.fixture(autouse=True)
def no_configured_font(settings):
    settings.RENCAI_PDF_FONT = ""


def render(name="王堃", *, timeline_rows=80, extra_rows=()):
    sections = [
        PdfSection(
            "申请人基本信息",
            [("姓名", name), ("公民身份号码", "110101199001011234"), ("工作经历", CV), *extra_rows],
        ),
        PdfSection("申请项目", [("补贴类型", "博士生活补贴"), ("申请金额（元）", "36000")]),
    ]
    timeline = [
        PdfTimelineEntry(
            when=f"2026-03-{i % 28 + 1:02d} 09:30",
            actor=f"审核员{i}",
            action="区县人社局审核",
            opinion=f"第{i}条意见：材料齐全，同意上报。",
        )
        for i in range(timeline_rows)
    ]
    return render_application_pdf(
        title=TITLE,
        subtitle="2026 年度",
        number="RC-2026-000123",
        sections=sections,
        timeline=timeline,
        footer="示范市人才补贴申报平台 打印于 2026-04-01",
    )


def pages_text(data: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(data))
    return reader, [page.extract_text() for page in reader.pages]


def page_fonts(reader: PdfReader) -> list:
    fonts = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            fonts[font["/BaseFont"]] = font
    return list(fonts.values())


def is_embedded(font) -> bool:
    descendants = font.get("/DescendantFonts")
    targets = [d.get_object() for d in descendants] if descendants else [font]
    return any(
        "/FontDescriptor" in t and "/FontFile2" in t["/FontDescriptor"].get_object()
        for t in targets
    )


def require_fonts_for(text: str) -> None:
    missing = unprintable_chars(text)
    if missing:
        pytest.fail(
            f"no installed font has {''.join(sorted(missing))}: "
            "apt-get install fonts-wqy-zenhei fonts-hanazono"
        )


def test_form_text_pages_and_metadata():
    reader, texts = pages_text(render())
    text = "\n".join(texts)

    assert len(reader.pages) >= 2
    assert reader.metadata.title == TITLE
    assert TITLE in texts[0]
    assert "编号：RC-2026-000123" in texts[0]
    assert "王堃" in text
    for label in ("姓名", "公民身份号码", "工作经历", "补贴类型", "办理过程", "办理人", "意见"):
        assert label in text
    for line in CV.splitlines():
        assert line in text
    assert "博士生活补贴" in text
    assert "第0条意见：材料齐全，同意上报。" in text
    assert "第79条意见：材料齐全，同意上报。" in text
    for number, page_text in enumerate(texts, start=1):
        assert f"第 {number} 页" in page_text
        assert "示范市人才补贴申报平台" in page_text
    assert "第 2 页" in text
    # The timeline header repeats on each page the table continues on.
    assert sum("办理人" in t for t in texts) >= 2
    assert "申请人签字" in texts[-1]


def test_font_is_embedded_truetype_and_no_cid_font():
    data = render()
    reader, _ = pages_text(data)
    fonts = page_fonts(reader)

    cjk = [f for f in fonts if f["/BaseFont"] != "/Helvetica"]  # reportlab's unused default
    assert cjk
    assert all(is_embedded(f) for f in cjk)
    assert not any("STSong" in f["/BaseFont"] for f in fonts)
    assert b"STSong" not in data
    assert b"UniGB-UCS2" not in data


def test_rare_name_characters_print():
    # 䶮 (CJK Extension A) is not in WenQuanYi Micro Hei; Zen Hei or Droid Fallback has it.
    require_fonts_for("张䶮王堃")
    _, texts = pages_text(render("张䶮 王堃", timeline_rows=2))
    assert "张䶮 王堃" in texts[0]


def test_extension_b_name_prints():
    require_fonts_for("李𠮷")  # fonts-hanazono
    _, texts = pages_text(render("李𠮷", timeline_rows=2))
    assert "李𠮷" in texts[0]


def test_characters_missing_from_the_main_font_use_a_fallback(settings, monkeypatch):
    settings.RENCAI_PDF_FONT = DEJAVU
    monkeypatch.setattr(pdf, "FONT_CANDIDATES", [MICROHEI])

    reader, texts = pages_text(render("Wang 王堃", timeline_rows=1))

    assert "Wang 王堃" in texts[0]
    names = {str(f["/BaseFont"]) for f in page_fonts(reader)}
    assert any("DejaVuSans" in n for n in names)
    assert any("WenQuanYiMicroHei" in n for n in names)


def test_a_character_no_font_has_is_logged(monkeypatch, caplog):
    monkeypatch.setattr(pdf, "FONT_CANDIDATES", [MICROHEI])
    assert unprintable_chars("张䶮王堃") == {"䶮"}

    with caplog.at_level(logging.WARNING, logger="rencai.applications.pdf"):
        render("张䶮", timeline_rows=1)

    assert "U+4DAE" in caplog.text


def test_user_text_is_literal_not_markup():
    value = 'A<b>&B</b> <font size="40">x</font> &amp; <br/>'
    _, texts = pages_text(render(extra_rows=[("备注 <i>", value)], timeline_rows=1))
    text = "\n".join(texts)
    assert value in text
    assert "备注 <i>" in text


def test_long_value_splits_across_pages():
    long_cv = "\n".join(f"{year} 年 示范市某研究院 项目负责人" for year in range(1900, 2020))
    reader, texts = pages_text(render(extra_rows=[("科研经历", long_cv)], timeline_rows=1))
    text = "\n".join(texts)
    assert len(reader.pages) >= 3
    assert "1900 年 示范市某研究院 项目负责人" in text
    assert "2019 年 示范市某研究院 项目负责人" in text


def test_missing_font_raises_an_operator_message(settings, monkeypatch):
    settings.RENCAI_PDF_FONT = "/nonexistent/font.ttf"
    monkeypatch.setattr(pdf, "FONT_CANDIDATES", ["/nonexistent/fallback.ttc"])

    with pytest.raises(PdfFontMissing) as raised:
        render()

    message = str(raised.value)
    assert "RENCAI_PDF_FONT" in message
    assert "fonts-wqy-microhei" in message
    assert "/nonexistent/font.ttf" in message


def test_a_configured_font_that_is_gone_falls_back_to_a_system_font(settings, monkeypatch):
    settings.RENCAI_PDF_FONT = "/nonexistent/font.ttf"
    monkeypatch.setattr(pdf, "FONT_CANDIDATES", [MICROHEI])
    _, texts = pages_text(render(timeline_rows=1))
    assert "王堃" in texts[0]
