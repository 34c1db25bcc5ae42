"""Materials (F16): upload by type, preview, download, delete, upload again. Every
refused file leaves nothing behind: no row and no file in the storage directory."""

import io
import struct
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver, reverse
from django.views.static import serve
from PIL import Image

from rencai.accounts.models import User
from rencai.audit.models import AuditEntry
from rencai.errors import ServiceError
from rencai.profiles import services
from rencai.profiles.access import register_material_access, unregister_material_access
from rencai.profiles.materials import MAX_UPLOAD_BYTES, sanitize_filename
from rencai.profiles.models import Material
from tests.conftest import PASSWORD

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@pytest.fixture
def media(settings, tmp_path):
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    return root


def stored_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


def image_bytes(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (3, 2), (200, 30, 30)).save(buf, fmt)
    return buf.getvalue()


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def ole_bytes(*streams: str) -> bytes:
    """A minimal Word/Excel 97-2003 compound file: the header, one FAT sector and one
    directory sector holding the root entry and the named entries ("WordDocument" for a
    .doc, "Workbook" for an .xls). Magic bytes followed by zeros are not a document."""
    end_of_chain, free, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFF
    header = bytearray(512)
    header[:8] = OLE
    struct.pack_into("<5H", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<9I", header, 40, 0, 1, 1, 0, 4096, end_of_chain, 0, end_of_chain, 0)
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))
    fat = struct.pack("<128I", 0xFFFFFFFD, end_of_chain, *([free] * 126))

    def entry(name: str, kind: int, right: int = no_stream, child: int = no_stream) -> bytes:
        encoded = name.encode("utf-16-le")
        raw = bytearray(128)
        raw[: len(encoded)] = encoded
        struct.pack_into("<HBB3I", raw, 64, len(encoded) + 2, kind, 1, no_stream, right, child)
        struct.pack_into("<IQ", raw, 116, end_of_chain, 0)
        return bytes(raw)

    names = list(streams)[:3]
    entries = [entry("Root Entry", 5, child=1 if names else no_stream)]
    for i, name in enumerate(names, start=1):
        entries.append(entry(name, 2, right=i + 1 if i < len(names) else no_stream))
    directory = b"".join(entries).ljust(512, b"\0")
    return bytes(header) + fat + directory


