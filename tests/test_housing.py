"""Talent housing (F51 人才驿站, F52 人才公寓): allocating apartment rooms to approved
applications, one room to one person even under a race, station bookings, the public
catalogue with its pictures, the talent office's desks, and the admin's picture check.

Personas: ``officer`` works at the city talent office (人才办); the demo applicant and a
few more people hold approved applications; ``city.district_reviewer`` is an outsider here."""

import itertools
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from rencai.accounts.models import User
from rencai.applications.models import Application
from rencai.audit.models import AuditEntry
from rencai.errors import ServiceError
from rencai.housing import services
from rencai.housing.demo import load_demo_housing, make_png
from rencai.housing.forms import PictureAdminForm
from rencai.housing.models import (
    Allocation,
    Community,
    HousingPicture,
    Room,
    Station,
    StationBooking,
    UnitType,
)
from rencai.notifications.models import Message, SmsMessage
from rencai.orgs.models import Authority, Membership
from rencai.programs.models import Pack, Program, ProgramVersion
from tests.conftest import PASSWORD, build_city, make_id

ROOM_TAKEN = "该房间已分配给他人，请选择其他房间。"
_numbers = itertools.count(1)


# --- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return tmp_path / "media"


def talent_officer() -> User:
    officer = User.objects.create_user(
        username="talent_officer", password=PASSWORD, kind=User.Kind.STAFF, real_name="周人才"
    )
    Membership.objects.create(
        user=officer,
        authority=Authority.objects.get(kind=Authority.Kind.TALENT_OFFICE),
        role=Membership.Role.REVIEWER,
    )
    return officer


def program(code: str, housing: str | None) -> Program:
    """The demo city's own programme of that code (policies/talent.yaml), else a minimal
    one made here."""
    existing = Program.objects.filter(code=code).first()
    if existing is not None:
        assert existing.definition.get("housing") == housing
        return existing
    pack, _ = Pack.objects.get_or_create(
        code="housing-test", defaults={"name": "安居测试", "source": "test", "sha256": "0" * 64}
    )
    item = Program.objects.create(
        pack=pack,
        code=code,
        name={"apartment": "租住人才公寓", "station": "入住人才驿站"}.get(housing, "其他项目"),
        category="housing",
        category_name="安居保障",
        applicant_kind="person",
    )
    definition = {"chains": []}
    if housing:
        definition["housing"] = housing
    item.current_version = ProgramVersion.objects.create(
        program=item, number=1, definition=definition, sha256="0" * 64
    )
    item.save()
    return item


def person(i: int) -> User:
    number = make_id(f"9901021990030{i:04d}")
    return User.objects.create_user(
        username=number,
        id_number=number,
        password=PASSWORD,
        kind=User.Kind.PERSON,
        real_name=f"住户{i:02d}",
        phone=f"1390000{i:04d}",
        registration_status="approved",
    )


def application(prog: Program, applicant: User, *, state="approved", **data) -> Application:
    return Application.objects.create(
        number=f"H{next(_numbers):08d}",
        program=prog,
        program_version=prog.current_version,
        applicant=applicant,
        state=state,
        data=data,
    )


def small_community(district, rooms=(("1号楼", "1号房"), ("1号楼", "2号房"))) -> Community:
    community = Community.objects.create(name="测试小区", district=district, address="测试路1号")
    unit = UnitType.objects.create(community=community, name="A 户型", area="80", layout="两室")
    for building, number in rooms:
        Room.objects.create(community=community, unit_type=unit, building=building, number=number)
    return community


def without_demo_housing():
    """The demo city comes with stations and communities; some tests start from none."""
    HousingPicture.objects.all().delete()
    Room.objects.all().delete()
    UnitType.objects.all().delete()
    Community.objects.all().delete()
    Station.objects.all().delete()


