"""Hostile uploads (issue 8, part 4) and storage faults (part 8).

Every case of the corpus (tests/security/upload_corpus.py) goes through the pages people
use, as raw multipart requests so that names reach the server exactly as a crafted client
sends them: the materials page (upload and upload again), the application form, and the
admin's pages for 资料下载 and housing pictures, which share the checker. Each must be
refused with its Chinese message, leaving no row and no file. Real documents and pictures
still pass. The per-person quota, and a storage that fails during or after the write,
leave nothing half-written either."""

import errno
import html
import os
import re
import threading
import zlib

import pytest
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rencai.accounts.models import User
from rencai.applications.models import Application
from rencai.audit.models import AuditEntry
from rencai.cms.files import DOWNLOAD_EXTENSIONS
from rencai.cms.models import Download
from rencai.errors import ServiceError
from rencai.housing.models import HousingPicture
from rencai.housing.pictures import PICTURE_EXTENSIONS
from rencai.profiles import filecheck, services
from rencai.profiles.materials import check_upload, size_text
from rencai.profiles.models import Material
from tests import test_material_formats, test_materials
from tests.security.upload_corpus import (
    BOMB_BYTES,
    CORPUS_UPLOAD_LIMIT,
    harmless_files,
    honest_bomb,
    hostile_corpus,
    lying_bomb,
    pdf,
)
from tests.test_housing import small_community, without_demo_housing
from tests.test_material_formats import new_url

media = test_materials.media  # the temporary MEDIA_ROOT fixture, shared
pack = test_material_formats.pack  # a program whose form takes uploads

CORPUS = hostile_corpus()
BOUNDARY = "RencaiHostileCorpusBoundary7MA4YWxkTrZu0gW"


# --------------------------------------------------------------------------- helpers


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> bytes:
    """A multipart body written by hand: the file name goes out byte for byte (the test
    client would cut it to its last path component first)."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    for field, filename, content in files:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="'.encode()
            + filename.encode("utf-8")
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
            + content
            + b"\r\n"
        )
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def post_files(client, url, fields, files):
    return client.generic(
        "POST",
        url,
        multipart(fields, files),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def stored(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def material_files(root) -> list[str]:
    return [name for name in stored(root) if name.startswith("materials/")]


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def shows_refusal(response, case) -> str | None:
    """None when the response is the form again with the case's message; else what is wrong."""
    if response.status_code != 200:
        return f"{case.name}: status {response.status_code}"
    text = page_text(response)
    if case.message not in text:
        found = re.findall(r"文件[^<]{0,120}", text)
        return f"{case.name}: no “{case.message}” on the page; saw {found[:3]}"
    if "<img src=x" in response.content.decode():
        return f"{case.name}: the name was put into the page unescaped"
    return None


class Tally:
    """Counts for the issue's table: every case tried, refused, or stored by mistake."""

    def __init__(self, security_counts):
        self.counts = security_counts("uploads")
        self.problems: list[str] = []

    def record(self, case, problem: str | None, stored_by_mistake: bool) -> None:
        self.counts.add("files tried")
        self.counts.add("stored by mistake", int(stored_by_mistake))
        if problem is None and not stored_by_mistake:
            self.counts.add("files refused")
        else:
            self.problems.append(problem or f"{case.name}: stored by mistake")

    def check(self) -> None:
        assert not self.problems, "\n".join(self.problems)


@pytest.fixture
def limits(settings):
    settings.RENCAI_MAX_UPLOAD_BYTES = CORPUS_UPLOAD_LIMIT  # the corpus's oversized file
    return settings


@pytest.fixture
def tally(security_counts):
    return Tally(security_counts)


@pytest.fixture
def person(db):
    """An approved person of our own: enough for the materials pages, and much quicker than
    loading the demo city for the tests that need no program."""
    return User.objects.create_user(
        username="upload_person",
        password="Rencai@Demo2026",
        kind=User.Kind.PERSON,
        real_name="王上传",
        registration_status=User.RegistrationStatus.APPROVED,
    )


# --------------------------------------------------------------------------- the corpus


def test_the_corpus_has_at_least_30_named_cases_with_reasons():
    assert len(CORPUS) >= 30
    assert len({case.name for case in CORPUS}) == len(CORPUS)
    for case in CORPUS:
        assert case.why and case.message and re.search(r"[\u4e00-\u9fff]", case.message), case
    kinds = {case.name.split("_")[0] for case in CORPUS}
    assert {"pe", "elf", "macho", "shell", "html", "svg", "gifar", "pdf", "docx", "name"} <= kinds


def one_per_refusal(cases) -> list:
    """A case for each kind of refusal (each message): the subset the other paths run."""
    seen, out = set(), []
    for case in cases:
        if case.message not in seen:
            seen.add(case.message)
            out.append(case)
    return out