def ooxml_bytes(part: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        if part == "word":
            archive.writestr("word/document.xml", "<w:document>毕业证明</w:document>")
        else:
            archive.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


def zip_bomb_docx() -> bytes:
    """A small docx whose central directory declares a 4 GB member."""
    data = bytearray(ooxml_bytes("word"))
    pos = data.find(b"PK\x01\x02")  # the first central-directory entry
    struct.pack_into("<I", data, pos + 24, 0xFFFFFFF0)  # its uncompressed size
    return bytes(data)


ALLOWED = {
    "scan.jpg": (image_bytes("JPEG"), "image/jpeg", True),
    "photo.jpeg": (image_bytes("JPEG"), "image/jpeg", True),
    "证书.png": (image_bytes("PNG"), "image/png", True),
    "anim.gif": (image_bytes("GIF"), "image/gif", True),
    "old.bmp": (image_bytes("BMP"), "image/bmp", True),
    "毕业证书.pdf": (pdf_bytes(), "application/pdf", True),
    "form.doc": (ole_bytes("WordDocument"), "application/msword", False),
    "table.xls": (ole_bytes("Workbook"), "application/vnd.ms-excel", False),
    "劳动合同.docx": (
        ooxml_bytes("word"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        False,
    ),
    "社保.xlsx": (
        ooxml_bytes("xl"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        False,
    ),
}


@pytest.fixture
def applicant_client(client, city, media):
    client.force_login(city.applicant)
    return client


def upload(client, name, content, material_type="diploma", follow=False):
    return client.post(
        reverse("profiles:materials"),
        {"material_type": material_type, "file": SimpleUploadedFile(name, content)},
        follow=follow,
    )


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_every_allowed_kind_is_stored_and_read_back_byte_identical(applicant_client, city, media):
    page = applicant_client.get(reverse("profiles:materials")).content.decode()
    assert "还没有上传材料" in page
    for name, (content, content_type, previewable) in ALLOWED.items():
        response = upload(applicant_client, name, content, follow=True)
        assert f"“{name}”已上传（毕业证书）。" in response.content.decode(), name
        material = Material.objects.get(original_name=name)
        assert material.owner == city.applicant and material.material_type == "diploma"
        assert material.size == len(content) and material.content_type == content_type
        assert material.file.name.startswith(f"materials/{city.applicant.pk}/")
        assert name not in material.file.name  # the stored path is not the uploaded name
        assert (media / material.file.name).read_bytes() == content

        download = applicant_client.get(reverse("profiles:material_download", args=[material.pk]))
        assert download.status_code == 200 and body(download) == content
        assert download["Content-Type"] == content_type
        assert download["Content-Disposition"].startswith("attachment;")
        assert download["X-Content-Type-Options"] == "nosniff"

        preview = applicant_client.get(reverse("profiles:material_file", args=[material.pk]))
        disposition = "inline;" if previewable else "attachment;"
        assert preview["Content-Disposition"].startswith(disposition), name
        assert body(preview) == content
    assert len(stored_files(media)) == Material.objects.count() == len(ALLOWED)
    assert AuditEntry.objects.filter(action="material.upload").count() == len(ALLOWED)
    page = applicant_client.get(reverse("profiles:materials")).content.decode()
    assert "毕业证书" in page and "劳动合同.docx" in page


def test_preview_page_shows_images_and_pdfs_in_the_page(applicant_client, city, media):
    upload(applicant_client, "证书.png", ALLOWED["证书.png"][0])
    upload(applicant_client, "毕业证书.pdf", pdf_bytes())
    upload(applicant_client, "劳动合同.docx", ooxml_bytes("word"), "labour_contract")
    png, pdf, docx = (
        Material.objects.get(original_name=n)
        for n in ALLOWED
        if n in {"证书.png", "毕业证书.pdf", "劳动合同.docx"}
    )
    page = applicant_client.get(reverse("profiles:material", args=[png.pk])).content.decode()
    assert (
        f'<img class="material-preview" src="{reverse("profiles:material_file", args=[png.pk])}"'
        in page
    )
    page = applicant_client.get(reverse("profiles:material", args=[pdf.pk])).content.decode()
    assert "<iframe" in page
    file_response = applicant_client.get(reverse("profiles:material_file", args=[pdf.pk]))
    assert file_response["X-Frame-Options"] == "SAMEORIGIN"
    page = applicant_client.get(reverse("profiles:material", args=[docx.pk])).content.decode()
    assert "请下载后查看" in page and "<iframe" not in page and "<img" not in page
    page = applicant_client.get(reverse("profiles:materials")).content.decode()
    assert "劳动合同" in page and "data-confirm" in page


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "photo.png",
            b"this is just text, not a picture\n",
            "文件“photo.png”的内容与扩展名 .png 不符",
        ),
        ("report.pdf", b"MZ\x90\x00\x03" + bytes(200), "文件“report.pdf”的内容与扩展名 .pdf 不符"),
        ("empty.pdf", b"", "文件“empty.pdf”是空文件"),
        ("big.pdf", b"%PDF-" + bytes(MAX_UPLOAD_BYTES + 1 - 5), "超过了 20 MB 的上限"),
        ("bomb.docx", zip_bomb_docx(), "文件“bomb.docx”解压后超过 200 MB"),
        ("sheet.xlsx", ooxml_bytes("word"), "文件“sheet.xlsx”的内容与扩展名 .xlsx 不符"),
        ("notes.docx", b"PK\x03\x04" + bytes(100), "文件“notes.docx”的内容与扩展名 .docx 不符"),
        ("setup.exe", b"MZ\x90\x00", "文件“setup.exe”的格式不能上传"),
        ("noext", pdf_bytes(), "文件“noext”的格式不能上传"),
    ],
)
def test_refused_files_leave_no_row_and_no_file(applicant_client, media, name, content, message):
    response = upload(applicant_client, name, content)
    page = response.content.decode()
    assert response.status_code == 200 and message in page, page[page.find("error-summary") :][:600]
    assert "请修改以下内容后再提交" in page
    assert not Material.objects.exists()
    assert stored_files(media) == []
    assert not AuditEntry.objects.filter(action__startswith="material.").exists()


def test_an_unknown_material_type_is_refused(applicant_client, media):
    response = upload(applicant_client, "a.pdf", pdf_bytes(), material_type="passport_of_mars")
    assert "选择一个有效的选项" in response.content.decode()
    assert not Material.objects.exists() and stored_files(media) == []
    with pytest.raises(ServiceError) as exc:
        services.material_upload(
            User.objects.get(real_name="张晓明"), "x", SimpleUploadedFile("a.pdf", pdf_bytes())
        )
    assert exc.value.field == "material_type"
    assert not Material.objects.exists() and stored_files(media) == []


def test_file_names_are_sanitised():
    assert sanitize_filename("C:\\Users\\zhang\\毕业证.pdf") == "毕业证.pdf"
    assert sanitize_filename("../../etc/passwd\x00.png") == "passwd.png"
    assert sanitize_filename("evil\u202egnp.pdf") == "evilgnp.pdf"
    long = sanitize_filename("长" * 300 + ".docx")
    assert len(long) == 100 and long.endswith(".docx")


def test_uploaded_path_components_are_dropped(applicant_client, media, city):
    upload(applicant_client, "../../../etc/证书.png", ALLOWED["证书.png"][0])
    material = Material.objects.get()
    assert material.original_name == "证书.png"
    assert stored_files(media) == [media / material.file.name]