@pytest.fixture
def housing(city):
    community = small_community(city.dongcheng)
    apartment = program("talent_apartment", "apartment")
    return {
        "officer": talent_officer(),
        "community": community,
        "rooms": list(Room.objects.filter(community=community).order_by("number")),
        "apartment": apartment,
        "station_program": program("talent_station", "station"),
        "other": program("other_thing", None),
    }


def sms_to(user) -> str:
    return "\n".join(SmsMessage.objects.filter(phone=user.phone).values_list("body", flat=True))


# --- apartments: allocation --------------------------------------------------------------


def test_allocating_a_free_room_records_audits_and_tells_the_person(city, housing):
    officer, room = housing["officer"], housing["rooms"][0]
    tenant = person(1)
    app = application(housing["apartment"], tenant, community=str(housing["community"].pk))

    allocation = services.allocate_room(actor=officer, application=app, room_id=room.pk)

    allocation.refresh_from_db()
    assert (allocation.room, allocation.person, allocation.allocated_by) == (room, tenant, officer)
    assert allocation.ended_at is None
    assert room not in services.free_rooms(housing["community"])
    assert AuditEntry.objects.filter(action="housing.allocate", object_id=str(allocation.pk))
    assert Message.objects.filter(user=tenant, title="人才公寓分配结果").exists()
    assert "测试小区1号楼1号房" in sms_to(tenant)


def test_a_taken_room_is_refused_and_nothing_changes(city, housing):
    officer, room = housing["officer"], housing["rooms"][0]
    first = application(housing["apartment"], person(1))
    second = application(housing["apartment"], person(2))
    services.allocate_room(actor=officer, application=first, room_id=room.pk)

    with pytest.raises(ServiceError) as exc:
        services.allocate_room(actor=officer, application=second, room_id=room.pk)

    assert exc.value.message == ROOM_TAKEN
    assert Allocation.objects.filter(room=room).count() == 1
    assert not Allocation.objects.filter(application=second).exists()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not_approved", "该申报尚未审核通过，不能分配房间。"),
        ("wrong_program", "该申报不是人才公寓申请，不能分配公寓房间。"),
        ("already_allocated", "该申报已分配过房间，不能重复分配。"),
    ],
)
def test_the_application_must_be_an_approved_apartment_one_without_a_room(
    city, housing, case, message
):
    officer, rooms = housing["officer"], housing["rooms"]
    if case == "not_approved":
        app = application(housing["apartment"], person(1), state="rejected")
    elif case == "wrong_program":
        app = application(housing["other"], person(1))
    else:
        app = application(housing["apartment"], person(1))
        services.allocate_room(actor=officer, application=app, room_id=rooms[0].pk)

    with pytest.raises(ServiceError) as exc:
        services.allocate_room(actor=officer, application=app, room_id=rooms[1].pk)

    assert exc.value.message == message
    assert not Allocation.objects.filter(room=rooms[1]).exists()


def test_only_the_talent_office_allocates(city, housing):
    app = application(housing["apartment"], person(1))
    for outsider in (city.district_reviewer, city.applicant):
        with pytest.raises(ServiceError) as exc:
            services.allocate_room(actor=outsider, application=app, room_id=housing["rooms"][0].pk)
        assert exc.value.code == "forbidden"
    assert not Allocation.objects.exists()


def test_ending_an_allocation_needs_a_reason_and_frees_the_room(city, housing):
    officer, room = housing["officer"], housing["rooms"][0]
    first_person = person(1)
    first = application(housing["apartment"], first_person)
    allocation = services.allocate_room(actor=officer, application=first, room_id=room.pk)

    with pytest.raises(ServiceError) as exc:
        services.allocation_end(actor=officer, allocation_id=allocation.pk, reason="  ")
    assert exc.value.field == "reason"

    services.allocation_end(actor=officer, allocation_id=allocation.pk, reason="合同到期退房")

    allocation.refresh_from_db()
    assert allocation.ended_at is not None
    assert (allocation.ended_by, allocation.end_reason) == (officer, "合同到期退房")
    assert room in services.free_rooms(housing["community"])
    assert "合同到期退房" in sms_to(first_person)
    with pytest.raises(ServiceError):
        services.allocation_end(actor=officer, allocation_id=allocation.pk, reason="再次")
    # the room goes to the next person; the history keeps both
    second = application(housing["apartment"], person(2))
    services.allocate_room(actor=officer, application=second, room_id=room.pk)
    assert Allocation.objects.filter(room=room).count() == 2
    assert services.active_allocations().get(room=room).application == second


