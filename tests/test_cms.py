"""The public portal's content (F54): 政策指南, 公示公告, 招聘信息 and 资料下载, edited in the
admin (every change audited) and read by anyone; drafts and future-dated items are 404."""

import datetime
import io
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse
from django.utils import timezone

from rencai.audit.models import AuditEntry
from rencai.cms.demo import demo_pdf_bytes, demo_xlsx_bytes, load_demo_cms
from rencai.cms.models import Article, Download

K = Article.Kind


@pytest.fixture
def media(settings, tmp_path):
    # The default storage names its own location (rencai.settings), so MEDIA_ROOT alone
    # would leave the files under var/media: point the storage itself at tmp.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(settings.MEDIA_ROOT)},
        },
    }
    return settings.MEDIA_ROOT


def article(kind=K.POLICY_GUIDE, title="生活补贴申领指南", **kwargs):
    defaults = {
        "summary": "按月申请生活补贴。",
        "body": "第一段。\n\n第二段。",
        "published": True,
        "published_at": timezone.now() - datetime.timedelta(days=1),
    }
    return Article.objects.create(kind=kind, title=title, **{**defaults, **kwargs})


def page_text(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_policy_list_puts_pinned_first_and_hides_drafts_future_and_other_kinds(client, db):
    now = timezone.now()
    article(title="较早的指南", published_at=now - datetime.timedelta(days=9), pinned=True)
    article(title="最新的指南", published_at=now - datetime.timedelta(hours=1))
    article(title="草稿指南", published=False)
    article(title="明天发布的指南", published_at=now + datetime.timedelta(days=1))
    article(K.ANNOUNCEMENT, title="一条公告")
    page = page_text(client, "/policies/")
    assert page.index("较早的指南") < page.index("最新的指南")  # pinned first
    assert "置顶" in page
    for hidden in ("草稿指南", "明天发布的指南", "一条公告"):
        assert hidden not in page
    assert page.count("<h1") == 1
    assert '<label for="q">' in page and 'id="q" name="q"' in page


def test_search_matches_title_and_summary_only_and_says_when_nothing_matches(client, db):
    article(title="人才分类认定办法", summary="A 至 F 六类")
    article(title="购房补贴", summary="F类及以上人才可以申请")
    article(title="其他指南", summary="无关", body="人才分类只在正文里")
    page = page_text(client, "/policies/", q="人才分类")
    assert "人才分类认定办法" in page and "其他指南" not in page and "购房补贴" not in page
    page = page_text(client, "/policies/", q="F类及以上")
    assert "购房补贴" in page and "人才分类认定办法" not in page
    page = page_text(client, "/policies/", q="公积金")
    assert "没有找到标题或摘要中含有“公积金”的政策指南" in page
    assert 'value="公积金"' in page and reverse("portal:match") in page


def test_lists_are_paginated_by_twenty_without_extra_queries(
    client, db, django_assert_max_num_queries
):
    now = timezone.now()
    for i in range(25):
        article(
            K.RECRUITMENT,
            title=f"招聘{i:02d}",
            published_at=now - datetime.timedelta(minutes=i + 1),
            deadline=timezone.localdate(),
        )
    with django_assert_max_num_queries(8):
        first = page_text(client, "/recruitment/")
    assert "招聘00" in first and "招聘19" in first and "招聘20" not in first
    assert "第 1 / 2 页" in first and "共 25 条" in first
    second = page_text(client, "/recruitment/", page=2)
    assert "招聘20" in second and "招聘24" in second and "招聘19" not in second


def test_empty_lists_say_so_and_point_somewhere_useful(client, db, media):
    page = page_text(client, "/policies/")
    assert "暂时还没有发布政策指南" in page and reverse("portal:match") in page
    assert "暂时还没有招聘信息" in page_text(client, "/recruitment/")
    page = page_text(client, "/downloads/")
    assert "暂时还没有可下载的资料" in page and reverse("cms:policy_list") in page


def test_detail_is_404_when_unpublished_future_or_of_another_kind(client, city):
    draft = article(published=False)
    future = article(published_at=timezone.now() + datetime.timedelta(hours=2))
    guide = article()
    client.force_login(city.admin)  # no preview, even for staff
    assert client.get(f"/policies/{draft.pk}/").status_code == 404
    assert client.get(f"/policies/{future.pk}/").status_code == 404
    assert client.get(f"/announcements/{guide.pk}/").status_code == 404
    assert client.get(f"/policies/{guide.pk}/").status_code == 200
    assert client.get("/policies/999999/").status_code == 404


def test_body_is_escaped_plain_text_in_paragraphs(client, db):
    item = article(body="<script>alert(1)</script>第一段\n第二行\n\n第二段")
    page = page_text(client, f"/policies/{item.pk}/")
    assert "<script>alert(1)" not in page
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;第一段<br>第二行</p>" in page
    assert "<p>第二段</p>" in page


def test_announcements_list_the_articles_and_reach_the_public_notices(client, db):
    article(K.ANNOUNCEMENT, title="关于平台正式运行的通知")
    page = page_text(client, "/announcements/")
    assert "关于平台正式运行的通知" in page
    assert "审核结果公示" in page and f'href="{reverse("portal:notices")}"' in page
    assert page.count("<h1") == 1 and page.index("<h1") < page.index("<h2")


def test_recruitment_shows_employer_positions_deadline_and_marks_closed_ones(client, db):
    today = timezone.localdate()
    open_one = article(
        K.RECRUITMENT,
        title="星河科技招聘",
        employer_name="示范市星河科技有限公司",
        positions="软件开发工程师（5 名）\n测试工程师（2 名）",
        contact="0999-1234567",
        deadline=today,  # the deadline day itself is still open
    )
    closed = article(
        K.RECRUITMENT,
        title="医院护士招聘",
        employer_name="示范市第一人民医院",
        deadline=today - datetime.timedelta(days=1),
    )
    page = page_text(client, "/recruitment/")
    assert "示范市星河科技有限公司" in page and today.isoformat() in page
    block = page[page.index("医院护士招聘") :]
    assert "已截止" in block
    assert "已截止" not in page[page.index("星河科技招聘") : page.index("医院护士招聘")]
    page = page_text(client, f"/recruitment/{open_one.pk}/")
    assert "<li>软件开发工程师（5 名）</li>" in page and "0999-1234567" in page
    assert "报名中" in page and "已截止" not in page
    assert "已截止" in page_text(client, f"/recruitment/{closed.pk}/")


def _stored_download(title="人才补贴申请表", name="人才补贴申请表.pdf", data=None, **kwargs):
    data = data or demo_pdf_bytes()
    item = Download(
        title=title,
        original_name=name,
        size=len(data),
        content_type="application/pdf",
        published=kwargs.pop("published", True),
        published_at=timezone.now() - datetime.timedelta(days=1),
    )
    item.file.save(name, ContentFile(data), save=False)
    item.save()
    return item, data


def test_download_is_served_as_an_attachment_with_the_original_chinese_name(client, db, media):
    item, data = _stored_download()
    assert item.file.name.startswith("downloads/") and "人才" not in item.file.name
    page = page_text(client, "/downloads/")
    assert "人才补贴申请表" in page and reverse("cms:download_file", args=[item.pk]) in page
    response = client.get(f"/downloads/{item.pk}/file/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''" + quote("人才补贴申请表.pdf")
    )


def test_unpublished_or_missing_download_is_404(client, db, media):
    draft, _ = _stored_download(published=False)
    assert client.get(f"/downloads/{draft.pk}/file/").status_code == 404
    assert "人才补贴申请表" not in page_text(client, "/downloads/")
    gone, _ = _stored_download(title="已删除的文件")
    gone.file.storage.delete(gone.file.name)
    assert client.get(f"/downloads/{gone.pk}/file/").status_code == 404


def _admin_download_post(client, upload, title="员工花名册模板"):
    return client.post(
        "/admin/cms/download/add/",
        {
            "title": title,
            "description": "",
            "file": upload,
            "published": "on",
            "published_at_0": timezone.localdate().isoformat(),
            "published_at_1": "08:00:00",
        },
    )


def test_admin_refuses_a_disguised_or_wrong_type_file_and_stores_nothing(client, city, media):
    client.force_login(city.admin)
    before = AuditEntry.objects.count()
    downloads = Download.objects.count()  # the demo city's own
    disguised = SimpleUploadedFile("申请表.pdf", b"MZ\x90\x00 this is a program")
    response = _admin_download_post(client, disguised)
    assert response.status_code == 200
    assert "内容与扩展名 .pdf 不符" in response.content.decode()
    fake_xlsx = SimpleUploadedFile("花名册.xlsx", b"PK\x03\x04 not really a workbook")
    assert "内容与扩展名 .xlsx 不符" in _admin_download_post(client, fake_xlsx).content.decode()
    png = SimpleUploadedFile("照片.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32)
    assert "格式不能发布" in _admin_download_post(client, png).content.decode()
    assert Download.objects.count() == downloads and AuditEntry.objects.count() == before
    assert not (media / "downloads").exists() or not any((media / "downloads").iterdir())


def test_admin_upload_is_stored_under_a_random_name_and_audited(
    client, city, media, django_capture_on_commit_callbacks
):
    client.force_login(city.admin)
    data = demo_xlsx_bytes()
    response = _admin_download_post(client, SimpleUploadedFile("员工花名册.xlsx", data))
    assert response.status_code == 302, response.content.decode()[:3000]
    item = Download.objects.get(original_name="员工花名册.xlsx")
    assert item.original_name == "员工花名册.xlsx" and item.size == len(data)
    assert item.content_type.endswith("spreadsheetml.sheet")
    assert item.file.name.startswith("downloads/") and item.file.name.endswith(".xlsx")
    assert "员工" not in item.file.name
    row = AuditEntry.objects.get(action="admin.add", object_type="cms.download")
    assert row.actor == city.admin and row.object_id == str(item.pk)
    # Replacing the file audits the change and removes the old file once committed.
    old_name = item.file.name
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/cms/download/{item.pk}/change/",
            {
                "title": item.title,
                "description": "请勿改动表头",
                "file": SimpleUploadedFile("申请表.pdf", demo_pdf_bytes()),
                "published": "on",
                "published_at_0": timezone.localdate().isoformat(),
                "published_at_1": "08:00:00",
            },
        )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.original_name == "申请表.pdf" and item.content_type == "application/pdf"
    assert not item.file.storage.exists(old_name) and item.file.storage.exists(item.file.name)
    assert AuditEntry.objects.filter(action="admin.change", object_type="cms.download").count()


def test_admin_article_changes_are_audited(client, city):
    client.force_login(city.admin)
    response = client.post(
        "/admin/cms/article/add/",
        {
            "kind": K.POLICY_GUIDE,
            "title": "人才公寓申请指南",
            "summary": "",
            "body": "F类及以上可以申请。",
            "source": "示范市人才工作领导小组办公室",
            "published": "on",
            "published_at_0": timezone.localdate().isoformat(),
            "published_at_1": "00:00:00",
            "employer_name": "",
            "positions": "",
            "contact": "",
            "deadline": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    item = Article.objects.latest("id")
    row = AuditEntry.objects.get(action="admin.add", object_type="cms.article")
    assert row.object_id == str(item.pk) and row.summary["after"]["title"] == "人才公寓申请指南"
    assert client.get("/admin/cms/article/?kind=policy_guide&q=公寓").status_code == 200


def test_outsider_cannot_open_the_content_admin(client, city):
    client.force_login(city.applicant)
    response = client.get("/admin/cms/article/add/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_top_navigation_links_the_four_sections(client, db):
    page = page_text(client, "/")
    nav = page[page.index('<nav class="top-nav"') : page.index("</nav>")]
    for label, name in [
        ("政策指南", "cms:policy_list"),
        ("公示公告", "cms:announcement_list"),
        ("招聘信息", "cms:recruitment_list"),
        ("资料下载", "cms:download_list"),
        ("政策匹配", "portal:match"),
    ]:
        assert f'<a href="{reverse(name)}">{label}</a>' in nav


def test_policy_match_still_belongs_to_the_portal(client, db):
    assert resolve("/policies/match/").view_name == "portal:match"
    assert resolve("/policies/3/").view_name == "cms:policy_detail"
    assert client.get("/policies/match/").status_code == 200


def test_demo_content_loads_twice_without_duplicates_and_its_files_pass_the_check(
    client, db, media
):
    assert load_demo_cms() == (7, 2)
    assert load_demo_cms() == (7, 2)
    assert Article.objects.filter(kind=K.POLICY_GUIDE).count() == 3
    assert Article.objects.filter(kind=K.ANNOUNCEMENT).count() == 2
    assert Article.objects.filter(kind=K.RECRUITMENT).count() == 2
    assert Download.objects.count() == 2
    assert "已截止" in page_text(client, "/recruitment/")
    for item in Download.objects.all():
        response = client.get(f"/downloads/{item.pk}/file/")
        body = b"".join(response.streaming_content)
        assert len(body) == item.size
        assert body.startswith(b"%PDF-" if item.extension == "pdf" else b"PK\x03\x04")
    from openpyxl import load_workbook

    sheet = Download.objects.get(original_name__endswith=".xlsx")
    with sheet.file.open("rb") as handle:
        book = load_workbook(io.BytesIO(handle.read()))
    assert book.active["B1"].value == "姓名"


# --- list pages: the query count does not grow with the rows ---------------------------


def _grow(kind, n):
    now = timezone.now()
    if kind == "download":
        for i in range(Download.objects.count(), n):
            _stored_download(title=f"资料{i:02d}", name=f"资料{i:02d}.pdf", data=b"%PDF-1.4 x")
        return
    for i in range(Article.objects.filter(kind=kind).count(), n):
        article(
            kind,
            title=f"文章{i:02d}",
            published_at=now - datetime.timedelta(minutes=i + 1),
            pinned=i % 4 == 0,
            deadline=timezone.localdate() - datetime.timedelta(days=i % 2),
        )


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("/policies/", K.POLICY_GUIDE),
        ("/announcements/", K.ANNOUNCEMENT),
        ("/recruitment/", K.RECRUITMENT),
        ("/downloads/", "download"),
    ],
)
def test_list_pages_take_the_same_queries_for_3_or_15_rows(
    client, db, media, url, kind, django_assert_max_num_queries
):
    counts = []
    for n in (3, 15):
        _grow(kind, n)
        client.get(url)
        with django_assert_max_num_queries(6) as captured:
            page = page_text(client, url)
        counts.append(len(captured))
        assert f"共 {n} 条" in page
    assert counts[0] == counts[1], counts


# --- bad input: a clear page, never a 500 ----------------------------------------------


@pytest.mark.parametrize(
    "q", ["\x00", "人才\x00分类", "\x1b[31m", "人" * 500, "%", "_", "' OR 1=1 --"]
)
def test_any_search_text_gives_a_page(client, db, q):
    article(title="人才分类认定办法")
    response = client.get("/policies/", {"q": q})
    assert response.status_code == 200
    page = response.content.decode()
    assert "\x00" not in page
    if q == "人才\x00分类":  # the NUL is dropped, the words still match
        assert "人才分类认定办法" in page
    elif q == "人" * 500:
        assert 'value="' + "人" * 100 + '"' in page


def test_search_text_keeps_printable_words_only():
    from rencai.params import search_text

    assert search_text("  生活\x00补贴\t申领\n ") == "生活补贴 申领"
    assert search_text(None) == ""
    assert len(search_text("长" * 300)) == 100


@pytest.mark.parametrize("junk", ["abc", "²", "0", "-1", "99999999999999999999", "\x00"])
def test_junk_page_numbers_show_a_page(client, db, media, junk):
    article(K.RECRUITMENT, title="招聘")
    for url in ("/policies/", "/recruitment/", "/downloads/", "/announcements/"):
        assert client.get(url, {"page": junk}).status_code == 200, (url, junk)
    assert client.get("/recruitment/99999999999999999999/").status_code == 404
    assert client.get("/downloads/99999999999999999999/file/").status_code == 404


def test_a_bulk_delete_in_the_admin_is_audited_row_by_row(client, city, media):
    first, second = article(title="甲"), article(title="乙")
    client.force_login(city.admin)
    response = client.post(
        "/admin/cms/article/",
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Article.objects.filter(pk__in=[first.pk, second.pk]).exists()
    rows = AuditEntry.objects.filter(action="admin.delete", object_type="cms.article")
    assert sorted(rows.values_list("object_id", flat=True)) == sorted(
        [str(first.pk), str(second.pk)]
    )