def test_delete_removes_row_and_file(applicant_client, media, django_capture_on_commit_callbacks):
    upload(applicant_client, "毕业证书.pdf", pdf_bytes())
    material = Material.objects.get()
    assert len(stored_files(media)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = applicant_client.post(
            reverse("profiles:material_delete", args=[material.pk]), follow=True
        )
    assert "已删除“毕业证书.pdf”。" in response.content.decode()
    assert not Material.objects.exists()
    assert stored_files(media) == []
    assert AuditEntry.objects.filter(action="material.delete", object_id=str(material.pk)).exists()
    assert (
        applicant_client.get(reverse("profiles:material_download", args=[material.pk])).status_code
        == 404
    )


def test_upload_again_keeps_one_current_file(
    applicant_client, media, django_capture_on_commit_callbacks
):
    upload(applicant_client, "证书.png", ALLOWED["证书.png"][0])
    material = Material.objects.get()
    old_path = media / material.file.name
    url = reverse("profiles:material_replace", args=[material.pk])

    # A refused file changes nothing.
    response = applicant_client.post(url, {"file": SimpleUploadedFile("new.pdf", b"nope")})
    assert "文件“new.pdf”的内容与扩展名 .pdf 不符" in response.content.decode()
    assert stored_files(media) == [old_path]
    material.refresh_from_db()
    assert material.original_name == "证书.png"

    with django_capture_on_commit_callbacks(execute=True):
        response = applicant_client.post(
            url, {"file": SimpleUploadedFile("毕业证书（新）.pdf", pdf_bytes())}, follow=True
        )
    assert "已重新上传“毕业证书（新）.pdf”。" in response.content.decode()
    assert Material.objects.count() == 1
    material.refresh_from_db()
    assert material.original_name == "毕业证书（新）.pdf" and material.material_type == "diploma"
    assert material.content_type == "application/pdf" and material.size == len(pdf_bytes())
    assert stored_files(media) == [media / material.file.name] and not old_path.exists()
    download = applicant_client.get(reverse("profiles:material_download", args=[material.pk]))
    assert body(download) == pdf_bytes()
    entry = AuditEntry.objects.get(action="material.replace")
    assert entry.summary["before"]["original_name"] == "证书.png"


def test_others_get_404_for_someone_elses_material(client, city, media):
    client.force_login(city.applicant)
    upload(client, "毕业证书.pdf", pdf_bytes())
    material = Material.objects.get()
    other = User.objects.create_user(
        username="li_si",
        password=PASSWORD,
        kind=User.Kind.PERSON,
        real_name="李思",
        registration_status=User.RegistrationStatus.APPROVED,
    )
    urls = [
        ("get", reverse("profiles:material", args=[material.pk])),
        ("get", reverse("profiles:material_file", args=[material.pk])),
        ("get", reverse("profiles:material_download", args=[material.pk])),
        ("post", reverse("profiles:material_delete", args=[material.pk])),
        ("post", reverse("profiles:material_replace", args=[material.pk])),
    ]
    for user in [other, city.employer_admin, city.district_reviewer, city.admin]:
        client.force_login(user)
        for method, url in urls:
            assert getattr(client, method)(url).status_code == 404, (user, url)
    client.logout()
    response = client.get(reverse("profiles:material_download", args=[material.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Material.objects.filter(pk=material.pk).exists()
    assert len(stored_files(media)) == 1


def test_a_registered_check_opens_the_file_to_a_reviewer(client, city, media):
    client.force_login(city.applicant)
    upload(client, "毕业证书.pdf", pdf_bytes())
    material = Material.objects.get()

    def reviewer_of_dongcheng(user, material):
        return user.username == "dongcheng_reviewer"

    register_material_access(reviewer_of_dongcheng)
    try:
        client.force_login(city.district_reviewer)
        response = client.get(reverse("profiles:material_download", args=[material.pk]))
        assert response.status_code == 200 and body(response) == pdf_bytes()
        # Seeing is not changing: the reviewer cannot delete it or open the owner's page.
        assert (
            client.post(reverse("profiles:material_delete", args=[material.pk])).status_code == 404
        )
        client.force_login(city.outsider_reviewer)
        download = reverse("profiles:material_download", args=[material.pk])
        assert client.get(download).status_code == 404
    finally:
        unregister_material_access(reviewer_of_dongcheng)
    client.force_login(city.district_reviewer)
    assert client.get(reverse("profiles:material_file", args=[material.pk])).status_code == 404


def test_stored_files_are_never_served_from_a_media_url(client, city, media):
    for pattern in get_resolver().url_patterns:
        assert getattr(pattern, "callback", None) is not serve
    client.force_login(city.applicant)
    upload(client, "毕业证书.pdf", pdf_bytes())
    name = Material.objects.get().file.name
    for path in [f"/{name}", f"/media/{name}", f"/static/{name}"]:
        assert client.get(path).status_code == 404


def test_a_material_an_application_holds_cannot_be_deleted_and_says_why(
    city, ready_applicant, client
):
    from tests.test_applications import living

    draft = living(ready_applicant)
    held = draft.attachments.first().material
    client.force_login(ready_applicant)
    response = client.post(f"/me/profile/materials/{held.pk}/delete/", follow=True)
    assert response.status_code == 200
    assert "该材料已用于申报，不能删除" in response.content.decode()
    assert Material.objects.filter(pk=held.pk).exists()