# --- apartments: the race ----------------------------------------------------------------


def race(actions):
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait()
            action()
            outcomes[i] = "ok"
        except ServiceError as exc:
            outcomes[i] = exc.message
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    return outcomes


def test_twenty_officers_racing_for_the_last_free_room_give_it_to_exactly_one(
    transactional_db, media
):
    """Each thread has its own database connection; runs on SQLite (one writer at a time)
    and on PostgreSQL (row lock plus the partial unique index)."""
    city = build_city()
    officer = talent_officer()
    apartment = program("talent_apartment", "apartment")
    community = small_community(city.dongcheng)
    taken, last = Room.objects.filter(community=community).order_by("number")
    services.allocate_room(
        actor=officer, application=application(apartment, person(99)), room_id=taken.pk
    )
    assert list(services.free_rooms(community)) == [last]
    apps = [application(apartment, person(i)) for i in range(20)]

    outcomes = race(
        [
            lambda app=app: services.allocate_room(actor=officer, application=app, room_id=last.pk)
            for app in apps
        ]
    )

    assert outcomes.count("ok") == 1, outcomes
    assert outcomes.count(ROOM_TAKEN) == 19, outcomes
    assert Allocation.objects.filter(room=last).count() == 1
    assert services.active_allocations().count() == 2
    assert not services.free_rooms(community).exists()


# --- stations: bookings ------------------------------------------------------------------


def _station(city, **extra) -> Station:
    return Station.objects.create(
        name="江南园林景观酒店", district=city.dongcheng, address="檀溪路176号", **extra
    )


def test_an_approved_station_application_books_once(city, housing):
    station = _station(city, phone="0710-1234567")
    guest = person(1)
    app = application(
        housing["station_program"],
        guest,
        station=str(station.pk),
        date_from="2026-03-01",
        date_to="2026-03-05",
    )

    booking = services.booking_for_approved(app)
    again = services.booking_for_approved(app)

    assert again.pk == booking.pk
    assert StationBooking.objects.filter(application=app).count() == 1
    booking.refresh_from_db()
    assert (booking.station, booking.person, booking.state) == (station, guest, "booked")
    assert (str(booking.date_from), str(booking.date_to)) == ("2026-03-01", "2026-03-05")
    assert AuditEntry.objects.filter(action="housing.booking_create").count() == 1
    assert "江南园林景观酒店" in sms_to(guest)


@pytest.mark.parametrize(
    ("housing_kind", "state", "data", "message"),
    [
        (None, "approved", {}, "该申报不是人才驿站入住申请。"),
        ("station", "rejected", {}, "该申报尚未审核通过，不能预订人才驿站。"),
        ("station", "approved", {"station": "999999"}, "申报中选择的人才驿站不存在。"),
        ("station", "approved", {"date_from": "3月1日"}, "入住日期或离店日期不正确。"),
        ("station", "approved", {"date_to": "2026-02-01"}, "离店日期不能早于入住日期。"),
    ],
)
def test_a_booking_needs_an_approved_station_application_with_valid_data(
    city, housing, housing_kind, state, data, message
):
    station = _station(city)
    prog = housing["station_program"] if housing_kind else housing["other"]
    values = {"station": station.pk, "date_from": "2026-03-01", "date_to": "2026-03-05", **data}
    app = application(prog, person(1), state=state, **values)
    with pytest.raises(ServiceError) as exc:
        services.booking_for_approved(app)
    assert exc.value.message == message
    assert not StationBooking.objects.exists()


