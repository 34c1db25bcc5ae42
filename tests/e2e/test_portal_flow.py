"""The public portal's content walked in Chromium (F54), as a visitor who is not logged
in: 政策指南 searched by a word (``q``) and one guide read; 招聘信息 with the expired
notice marked 已截止 and the open one 报名中; a file from 资料下载 saved through the
browser's own download, byte for byte the stored file under its Chinese name. The demo
city's own content; axe-core on every page."""

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from rencai.cms.models import Article, Download
from tests.e2e.conftest import check_a11y
from tests.e2e.test_application_flow import shot

pytestmark = pytest.mark.e2e


def test_a_visitor_searches_guides_reads_recruitment_and_downloads_a_form(page, url, e2e_city):
    nav = page.get_by_role("navigation", name="主导航")
    page.goto(url("/"))

    # 政策指南: search by a word of one guide's title, then read it
    nav.get_by_role("link", name="政策指南").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("政策指南")
    check_a11y(page, "/policies/")
    page.get_by_label("关键词").fill("生活补助")
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(re.compile(r"/policies/\?q=%E7%94%9F%E6%B4%BB"))
    results = page.locator("ul.article-list > li")
    expect(results).to_have_count(1)
    expect(results).to_contain_text("高校毕业生生活补助申领指南")
    expect(page.locator("main")).not_to_contain_text("人才分类认定办法")
    expect(page.get_by_label("关键词")).to_have_value("生活补助")
    check_a11y(page, "/policies/?q=生活补助")
    page.get_by_role("link", name="高校毕业生生活补助申领指南").click()
    guide = Article.objects.get(title="高校毕业生生活补助申领指南")
    expect(page).to_have_url(url(f"/policies/{guide.pk}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("高校毕业生生活补助申领指南")
    expect(page.locator(".article-body")).to_contain_text("本科每月 500 元")
    check_a11y(page, "/policies/<pk>/")
    shot(page, "portal-policy-guide")

    # 招聘信息: the expired notice says 已截止, the open one 报名中
    nav.get_by_role("link", name="招聘信息").click()
    expired = Article.objects.get(kind="recruitment", deadline__lt=timezone.localdate())
    still_open = Article.objects.get(kind="recruitment", deadline__gte=timezone.localdate())
    expired_item = page.locator("ul.article-list > li", has_text=expired.title)
    expect(expired_item.locator(".badge")).to_have_text("已截止")
    expect(page.locator("ul.article-list > li", has_text=still_open.title)).to_contain_text(
        "报名中"
    )
    check_a11y(page, "/recruitment/")
    expired_item.get_by_role("link", name=expired.title).click()
    expect(page.locator("dl.facts")).to_contain_text("已截止")
    expect(page.locator("dl.facts")).to_contain_text(expired.deadline.isoformat())
    check_a11y(page, "/recruitment/<pk>/")

    # 资料下载: the browser's download is the stored file, under its original name
    nav.get_by_role("link", name="资料下载").click()
    item = Download.objects.get(title="人才补贴申请表（示范）")
    row = page.locator("li.download-item", has_text=item.title)
    expect(row).to_contain_text("PDF")
    check_a11y(page, "/downloads/")
    shot(page, "portal-downloads")
    with page.expect_download() as info:
        row.get_by_role("link", name=re.compile("^立即下载")).click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename == item.original_name == "人才补贴申请表.pdf"
    with item.file.open("rb") as stored:
        assert Path(download.path()).read_bytes() == stored.read()
    assert item.size == Path(download.path()).stat().st_size


def test_a_mistyped_address_and_another_persons_application_show_the_same_chinese_page(
    page, url, e2e_city
):
    """The error page (rencai.portal.errors): a visitor who mistypes an address reads in
    Chinese what happened and goes home by its button; an applicant who opens another
    person's application gets the very same page, nothing of the application in it."""
    from rencai.accounts.models import User
    from rencai.applications.models import Application
    from rencai.programs.models import Program
    from tests.conftest import PASSWORD
    from tests.e2e.conftest import password_login

    response = page.goto(url("/polices/"))  # 政策指南 mistyped
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    expect(page.locator("main")).to_contain_text("请检查地址，或从首页重新进入")
    check_a11y(page, "/polices/ (404)")
    page.get_by_role("link", name="返回首页").click()
    expect(page).to_have_url(url("/"))

    program = Program.objects.get(code="grad_living")
    other = User.objects.create_user(
        username="li_si", password=PASSWORD, kind=User.Kind.PERSON, real_name="李四"
    )
    theirs = Application.objects.create(
        program=program,
        program_version=program.current_version,
        applicant=other,
        state="draft",
        data={"explanation": "别人的申报说明"},
    )
    password_login(page, url, e2e_city.applicant.id_number, PASSWORD)
    expect(page).to_have_url(url("/accounts/me/"))
    missing = page.goto(url("/applications/999999/"))
    missing_text = page.locator("main").inner_text()
    foreign = page.goto(url(f"/applications/{theirs.pk}/"))
    assert missing.status == foreign.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
    assert page.locator("main").inner_text() == missing_text
    expect(page.locator("body")).not_to_contain_text("别人的申报说明")
