"""Material formats, blank forms and uploads from the application form (F60). A pack may
limit a material type to some formats (``formats: [pdf]``) and give a blank form to
download (``template``); applicants of every kind upload files while filling the form.
A refused file or field stores nothing: no Material row, no file, no change to the draft."""

import hashlib
import textwrap

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rencai.accounts.models import User
from rencai.applications import transitions as t
from rencai.applications.models import Application
from rencai.applications.uploads import MAX_FILES_PER_TYPE
from rencai.errors import ServiceError
from rencai.orgs.models import Employer, Membership
from rencai.profiles.models import Material
from rencai.profiles.services import material_upload
from rencai.programs.loader import load_pack
from rencai.programs.models import Program
from rencai.programs.schema import PackError
from tests import test_materials
from tests.conftest import PASSWORD, make_credit_code
from tests.test_materials import image_bytes, ooxml_bytes, pdf_bytes

PACK = """
pack: f60
name: 材料格式测试
categories: [{code: subsidy, name: 补贴申报}]
programs:
"""
PROGRAM = """
  - code: conference_{kind}
    name: 会议补贴（{kind}）
    category: subsidy
    applicant: {kind}
    fields:
      - {{code: venue, label: 会议地点, type: text}}
      - {{code: attendees, label: 参会人数, type: integer, min: 1}}
    materials:
      - type: conference_form
        label: 会议补贴申请表
        required: true
        formats: [pdf]
        template: {template}
      - {{type: other_proof, label: 其他证明材料}}
    rules: [{{kind: materials_required}}]
    chains:
      - stages:
          - code: district_hr
            name: 区人社审核
            actor: {{authority: hr_bureau, level: district}}
"""
TEMPLATE = "templates/agency/conference.docx"
media = test_materials.media  # the temporary MEDIA_ROOT fixture, shared
KINDS = ("person", "employer", "agency")


def pack_text(template=TEMPLATE, kinds=KINDS) -> str:
    return PACK + "".join(PROGRAM.format(kind=k, template=template) for k in kinds)


def write_pack(directory, text, template_bytes=None):
    if template_bytes is not None:
        target = directory / TEMPLATE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(template_bytes)
    path = directory / "f60.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def stored(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


TEMPLATE_BYTES = ooxml_bytes("word")


@pytest.fixture
def pack(city, media, tmp_path):
    source = tmp_path / "packs"
    source.mkdir()
    load_pack(write_pack(source, pack_text(), TEMPLATE_BYTES))
    return source


def agency_user(city) -> User:
    agency = Employer.objects.create(
        name="示范人力资源服务公司",
        credit_code=make_credit_code("91990102MA0000777"),
        kind=Employer.Kind.HR_AGENCY,
        district=city.dongcheng,
        licence_number="(示)人服证字[2026]001号",
        status=Employer.Status.APPROVED,
    )
    user = User.objects.create_user(
        username=agency.credit_code, password=PASSWORD, kind="agency", real_name="李机构"
    )
    Membership.objects.create(user=user, employer=agency, role=Membership.Role.EMPLOYER_ADMIN)
    return user


def applicant_of(kind, city) -> User:
    if kind == "person":
        return city.applicant
    return city.employer_admin if kind == "employer" else agency_user(city)


def new_url(kind="person") -> str:
    return reverse("applications:new", args=[f"conference_{kind}"])


def text_renamed_pdf() -> bytes:
    return "这是一段文字，不是PDF。".encode()


# --- the pack ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template, problem",
    [
        ("../outside.docx", 'template "../outside.docx" must be a relative path inside'),
        ("templates/../../outside.docx", "must be a relative path inside"),
        ("/etc/passwd", 'template "/etc/passwd" must be a relative path inside'),
        ("templates/agency/missing.docx", 'template "templates/agency/missing.docx": file not'),
        ("templates/agency/notes.txt", 'template "templates/agency/notes.txt" must be one of'),
    ],
)
def test_a_template_outside_the_pack_missing_or_of_another_kind_is_refused(
    db, media, tmp_path, template, problem
):
    (tmp_path / "outside.docx").write_bytes(TEMPLATE_BYTES)
    source = tmp_path / "packs"
    source.mkdir()
    (source / "templates" / "agency").mkdir(parents=True)
    (source / "templates" / "agency" / "notes.txt").write_text("x")
    path = write_pack(source, pack_text(template=template, kinds=["agency"]))
    with pytest.raises(PackError) as exc:
        load_pack(path)
    assert exc.value.path == "programs[0].materials[0].template"
    assert problem in exc.value.problem and str(path) in str(exc.value)
    assert not Program.objects.filter(code="conference_agency").exists()
    assert stored(media) == []