def test_booking_lifecycle_and_wrong_state_refusals(city, housing):
    officer = housing["officer"]
    station = _station(city)
    values = {"station": station.pk, "date_from": "2026-03-01", "date_to": "2026-03-02"}
    stay = services.booking_for_approved(
        application(housing["station_program"], person(1), **values)
    )
    dropped = services.booking_for_approved(
        application(housing["station_program"], person(2), **values)
    )

    with pytest.raises(ServiceError, match="只有已入住的才能办理退房"):
        services.booking_check_out(actor=officer, booking_id=stay.pk)
    services.booking_check_in(actor=officer, booking_id=stay.pk)
    with pytest.raises(ServiceError, match="只有已预订的才能办理入住"):
        services.booking_check_in(actor=officer, booking_id=stay.pk)
    with pytest.raises(ServiceError, match="只有尚未入住的预订才能取消"):
        services.booking_cancel(actor=officer, booking_id=stay.pk)
    services.booking_check_out(actor=officer, booking_id=stay.pk)
    services.booking_cancel(actor=officer, booking_id=dropped.pk)
    with pytest.raises(ServiceError) as exc:
        services.booking_check_in(actor=city.district_reviewer, booking_id=dropped.pk)
    assert exc.value.code == "forbidden"

    stay.refresh_from_db()
    dropped.refresh_from_db()
    assert stay.state == "checked_out"
    assert stay.checked_in_at and stay.checked_out_at
    assert (dropped.state, dropped.acted_by) == ("cancelled", officer)
    assert Message.objects.filter(user=dropped.person, title="人才驿站预订已取消").exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"housing.booking_check_in", "housing.booking_check_out"} <= actions


def test_choices_list_active_stations_and_communities(city, housing):
    Station.objects.update(active=False)  # the demo city's
    Community.objects.exclude(pk=housing["community"].pk).update(active=False)
    station = _station(city)
    _station(city, active=False)
    assert services.station_choices() == [(station.pk, "江南园林景观酒店（东城区）")]
    assert services.community_choices() == [(housing["community"].pk, "测试小区（东城区）")]


# --- public pages and pictures -----------------------------------------------------------


def test_public_pages_show_the_demo_catalogue_with_pictures(
    client, city, media, django_assert_max_num_queries
):
    load_demo_housing()
    load_demo_housing()  # idempotent
    assert Station.objects.count() == 1 and Community.objects.count() == 2
    assert Room.objects.count() == 48
    station = Station.objects.get()
    community = Community.objects.get(name="山水华府·兰花园")

    with django_assert_max_num_queries(12):
        page = client.get("/housing/stations/").content.decode()
    first = station.pictures.order_by("order", "id").first()
    assert f"/housing/pictures/{first.pk}/" in page
    assert f"/applications/programs/talent_station/new/?station={station.pk}" in page

    page = client.get(f"/housing/stations/{station.pk}/").content.decode()
    assert "标准间" in page and "大床房" in page and "檀溪路176号" in page
    assert page.count("/housing/pictures/") == 2

    page = client.get("/housing/apartments/").content.decode()
    assert "山水华府·兰花园" in page and "汉水华城悦苑" in page
    page = client.get(f"/housing/apartments/?district={community.district_id}").content.decode()
    assert "山水华府·兰花园" in page and "汉水华城悦苑" not in page

    with django_assert_max_num_queries(12):
        page = client.get(f"/housing/apartments/{community.pk}/").content.decode()
    assert "1号楼1号房、1号楼4号房" in page
    assert page.index("5号楼1号房") < page.index("16号楼1号房")  # numbers sort as numbers
    assert "户型图" in page and "A 户型" in page and "D 户型" in page
    assert "共 24 套，空余 24 套" in page
    assert f"/applications/programs/talent_apartment/new/?community={community.pk}" in page


