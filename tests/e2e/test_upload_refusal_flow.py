"""Issue 8, part 4, in the browser: an applicant who picks a program renamed to .pdf sees
why it is refused and nothing is listed; a real PDF then goes in. The applicant signs in
with the ID number, which is encrypted at rest (looked up through its keyed hash)."""

import re

from playwright.sync_api import expect

from rencai.profiles.models import Material
from tests.conftest import PASSWORD
from tests.e2e.conftest import SCREENSHOTS, check_a11y, password_login

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200  # a Windows program's first bytes


def pick(page, name, data):
    page.get_by_label("材料类型").select_option(label="劳动合同")
    page.get_by_label(re.compile(r"^文件")).set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": data}
    )
    page.get_by_role("button", name="上传", exact=True).click()


def test_a_disguised_program_is_refused_with_the_reason_and_a_real_pdf_goes_in(page, url, e2e_city):
    applicant = e2e_city.applicant
    password_login(page, url, applicant.id_number, PASSWORD)
    page.goto(url("/me/profile/materials/"))
    expect(page.get_by_text("还没有上传材料")).to_be_visible()

    pick(page, "劳动合同.pdf", PROGRAM)
    # beside the field, and in the summary at the top linking to the field
    expect(page.locator("p.error")).to_contain_text("内容与扩展名 .pdf 不符")
    expect(page.get_by_role("link", name=re.compile("内容与扩展名 .pdf"))).to_have_attribute(
        "href", "#id_file"
    )
    page.screenshot(path=str(SCREENSHOTS / "upload-refused.png"), full_page=True)
    check_a11y(page, "materials page with a refused upload")
    expect(page.get_by_text("还没有上传材料")).to_be_visible()  # nothing listed
    assert not Material.objects.filter(owner=applicant).exists()

    pick(page, "劳动合同.pdf", PDF)
    expect(page.locator(".messages")).to_contain_text("已上传")
    expect(page.get_by_role("link", name="劳动合同.pdf", exact=True)).to_be_visible()
    assert Material.objects.filter(owner=applicant, material_type="labour_contract").count() == 1