def test_a_template_whose_content_is_not_its_extension_is_refused(db, media, tmp_path):
    path = write_pack(tmp_path, pack_text(kinds=["agency"]), b"plain text, not a docx")
    with pytest.raises(PackError) as exc:
        load_pack(path)
    assert exc.value.path == "programs[0].materials[0].template"
    assert "conference.docx" in exc.value.problem and stored(media) == []


def test_a_good_template_is_stored_once_and_a_changed_one_makes_a_new_version(db, media, tmp_path):
    path = write_pack(tmp_path, pack_text(kinds=["agency"]), TEMPLATE_BYTES)
    load_pack(path)
    program = Program.objects.get(code="conference_agency")
    spec = program.definition["materials"][0]
    digest = hashlib.sha256(TEMPLATE_BYTES).hexdigest()
    assert spec["formats"] == ["pdf"]
    assert spec["template"] == {
        "name": "conference.docx",
        "file": f"templates/{digest}.docx",
        "sha256": digest,
        "size": len(TEMPLATE_BYTES),
    }
    with default_storage.open(spec["template"]["file"], "rb") as handle:
        assert handle.read() == TEMPLATE_BYTES
    assert "formats" not in program.definition["materials"][1]  # undeclared keys stay out

    assert load_pack(path).unchanged == ["conference_agency"]
    assert stored(media) == [f"templates/{digest}.docx"]

    second = _changed_docx()
    (tmp_path / TEMPLATE).write_bytes(second)
    assert load_pack(path).updated == ["conference_agency"]
    program.refresh_from_db()
    assert program.current_version.number == 2
    first = program.versions.get(number=1).definition["materials"][0]["template"]
    assert first["sha256"] == digest  # the older version keeps the template it had
    with default_storage.open(first["file"], "rb") as handle:
        assert handle.read() == TEMPLATE_BYTES
    new = program.definition["materials"][0]["template"]
    assert new["sha256"] == hashlib.sha256(second).hexdigest()


def _changed_docx() -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", "<w:document>会议补贴申请表（2026版）</w:document>")
    return buf.getvalue()


# --- the blank form ------------------------------------------------------------------------


def test_the_blank_form_downloads_byte_identical_with_its_name_for_any_logged_in_user(
    client, city, pack
):
    url = reverse("applications:template", args=["conference_agency", "conference_form"])
    response = client.get(url)
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]

    client.force_login(city.applicant)  # a person may read an agency program's form too
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == TEMPLATE_BYTES
    assert "attachment" in response["Content-Disposition"]
    assert "conference.docx" in response["Content-Disposition"]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["X-Content-Type-Options"] == "nosniff"

    for code, material_type in [
        ("conference_agency", "other_proof"),  # a material without a template
        ("conference_agency", "no_such_material"),
        ("no_such_program", "conference_form"),
    ]:
        url = reverse("applications:template", args=[code, material_type])
        assert client.get(url).status_code == 404


def test_the_entry_page_and_the_form_offer_the_blank_form_and_say_what_to_upload(
    client, city, pack
):
    client.force_login(city.applicant)
    link = reverse("applications:template", args=["conference_person", "conference_form"])
    page = client.get(reverse("applications:programs")).content.decode()
    assert link in page and "下载申报表：conference.docx" in page
    page = client.get(new_url()).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert link in page and "下载申报表：conference.docx" in page
    assert "上传pdf格式文件，大小控制在20 MB以内" in page
    assert 'name="upload_conference_form"' in page and 'accept=".pdf"' in page