def test_the_public_list_says_so_when_empty(client, city):
    Station.objects.update(active=False)  # the demo city's are switched off
    Community.objects.update(active=False)
    assert "目前没有开放入住的人才驿站" in client.get("/housing/stations/").content.decode()
    assert "目前没有开放申请的人才公寓" in client.get("/housing/apartments/").content.decode()


def test_the_picture_view_serves_the_stored_bytes_as_their_checked_type(client, city, media):
    without_demo_housing()
    load_demo_housing()
    station = Station.objects.get()
    picture = station.pictures.first()

    response = client.get(f"/housing/pictures/{picture.pk}/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\x89PNG") and len(body) == picture.size
    assert client.get("/housing/pictures/999999/").status_code == 404
    Station.objects.filter(pk=station.pk).update(active=False)
    assert client.get(f"/housing/pictures/{picture.pk}/").status_code == 404
    assert client.get(f"/housing/stations/{station.pk}/").status_code == 404
    unit_picture = HousingPicture.objects.filter(unit_type__isnull=False).first()
    Community.objects.filter(pk=unit_picture.unit_type.community_id).update(active=False)
    assert client.get(f"/housing/pictures/{unit_picture.pk}/").status_code == 404


# --- staff pages -------------------------------------------------------------------------


def test_staff_pages_are_for_the_talent_office_only(client, city, housing):
    urls = ["/staff/housing/allocations/", "/staff/housing/bookings/"]
    for url in urls:
        assert client.get(url).status_code == 302  # to the login page
    for outsider in (city.district_reviewer, city.applicant, city.finance_officer):
        client.force_login(outsider)
        for url in urls:
            assert client.get(url).status_code == 404, (outsider, url)
    app = application(housing["apartment"], person(1))
    response = client.post(
        f"/staff/housing/allocations/applications/{app.pk}/", {"room": housing["rooms"][0].pk}
    )
    assert response.status_code == 404
    assert not Allocation.objects.exists()


def test_the_allocation_desk_confirms_before_allocating_and_ends_with_a_reason(
    client, city, housing, django_assert_max_num_queries
):
    officer, community, room = housing["officer"], housing["community"], housing["rooms"][1]
    tenant = person(1)
    app = application(housing["apartment"], tenant, community=str(community.pk))
    for i in range(2, 6):  # more waiting rows must not mean more queries
        application(housing["apartment"], person(i), community=str(community.pk))
    client.force_login(officer)

    with django_assert_max_num_queries(20):
        page = client.get("/staff/housing/allocations/").content.decode()
    assert app.number in page and "测试小区" in page and "1号楼2号房" in page

    url = f"/staff/housing/allocations/applications/{app.pk}/"
    page = client.get(url, {"community": community.pk, "room": room.pk}).content.decode()
    assert "确认将 测试小区1号楼2号房（A 户型）分配给 住户01？" in page
    assert not Allocation.objects.exists()  # nothing happens before the confirmation

    response = client.post(url, {"room": room.pk})
    assert response.status_code == 302
    allocation = Allocation.objects.get()
    assert (allocation.room, allocation.person, allocation.allocated_by) == (room, tenant, officer)
    page = client.get("/staff/housing/allocations/").content.decode()
    assert f"/staff/housing/allocations/{allocation.pk}/end/" in page

    client.post(f"/staff/housing/allocations/{allocation.pk}/end/", {"reason": ""})
    allocation.refresh_from_db()
    assert allocation.ended_at is None
    client.post(f"/staff/housing/allocations/{allocation.pk}/end/", {"reason": "本人申请退房"})
    allocation.refresh_from_db()
    assert allocation.end_reason == "本人申请退房" and allocation.ended_at is not None


