"""The 人才驿站 walked in Chromium (F51): a visitor looks at the station list and page
(pictures that really load, the room types); an approved station application has booked
a stay through the engine; the talent office's reviewer ``talent_reviewer`` finds it on
the booking desk from the workbench, checks the guest in and out, each after the page's
confirmation, and the booking's state, time stamps, officer and audit rows follow.
axe-core on every page."""

import re

import pytest
from playwright.sync_api import expect

from rencai.accounts.models import User
from rencai.applications import transitions as t
from rencai.audit.models import AuditEntry
from rencai.housing.models import Station, StationBooking
from rencai.programs.models import Program
from tests.conftest import PASSWORD, prepare_applicant
from tests.e2e.conftest import check_a11y, log_out, password_login
from tests.e2e.test_application_flow import shot

pytestmark = pytest.mark.e2e

STATION = "江南园林景观酒店"

# every <img> in the element has finished loading and decoded to a real picture
_IMAGES_LOADED = "els => els.length > 0 && els.every(i => i.complete && i.naturalWidth > 0)"
_LOAD = "i => i.complete ? true : new Promise(done => { i.onload = i.onerror = done; })"


def assert_images_loaded(locator):
    """Wait for each (lazy) picture to load, then check it decoded to a real picture."""
    for image in locator.element_handles():
        image.scroll_into_view_if_needed()
        image.evaluate(_LOAD)
    assert locator.evaluate_all(_IMAGES_LOADED)


def approved_station_stay(city) -> StationBooking:
    """As tests/test_talent.py does: the demo applicant applies for a stay, the talent
    office approves, the engine books it."""
    person = prepare_applicant(city.applicant)
    station = Station.objects.get(name=STATION)
    app = t.draft_save(
        actor=person,
        program=Program.objects.get(code="talent_station"),
        data={"station": str(station.pk), "date_from": "2026-12-01", "date_to": "2026-12-05"},
    )
    app = t.submit(actor=person, application=app, commitment_accepted=True)
    t.approve(actor=User.objects.get(username="talent_reviewer"), application=app)
    return StationBooking.objects.get(application=app)


def confirm_and_click(page, button) -> str:
    """Click a button whose form asks first (data-confirm); accept, return the question."""
    asked = []

    def accept(dialog):
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    button.click()
    expect(page.locator(".messages")).to_be_visible()
    assert asked, "the desk did not ask for a confirmation"
    return asked[0]


def test_the_booking_desk_checks_a_booked_guest_in_and_out(page, url, e2e_city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    station = Station.objects.get(name=STATION)
    booking = approved_station_stay(e2e_city)
    guest = booking.person.real_name
    assert booking.state == "booked"

    # the public list and page: the station with its picture, then its room types
    page.goto(url("/housing/stations/"))
    item = page.locator("li.housing-item", has_text=STATION)
    expect(item).to_contain_text("檀溪路176号")
    assert_images_loaded(item.locator("img"))
    check_a11y(page, "/housing/stations/")
    item.get_by_role("link", name=re.compile(rf"^查看详情\s*：\s*{STATION}$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(STATION)
    gallery = page.get_by_role("region", name="驿站图片")
    expect(gallery.locator("img")).to_have_count(2)
    expect(gallery.get_by_role("img", name="酒店外景")).to_be_visible()
    assert_images_loaded(gallery.locator("img"))
    rooms = page.get_by_role("table", name="客房")
    expect(rooms.locator("tbody tr")).to_have_count(2)
    expect(rooms.locator("tr", has_text="标准间")).to_contain_text("20")
    expect(rooms.locator("tr", has_text="大床房")).to_contain_text("一张双人床")
    expect(page.get_by_role("link", name="申请入住")).to_have_attribute(
        "href", f"/applications/programs/talent_station/new/?station={station.pk}"
    )
    check_a11y(page, "/housing/stations/<pk>/")
    shot(page, "housing-station")

    # the talent office: 工作台 → 人才安居 → 人才驿站预订
    password_login(page, url, "talent_reviewer", PASSWORD)
    page.get_by_role("link", name="工作台", exact=True).click()
    page.get_by_role("link", name=re.compile("^人才安居 分配人才公寓房间")).click()
    page.get_by_role("navigation", name="人才安居").get_by_role("link", name="人才驿站预订").click()
    row = page.locator("tbody tr", has_text=guest)
    expect(row).to_contain_text(STATION)
    expect(row).to_contain_text("2026-12-01")
    expect(row).to_contain_text("2026-12-05")
    expect(row).to_contain_text("已预订")
    expect(row.get_by_role("button", name=re.compile("办理退房"))).to_have_count(0)
    check_a11y(page, "/staff/housing/bookings/")
    shot(page, "housing-bookings")

    question = confirm_and_click(
        page, row.get_by_role("button", name=re.compile(rf"^办理入住\s*：\s*{guest}$"))
    )
    assert question == f"确认 {guest} 已入住？"
    expect(page.locator(".messages")).to_contain_text("已办理入住。")
    row = page.locator("tbody tr", has_text=guest)
    expect(row).to_contain_text("已入住")
    expect(row.get_by_role("button", name=re.compile("办理入住|取消预订"))).to_have_count(0)
    check_a11y(page, "/staff/housing/bookings/ checked in")
    booking.refresh_from_db()
    assert booking.state == "checked_in" and booking.checked_in_at is not None
    assert booking.acted_by.username == "talent_reviewer"

    question = confirm_and_click(
        page, row.get_by_role("button", name=re.compile(rf"^办理退房\s*：\s*{guest}$"))
    )
    assert question == f"确认 {guest} 已退房？"
    expect(page.locator(".messages")).to_contain_text("已办理退房。")
    # a finished stay leaves the open list; "全部" still shows it
    expect(page.locator("tbody tr", has_text=guest)).to_have_count(0)
    page.get_by_label("状态").select_option(label="全部")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("tbody tr", has_text=guest)).to_contain_text("已退房")
    check_a11y(page, "/staff/housing/bookings/?state=all")
    log_out(page)

    booking.refresh_from_db()
    assert booking.state == "checked_out"
    assert booking.checked_in_at < booking.checked_out_at and booking.cancelled_at is None
    rows = AuditEntry.objects.filter(object_type="housing.stationbooking", object_id=booking.pk)
    assert list(rows.order_by("id").values_list("action", "actor__username")) == [
        ("housing.booking_create", None),
        ("housing.booking_check_in", "talent_reviewer"),
        ("housing.booking_check_out", "talent_reviewer"),
    ]