# --- uploads from the form -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("会议申请表.docx", ooxml_bytes("word"), "“会议补贴申请表”只能上传pdf格式的文件"),
        ("会议申请表.pdf", text_renamed_pdf(), "与扩展名 .pdf 不符"),
    ],
)
def test_a_file_of_the_wrong_format_is_refused_and_nothing_is_stored(
    client, city, pack, media, name, content, message
):
    client.force_login(city.applicant)
    before = stored(media)
    response = client.post(
        new_url(),
        {
            "venue": "东城区会展中心",
            "attendees": "120",
            "upload_conference_form": SimpleUploadedFile(name, content),
            # a good file for another material is not stored either
            "upload_other_proof": SimpleUploadedFile("证明.pdf", pdf_bytes()),
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and name in page
    assert 'value="东城区会展中心"' in page and 'value="120"' in page  # what was typed stays
    assert not Material.objects.filter(
        owner=city.applicant, material_type__in=["conference_form", "other_proof"]
    ).exists()
    assert not Application.objects.filter(applicant=city.applicant).exists()
    assert stored(media) == before


def test_an_oversized_pdf_is_refused_and_a_saved_draft_is_not_changed(
    client, city, pack, media, settings
):
    client.force_login(city.applicant)
    client.post(new_url(), {"venue": "东城区会展中心"})
    app = Application.objects.get(applicant=city.applicant)
    version, materials_before, before = app.version, Material.objects.count(), stored(media)

    settings.RENCAI_MAX_UPLOAD_BYTES = 1024 * 1024
    big = pdf_bytes() + b"%" + bytes(1024 * 1024)
    response = client.post(
        reverse("applications:detail", args=[app.pk]),
        {
            "version": version,
            "venue": "西城区会展中心",
            "upload_conference_form": SimpleUploadedFile("会议申请表.pdf", big),
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "文件“会议申请表.pdf”大小为" in page and "超过了 1 MB 的上限" in page
    assert "上传pdf格式文件，大小控制在1 MB以内" in page  # the hint follows the setting
    app.refresh_from_db()
    assert app.version == version and app.data == {"venue": "东城区会展中心"}
    assert Material.objects.count() == materials_before and stored(media) == before


@pytest.mark.parametrize("kind", KINDS)
def test_a_good_pdf_from_the_form_joins_the_library_and_is_attached(
    client, city, pack, media, kind
):
    user = applicant_of(kind, city)
    client.force_login(user)
    content = pdf_bytes() + "会议补贴申请表".encode()
    response = client.post(
        new_url(kind),
        {
            "venue": "东城区会展中心",
            "upload_conference_form": SimpleUploadedFile("会议申请表.pdf", content),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    app = Application.objects.get(applicant=user)
    material = Material.objects.get(owner=user, material_type="conference_form")
    assert material.original_name == "会议申请表.pdf" and material.size == len(content)
    assert list(app.attachments.values_list("material_type", "material")) == [
        ("conference_form", material.pk)
    ]
    with default_storage.open(material.file.name, "rb") as handle:
        assert handle.read() == content
    # it is in the library (材料管理), and the application shows it
    assert "会议申请表.pdf" in client.get(reverse("profiles:materials")).content.decode()
    served = client.get(reverse("profiles:material_file", args=[material.pk]))
    assert b"".join(served.streaming_content) == content
    assert "会议申请表.pdf" in client.get(response["Location"]).content.decode()

    # saving again with a second file and the first one ticked attaches both
    response = client.post(
        response["Location"],
        {
            "version": Application.objects.get(pk=app.pk).version,
            "venue": "东城区会展中心",
            "material_conference_form": [str(material.pk)],
            "upload_conference_form": SimpleUploadedFile("补充.pdf", pdf_bytes()),
        },
    )
    assert response.status_code == 302
    names = sorted(app.attachments.values_list("material__original_name", flat=True))
    assert names == ["会议申请表.pdf", "补充.pdf"]
    assert t.rules.material_formats(Application.objects.get(pk=app.pk))[0] is True


def test_a_failure_after_the_files_were_stored_removes_them(city, pack, media, monkeypatch):
    before, materials_before = stored(media), Material.objects.count()

    def broken(app, reason):
        raise RuntimeError("disk full")

    monkeypatch.setattr(t, "_snapshot", broken)
    with pytest.raises(RuntimeError):
        t.draft_save(
            actor=city.applicant,
            program=Program.objects.get(code="conference_person"),
            data={"venue": "东城区会展中心"},
            materials={},
            uploads={
                "conference_form": [SimpleUploadedFile("会议申请表.pdf", pdf_bytes())],
                "other_proof": [SimpleUploadedFile("证明.pdf", pdf_bytes())],
            },
        )
    assert Material.objects.count() == materials_before
    assert not Application.objects.filter(applicant=city.applicant).exists()
    assert stored(media) == before


def test_the_service_refuses_a_bad_file_even_without_the_form(city, pack, media):
    before = stored(media)
    with pytest.raises(ServiceError, match="只能上传pdf格式") as exc:
        t.draft_save(
            actor=city.applicant,
            program=Program.objects.get(code="conference_person"),
            data={},
            uploads={"conference_form": [SimpleUploadedFile("x.png", image_bytes("PNG"))]},
        )
    assert exc.value.field == "upload_conference_form"
    assert stored(media) == before and not Application.objects.exists()


# --- submission ----------------------------------------------------------------------------


def test_a_library_file_of_another_format_fails_the_precheck_at_submission(
    client, city, pack, media
):
    user = city.employer_admin
    scan = material_upload(
        user,
        "conference_form",
        SimpleUploadedFile("申请表扫描.jpg", image_bytes("JPEG")),
        types={"conference_form": "会议补贴申请表"},
    )
    app = t.draft_save(
        actor=user,
        program=Program.objects.get(code="conference_employer"),
        data={"venue": "东城区会展中心"},
        materials={"conference_form": [scan.pk]},
    )
    with pytest.raises(ServiceError) as exc:
        t.submit(actor=user, application=app, commitment_accepted=True)
    assert "材料格式" in exc.value.message
    assert "会议补贴申请表须为pdf格式，“申请表扫描.jpg”不是" in exc.value.message
    assert Application.objects.get(pk=app.pk).state == Application.State.DRAFT

    client.force_login(user)
    page = client.get(reverse("applications:check", args=[app.pk])).content.decode()
    assert "材料格式不符合要求" in page and "申请表扫描.jpg" in page

    # the PDF uploaded from the form instead passes the format check and is submitted
    t.draft_save(
        actor=user,
        application=Application.objects.get(pk=app.pk),
        data={"venue": "东城区会展中心"},
        materials={},
        uploads={"conference_form": [SimpleUploadedFile("申请表.pdf", pdf_bytes())]},
    )
    app = t.submit(actor=user, application=app, commitment_accepted=True)
    assert app.state == Application.State.SUBMITTED


# --- bad input ------------------------------------------------------------------------------


def test_the_blank_form_of_an_inactive_program_or_an_odd_material_type_is_a_404(client, city, pack):
    client.force_login(city.applicant)
    url = reverse("applications:template", args=["conference_agency", "conference_form"])
    Program.objects.filter(code="conference_agency").update(active=False)
    assert client.get(url).status_code == 404
    base = reverse("applications:template", args=["conference_person", "conference_form"])
    base = base.rsplit("conference_form/", 1)[0]
    for odd in ["a%00b", "%E4%B8%AD%E6%96%87", "..%2F..%2Fetc", "conference_form.docx", "x" * 3000]:
        assert client.get(f"{base}{odd}/").status_code == 404, odd


def test_text_posted_in_an_upload_field_is_refused_with_a_message(client, city, pack, media):
    client.force_login(city.applicant)
    before = stored(media)
    response = client.post(
        new_url(), {"venue": "东城区会展中心", "upload_conference_form": "not a file"}
    )
    assert response.status_code == 200
    assert "“会议补贴申请表”收到的不是文件" in response.content.decode()
    assert not Application.objects.exists() and stored(media) == before


def test_too_many_files_in_one_upload_field_are_refused_and_none_is_stored(
    client, city, pack, media
):
    client.force_login(city.applicant)
    before = stored(media)
    files = [SimpleUploadedFile(f"申请表{i}.pdf", pdf_bytes()) for i in range(50)]
    response = client.post(new_url(), {"venue": "东城区会展中心", "upload_conference_form": files})
    assert response.status_code == 200
    page = response.content.decode()
    assert f"“会议补贴申请表”一次最多上传{MAX_FILES_PER_TYPE}个文件，本次选择了50个" in page
    assert not Material.objects.exists() and stored(media) == before

    # the service refuses them too, whoever calls it
    with pytest.raises(ServiceError, match="一次最多上传") as exc:
        t.draft_save(
            actor=city.applicant,
            program=Program.objects.get(code="conference_person"),
            data={},
            uploads={"conference_form": files},
        )
    assert exc.value.field == "upload_conference_form"
    with pytest.raises(ServiceError, match="收到的不是文件"):
        t.draft_save(
            actor=city.applicant,
            program=Program.objects.get(code="conference_person"),
            data={},
            uploads={"conference_form": ["not a file"]},
        )
    assert not Application.objects.exists() and stored(media) == before


@pytest.mark.parametrize(
    "filename, message",
    [
        (b"a\x00b.pdf", "含有不可见的控制字符"),
        (b"../../etc/passwd.pdf", "带有路径"),
        (b"C:\\x\\..\\y.pdf", "带有路径"),
        (b"x" * 500 + b".pdf", "文件名过长（504 个字，最多 100 个字）"),
    ],
)
def test_odd_file_names_are_refused_and_nothing_is_stored(
    client, city, pack, media, filename, message
):
    """A browser sends the bare name of the chosen file; a path, a NUL or 500 characters come
    from a crafted request, and are refused (issue 8) rather than quietly cut down."""
    client.force_login(city.applicant)
    before = stored(media)
    body = (
        b'--B\r\nContent-Disposition: form-data; name="venue"\r\n\r\nx\r\n'
        b'--B\r\nContent-Disposition: form-data; name="upload_conference_form"; '
        b'filename="'
        + filename
        + b'"\r\nContent-Type: application/pdf\r\n\r\n'
        + pdf_bytes()
        + b"\r\n--B--\r\n"
    )
    response = client.generic(
        "POST", new_url(), body, content_type="multipart/form-data; boundary=B"
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Material.objects.filter(owner=city.applicant, material_type="conference_form")
    assert not Application.objects.filter(applicant=city.applicant).exists()
    assert stored(media) == before