def test_the_booking_desk_checks_in_and_out(client, city, housing):
    officer = housing["officer"]
    station = _station(city)
    booking = services.booking_for_approved(
        application(
            housing["station_program"],
            person(1),
            station=station.pk,
            date_from="2026-03-01",
            date_to="2026-03-03",
        )
    )
    client.force_login(officer)
    page = client.get("/staff/housing/bookings/").content.decode()
    assert "住户01" in page and "办理入住" in page

    url = f"/staff/housing/bookings/{booking.pk}/"
    assert client.post(url, {"action": "check_in"}).status_code == 302
    booking.refresh_from_db()
    assert booking.state == "checked_in"
    response = client.post(url, {"action": "check_in"}, follow=True)
    assert "只有已预订的才能办理入住" in response.content.decode()
    assert client.post(url, {"action": "explode"}).status_code == 404
    client.post(url, {"action": "check_out"})
    booking.refresh_from_db()
    assert booking.state == "checked_out"
    assert "没有符合条件的预订" in client.get("/staff/housing/bookings/").content.decode()
    assert "住户01" in client.get("/staff/housing/bookings/?state=all").content.decode()


# --- the admin's picture upload ----------------------------------------------------------


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


@pytest.mark.parametrize(
    "content",
    [
        b"<html><script>alert(1)</script></html>",
        b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",  # the magic, then HTML
    ],
)
def test_a_disguised_picture_is_refused_by_the_admin_form(db, content):
    form = PictureAdminForm(
        data={"kind": "photo", "order": 0}, files={"file": _upload("a.png", content)}
    )
    assert not form.is_valid()
    assert "a.png" in form.errors["file"][0]


def test_the_admin_uploads_a_checked_floor_plan_and_refuses_a_fake_one(client, city, media):
    without_demo_housing()
    community = small_community(city.dongcheng)
    unit = community.unit_types.get()
    client.force_login(city.admin)
    url = f"/admin/housing/unittype/{unit.pk}/change/"

    def post(upload):
        return client.post(
            url,
            {
                "community": community.pk,
                "name": unit.name,
                "area": "80",
                "layout": "两室",
                "vr_url": "",
                "order": 0,
                "pictures-TOTAL_FORMS": 1,
                "pictures-INITIAL_FORMS": 0,
                "pictures-MIN_NUM_FORMS": 0,
                "pictures-MAX_NUM_FORMS": 1000,
                "pictures-0-kind": "floor_plan",
                "pictures-0-file": upload,
                "pictures-0-caption": "户型图",
                "pictures-0-order": 0,
            },
        )

    response = post(_upload("plan.png", b"<!doctype html><title>x</title>"))
    assert response.status_code == 200
    assert "plan.png" in response.content.decode()
    assert not HousingPicture.objects.exists()

    png = make_png(20, 10, (10, 20, 30))
    response = post(_upload("平面图.png", png))
    assert response.status_code == 302, response.content.decode()[:2000]
    picture = HousingPicture.objects.get()
    assert (picture.unit_type, picture.kind, picture.content_type) == (
        unit,
        "floor_plan",
        "image/png",
    )
    assert picture.size == len(png) and picture.original_name == "平面图.png"
    assert picture.file.name.startswith("housing/") and "平面图" not in picture.file.name
    assert client.get(f"/housing/pictures/{picture.pk}/").status_code == 200


# --- list pages: the query count does not grow with the rows ---------------------------


def _count_queries(client, url, django_assert_max_num_queries, bound) -> int:
    client.get(url)  # warm-up: the session and the city's settings are read once
    with django_assert_max_num_queries(bound) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def _grow_stations(city, n):
    for i in range(Station.objects.count(), n):
        station = _station(city, order=i + 1)
        HousingPicture.objects.create(station=station, file=f"housing/s{i}.png", caption=f"图{i}")


def _grow_communities(city, n):
    for i in range(Community.objects.count(), n):
        community = Community.objects.create(
            name=f"小区{i:02d}", district=city.dongcheng, address="测试路", order=i + 1
        )
        HousingPicture.objects.create(community=community, file=f"housing/c{i}.png")