def test_every_hostile_file_is_refused_by_the_materials_page_and_as_a_new_version(
    media, limits, city, client, tally
):
    client.force_login(city.applicant)
    url = reverse("profiles:materials")
    before = stored(media)
    for case in CORPUS:
        response = post_files(
            client, url, {"material_type": "diploma"}, [("file", case.filename, case.content)]
        )
        problem = shows_refusal(response, case)
        if problem is None and "请修改以下内容后再提交" not in page_text(response):
            problem = f"{case.name}: no error summary"
        leaked = Material.objects.filter(owner=city.applicant).exists() or stored(media) != before
        tally.record(case, problem, leaked)
        Material.objects.filter(owner=city.applicant).delete()
    assert not AuditEntry.objects.filter(action__startswith="material.").exists()

    # 重新上传 (a new file for a material already there) runs the same checks
    original = services.material_upload(
        city.applicant, "diploma", SimpleUploadedFile("毕业证书.pdf", pdf())
    )
    url = reverse("profiles:material_replace", args=[original.pk])
    before = stored(media)
    for case in one_per_refusal(CORPUS):
        response = post_files(client, url, {}, [("file", case.filename, case.content)])
        current = Material.objects.get(pk=original.pk)
        changed = (current.file.name, current.sha256) != (original.file.name, original.sha256)
        tally.record(case, shows_refusal(response, case), changed or stored(media) != before)
    assert not AuditEntry.objects.filter(action="material.replace").exists()
    tally.check()


def test_the_application_form_refuses_one_of_each_kind(media, limits, city, pack, client, tally):
    client.force_login(city.applicant)
    cases = one_per_refusal(CORPUS)
    assert len(cases) >= 20
    before = stored(media)
    for case in cases:
        response = post_files(
            client,
            new_url("person"),
            {"venue": "东城区会展中心"},
            # 其他证明材料 has no format list of its own: every check is the materials' one
            [("upload_other_proof", case.filename, case.content)],
        )
        problem = shows_refusal(response, case)
        if problem is None and 'value="东城区会展中心"' not in response.content.decode():
            problem = f"{case.name}: what was typed is lost"
        leaked = (
            Application.objects.filter(applicant=city.applicant).exists()
            or Material.objects.filter(owner=city.applicant).exists()
            or stored(media) != before
        )
        tally.record(case, problem, leaked)
    tally.check()


def _shared_checker_cases(extensions) -> list:
    """One of each refusal the admin's narrower checks give with the materials' own
    message: files of their formats, and bad names (checked before the format)."""
    return one_per_refusal(
        case
        for case in CORPUS
        if case.extension in extensions
        or case.name.startswith("name_")
        or case.name == "double_extension"
    )


def test_the_admin_pages_for_downloads_and_housing_pictures_refuse_them_too(
    media, limits, city, client, tally
):
    client.force_login(city.admin)
    cases = _shared_checker_cases(DOWNLOAD_EXTENSIONS)
    assert len(cases) >= 15
    before, downloads = stored(media), Download.objects.count()
    for case in cases:
        response = post_files(
            client,
            "/admin/cms/download/add/",
            {
                "title": "申报表",
                "description": "",
                "published": "on",
                "published_at_0": timezone.localdate().isoformat(),
                "published_at_1": "08:00:00",
            },
            [("file", case.filename, case.content)],
        )
        leaked = Download.objects.count() != downloads or stored(media) != before
        tally.record(case, shows_refusal(response, case), leaked)

    without_demo_housing()
    community = small_community(city.dongcheng)
    unit = community.unit_types.get()
    cases = _shared_checker_cases(PICTURE_EXTENSIONS)
    assert len(cases) >= 10
    before = stored(media)
    for case in cases:
        response = post_files(
            client,
            f"/admin/housing/unittype/{unit.pk}/change/",
            {
                "community": str(community.pk),
                "name": unit.name,
                "area": "80",
                "layout": "两室",
                "vr_url": "",
                "order": "0",
                "pictures-TOTAL_FORMS": "1",
                "pictures-INITIAL_FORMS": "0",
                "pictures-MIN_NUM_FORMS": "0",
                "pictures-MAX_NUM_FORMS": "1000",
                "pictures-0-kind": "floor_plan",
                "pictures-0-caption": "户型图",
                "pictures-0-order": "0",
            },
            [("pictures-0-file", case.filename, case.content)],
        )
        leaked = HousingPicture.objects.exists() or stored(media) != before
        tally.record(case, shows_refusal(response, case), leaked)
    tally.check()