@pytest.mark.parametrize(
    ("url", "grow"),
    [("/housing/stations/", _grow_stations), ("/housing/apartments/", _grow_communities)],
)
def test_public_list_pages_take_the_same_queries_for_3_or_15_rows(
    client, city, url, grow, django_assert_max_num_queries
):
    without_demo_housing()
    counts = []
    for n in (3, 15):
        grow(city, n)
        counts.append(_count_queries(client, url, django_assert_max_num_queries, 7))
    assert counts[0] == counts[1], counts
    assert "第 1 / 2 页" in client.get(url).content.decode()  # 15 rows: ten per page


def test_the_staff_desks_take_the_same_queries_for_3_or_15_rows(
    client, city, housing, django_assert_max_num_queries
):
    officer, apartment = housing["officer"], housing["apartment"]
    community = small_community(
        city.xicheng, rooms=[(f"{b}号楼", f"{r}号房") for b in (1, 2, 3) for r in range(1, 16)]
    )
    rooms = list(services.free_rooms(community))
    station = _station(city)
    client.force_login(officer)
    counts = {"allocations": [], "bookings": []}
    made = 0
    for n in (3, 15):
        for i in range(made, n):
            # one waiting, one housed, and one station booking each (every other checked in)
            application(apartment, person(100 + i), community=str(community.pk))
            housed = application(apartment, person(200 + i), community=str(community.pk))
            services.allocate_room(actor=officer, application=housed, room_id=rooms[i].pk)
            booking = services.booking_for_approved(
                application(
                    housing["station_program"],
                    person(300 + i),
                    station=str(station.pk),
                    date_from="2026-03-01",
                    date_to="2026-03-02",
                )
            )
            if i % 2:
                services.booking_check_in(actor=officer, booking_id=booking.pk)
        made = n
        for desk in counts:
            url = f"/staff/housing/{desk}/"
            counts[desk].append(_count_queries(client, url, django_assert_max_num_queries, 18))
    assert counts["allocations"][0] == counts["allocations"][1], counts
    assert counts["bookings"][0] == counts["bookings"][1], counts
    page = client.get("/staff/housing/bookings/").content.decode()
    assert page.count('value="check_in"') == 8 and page.count('value="check_out"') == 7


@pytest.mark.parametrize("model", ["allocation", "stationbooking", "room", "station"])
def test_the_housing_admin_lists_take_the_same_queries_for_3_or_15_rows(
    client, city, housing, model, django_assert_max_num_queries
):
    officer = housing["officer"]
    community = small_community(city.xicheng, rooms=[("9号楼", f"{r}号房") for r in range(1, 16)])
    rooms = list(services.free_rooms(community))
    client.force_login(city.admin)
    counts = []
    for n in (3, 15):
        for i in range(Allocation.objects.count(), n):
            app = application(housing["apartment"], person(400 + i))
            services.allocate_room(actor=officer, application=app, room_id=rooms[i].pk)
            services.booking_for_approved(
                application(
                    housing["station_program"],
                    person(500 + i),
                    station=str(_station(city).pk),
                    date_from="2026-03-01",
                    date_to="2026-03-02",
                )
            )
        url = f"/admin/housing/{model}/"
        counts.append(_count_queries(client, url, django_assert_max_num_queries, 15))
    assert counts[0] == counts[1], counts


# --- bad input: a clear message or a 404, never a 500 ----------------------------------


@pytest.mark.parametrize("raw", ["²", "１", "-1", "0", "99999999999999999999", "1 OR 1=1", None, 7])
def test_parse_id_takes_ascii_digits_only(raw):
    expected = 7 if raw == 7 else None
    assert services.parse_id(raw) == expected


def test_junk_in_the_public_query_strings_shows_the_whole_list(client, city):
    for junk in ("²", "99999999999999999999", "abc", "\x00"):
        response = client.get("/housing/apartments/", {"district": junk, "page": junk})
        assert response.status_code == 200, junk
        assert "山水华府·兰花园" in response.content.decode()
    assert client.get("/housing/stations/", {"page": "²"}).status_code == 200
    assert client.get("/housing/stations/99999999999999999999/").status_code == 404
    assert client.get("/housing/pictures/99999999999999999999/").status_code == 404


def test_junk_on_the_allocation_desk_is_refused_with_a_message(client, city, housing):
    officer, community, rooms = housing["officer"], housing["community"], housing["rooms"]
    app = application(housing["apartment"], person(1), community="²")  # junk in the data
    other = application(housing["apartment"], person(2), community=str(community.pk))
    services.allocate_room(actor=officer, application=other, room_id=rooms[0].pk)
    client.force_login(officer)
    assert services.place_name("community", "²") == "²"
    page = client.get("/staff/housing/allocations/").content.decode()
    assert app.number in page and "选择小区和房间" in page

    url = f"/staff/housing/allocations/applications/{app.pk}/"
    for params in (
        {"community": "²"},
        {"community": "99999999999999999999"},
        {"community": community.pk, "room": "²"},
        {"community": community.pk, "room": "99999999999999999999"},
    ):
        assert client.get(url, params).status_code == 200, params
    page = client.get(url, {"community": community.pk, "room": rooms[0].pk}).content.decode()
    assert ROOM_TAKEN in page and "确认分配" not in page  # taken meanwhile: no confirmation
    for junk in ("", "²", "abc", "99999999999999999999"):
        response = client.post(url, {"room": junk}, follow=True)
        assert "请选择房间。" in response.content.decode(), junk
    response = client.post(url, {"room": rooms[0].pk}, follow=True)
    assert ROOM_TAKEN in response.content.decode()
    assert not Allocation.objects.filter(application=app).exists()
    assert client.get("/staff/housing/allocations/applications/999999/").status_code == 404


def test_an_overlong_or_nul_reason_on_the_desk_gives_a_message_not_an_error(client, city, housing):
    officer = housing["officer"]
    app = application(housing["apartment"], person(1))
    allocation = services.allocate_room(
        actor=officer, application=app, room_id=housing["rooms"][0].pk
    )
    client.force_login(officer)
    url = f"/staff/housing/allocations/{allocation.pk}/end/"
    response = client.post(url, {"reason": "长" * 201}, follow=True)
    assert "原因最多 200 个字。" in response.content.decode()
    allocation.refresh_from_db()
    assert allocation.ended_at is None
    assert client.post(url, {"reason": "\x00"}, follow=True).status_code == 200
    allocation.refresh_from_db()
    assert allocation.ended_at is None
    client.post(url, {"reason": "合同\x00到期"})
    allocation.refresh_from_db()
    assert allocation.end_reason == "合同到期" and allocation.ended_at is not None
    assert client.post("/staff/housing/allocations/999999/end/", {"reason": "x"}).status_code == 404


def test_the_booking_desk_refuses_unknown_actions_and_junk_filters(client, city, housing):
    officer = housing["officer"]
    booking = services.booking_for_approved(
        application(
            housing["station_program"],
            person(1),
            station=str(_station(city).pk),
            date_from="2026-03-01",
            date_to="2026-03-02",
        )
    )
    with pytest.raises(ServiceError, match="未知的操作") as exc:
        services.booking_step(actor=officer, booking_id=booking.pk, action="explode")
    assert exc.value.code == "unknown_action"
    assert services.booking_actions(booking) == ["check_in", "cancel"]
    client.force_login(officer)
    for junk in ("²", "\x00", "x" * 500):
        response = client.get("/staff/housing/bookings/", {"state": junk, "page": junk})
        assert response.status_code == 200 and "住户01" in response.content.decode()
    response = client.post(
        f"/staff/housing/bookings/{booking.pk}/", {"action": "check_in", "state": "x" * 500}
    )
    assert response.status_code == 302
    assert client.post("/staff/housing/bookings/999999/", {"action": "check_in"}).status_code == 404
    booking.refresh_from_db()
    assert booking.state == "checked_in" and services.booking_actions(booking) == ["check_out"]
    rows = AuditEntry.objects.filter(action="housing.booking_check_in", object_id=str(booking.pk))
    assert rows.get().actor == officer