def test_real_documents_and_pictures_pass_and_names_are_read_before_csrf(media, limits, city):
    """Real files are stored under a name of our own with their names kept. The raw name
    is kept before CsrfViewMiddleware reads the form (the order of the middleware
    matters), and a form sent with no file chosen (filename="") is asked for one."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(city.applicant)
    url = reverse("profiles:materials")
    page = client.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    fields = {"csrfmiddlewaretoken": token, "material_type": "other"}
    files = harmless_files()
    for name, content in files:
        response = post_files(client, url, fields, [("file", name, content)])
        assert response.status_code == 302, (name, page_text(response)[-3000:])
        material = Material.objects.get(owner=city.applicant, original_name=name)
        assert material.size == len(content)
        assert re.fullmatch(
            rf"materials/{city.applicant.pk}/[0-9a-f]{{32}}\.\w+", material.file.name
        )
        assert (media / material.file.name).read_bytes() == content
    assert Material.objects.filter(owner=city.applicant).count() == len(files)

    response = post_files(client, url, fields, [("file", "../../etc/证书.pdf", pdf())])
    assert response.status_code == 200 and "带有路径" in page_text(response)
    response = post_files(client, url, fields, [("file", "", b"")])
    assert response.status_code == 200 and "请选择要上传的文件" in page_text(response)
    assert Material.objects.filter(owner=city.applicant).count() == len(files)


# --------------------------------------------------------------------------- zip bombs


class _CountingInflater:
    def __init__(self, real, counter: list[int]):
        self.real, self.counter = real, counter

    def decompress(self, data, max_length=0):
        out = self.real.decompress(data, max_length)
        self.counter[0] += len(out)
        return out

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_zip_bomb_is_never_inflated_past_what_it_declares(monkeypatch):
    """The bombs of the corpus unpack to 300 MB. The honest one is refused from its
    directory without inflating a byte; the one that says 1 KiB is stopped within one
    64 KiB chunk of that, at the production limits (20 MB upload, 200 MB unpacked)."""
    inflated = [0]
    real = zlib.decompressobj
    monkeypatch.setattr(
        filecheck.zlib, "decompressobj", lambda *a: _CountingInflater(real(*a), inflated)
    )
    with pytest.raises(ServiceError, match="解压后超过 200 MB") as exc:
        check_upload(SimpleUploadedFile("劳动合同.docx", honest_bomb()))
    assert exc.value.code == "zip_bomb" and inflated == [0]
    for kind in ("docx", "xlsx"):
        inflated[0] = 0
        with pytest.raises(ServiceError, match="实际大小与其声明的不符") as exc:
            check_upload(SimpleUploadedFile(f"合同.{kind}", lying_bomb(kind)))
        assert exc.value.code == "zip_bomb"
        assert 0 < inflated[0] <= 1024 + 64 * 1024 < BOMB_BYTES // 1000


# --------------------------------------------------------------------------- storage faults


def test_a_storage_that_fails_while_writing_leaves_no_row_and_no_partial_file(
    media,
    city,
    client,
    pack,
    monkeypatch,
):
    written = []

    def full_disk(self, name, content):
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:  # half the file, then the disk is full
            handle.write(content.read(40))
        written.append(path)
        raise OSError(errno.ENOSPC, "No space left on device")

    client.force_login(city.applicant)
    before = stored(media)
    monkeypatch.setattr(FileSystemStorage, "_save", full_disk)
    response = client.post(
        reverse("profiles:materials"),
        {"material_type": "diploma", "file": SimpleUploadedFile("毕业证书.pdf", pdf())},
    )
    assert response.status_code == 200
    assert "文件“毕业证书.pdf”保存失败（文件存储暂时不可用），没有保存任何内容" in page_text(
        response
    )
    assert written and stored(media) == before
    assert not Material.objects.filter(owner=city.applicant).exists()
    assert not AuditEntry.objects.filter(action__startswith="material.").exists()

    # from the application form: the message, no application, no material, no file
    response = post_files(
        client,
        new_url("person"),
        {"venue": "东城区会展中心"},
        [("upload_conference_form", "会议申请表.pdf", pdf())],
    )
    assert response.status_code == 200 and "保存失败" in page_text(response)
    assert len(written) == 2 and stored(media) == before
    assert not Application.objects.filter(applicant=city.applicant).exists()
    assert not Material.objects.filter(owner=city.applicant).exists()


def test_a_database_failure_after_the_write_removes_the_written_file(
    media, person, client, monkeypatch
):
    client.force_login(person)
    kept = services.material_upload(person, "diploma", SimpleUploadedFile("旧.pdf", pdf()))
    before = stored(media)
    assert len(material_files(media)) == 1

    def broken(**kwargs):
        raise DatabaseError("disk I/O error")

    monkeypatch.setattr(services, "audit_record", broken)
    with pytest.raises(DatabaseError):
        client.post(
            reverse("profiles:materials"),
            {"material_type": "diploma", "file": SimpleUploadedFile("新.pdf", pdf())},
        )
    assert stored(media) == before
    assert list(Material.objects.filter(owner=person)) == [kept]

    with pytest.raises(DatabaseError):  # upload again: the new file goes, the old one stays
        client.post(
            reverse("profiles:material_replace", args=[kept.pk]),
            {"file": SimpleUploadedFile("新.pdf", pdf() + b"%v2\n")},
        )
    assert stored(media) == before
    current = Material.objects.get(pk=kept.pk)
    assert (current.file.name, current.original_name) == (kept.file.name, "旧.pdf")


# --------------------------------------------------------------------------- quota


def sized_pdf(size: int) -> bytes:
    """A PDF of exactly ``size`` bytes: a comment line pads it before the trailer."""
    head, tail = pdf().split(b"trailer")
    padding = size - len(head) - len(tail) - len(b"trailer") - 2
    assert padding >= 0
    return head + b"%" + b"x" * padding + b"\n" + b"trailer" + tail


def test_the_quota_lets_a_file_up_to_the_limit_in_and_refuses_one_byte_more(
    media, settings, person, client
):
    settings.RENCAI_USER_QUOTA_BYTES = 4096
    client.force_login(person)
    url = reverse("profiles:materials")

    def upload(name, size):
        return client.post(
            url, {"material_type": "diploma", "file": SimpleUploadedFile(name, sized_pdf(size))}
        )

    assert upload("一.pdf", 2000).status_code == 302
    before = stored(media)
    response = upload("二.pdf", 2097)  # 4097 bytes in all: one over
    assert response.status_code == 200
    assert (
        f"存储空间不足：您的材料已占用 {size_text(2000)}，上限为 {size_text(4096)}，"
        f"再保存“二.pdf”（{size_text(2097)}）将超出上限，未保存。" in page_text(response)
    )
    assert stored(media) == before
    assert Material.objects.filter(owner=person).count() == 1
    assert upload("二.pdf", 2096).status_code == 302  # 4096: exactly the quota
    assert Material.objects.filter(owner=person).count() == 2

    # the service refuses it whoever calls it (the application form, the agency's indicators)
    settings.RENCAI_USER_QUOTA_BYTES = 4096 + 399
    with pytest.raises(ServiceError, match="存储空间不足") as exc:
        services.material_upload(person, "diploma", SimpleUploadedFile("三.pdf", sized_pdf(400)))
    assert exc.value.code == "quota" and len(material_files(media)) == 2


def test_uploading_again_counts_only_the_difference(
    media, settings, person, client, django_capture_on_commit_callbacks
):
    settings.RENCAI_USER_QUOTA_BYTES = 4096
    client.force_login(person)
    first = services.material_upload(
        person, "diploma", SimpleUploadedFile("一.pdf", sized_pdf(2000))
    )
    services.material_upload(person, "degree", SimpleUploadedFile("二.pdf", sized_pdf(2096)))
    url = reverse("profiles:material_replace", args=[first.pk])

    def replace(size):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, {"file": SimpleUploadedFile("一（新）.pdf", sized_pdf(size))})

    assert replace(2000).status_code == 302  # same size at the full quota: allowed
    before = stored(media)
    response = replace(2001)
    assert response.status_code == 200 and "存储空间不足" in page_text(response)
    assert stored(media) == before
    assert replace(1500).status_code == 302
    assert Material.objects.get(pk=first.pk).size == 1500 and len(material_files(media)) == 2
    assert replace(2000).status_code == 302  # back to exactly the quota


def test_two_uploads_at_once_cannot_both_pass_the_quota(
    transactional_db, settings, tmp_path, monkeypatch
):
    """Both pass the early check and both write their file; the lock on the person's row
    makes the second count the first's row, so exactly one is kept, and its file only."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    settings.RENCAI_USER_QUOTA_BYTES = 3000
    person = User.objects.create_user(
        username="quota_person", password="x", kind=User.Kind.PERSON, real_name="配额"
    )
    both_written = threading.Barrier(2, timeout=20)
    store = services._store_file

    def store_then_wait(*args):
        name = store(*args)
        both_written.wait()
        return name

    monkeypatch.setattr(services, "_store_file", store_then_wait)
    outcomes = []

    def upload(i):
        try:
            services.material_upload(
                person, "diploma", SimpleUploadedFile(f"{i}.pdf", sized_pdf(2000))
            )
            outcomes.append("ok")
        except ServiceError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok", "quota"]
    material = Material.objects.get(owner=person)
    assert stored(root) == [material.file.name]
