"""Issue 8, accounts: password storage and rules, sessions, per-address limits, no user
enumeration, and the second factor (TOTP) of staff and administrators.

The users are made here (no demo city) to keep the suite fast; the second factor is off
in the test settings and each TOTP test turns it on with the ``settings`` fixture."""

import datetime
import json

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.module_loading import import_string

from rencai.accounts import services, totp
from rencai.accounts.models import LoginLock, RateCounter, SmsCode, StaffTotp, User
from rencai.audit.models import AuditEntry
from tests.conftest import PASSWORD, latest_sms_code, make_id

PERSON_ID = make_id("99010219900101001")
NEW_ID = make_id("99010219990101002")
CAPTCHA = {"captcha_0": "k", "captcha_1": "PASSED"}
TOO_MANY = "操作过于频繁"


@pytest.fixture
def users(db, settings):
    settings.RENCAI_CITY = {**settings.RENCAI_CITY, "person_registration_review": False}
    person = User.objects.create_user(
        username="li_person",
        password=PASSWORD,
        kind=User.Kind.PERSON,
        real_name="李个人",
        id_type=User.IdType.RESIDENT_ID,
        id_number=PERSON_ID,
        phone="13900001111",
    )
    staff = User.objects.create_user(
        username="wang_staff",
        password=PASSWORD,
        kind=User.Kind.STAFF,
        real_name="王审核",
        phone="13900002222",
    )
    admin = User.objects.create_superuser(
        username="root_admin", password=PASSWORD, kind=User.Kind.STAFF, real_name="赵管理"
    )
    return type("Users", (), {"person": person, "staff": staff, "admin": admin})


@pytest.fixture
def counts(security_counts):
    return security_counts("accounts")


def client_at(ip: str = "10.0.0.1") -> Client:
    return Client(REMOTE_ADDR=ip)


def login(c, identifier, password):
    return c.post("/accounts/login/", {"identifier": identifier, "password": password, **CAPTCHA})


def logged_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def signed_in(c) -> bool:
    return c.get("/accounts/me/").status_code == 200


def errors(response) -> dict:
    return response.context["form"].errors.get_json_data()


# --------------------------------------------------------------------------- passwords


def test_production_settings_hash_passwords_with_argon2():
    """The test settings use MD5 for speed; production's first hasher is Argon2id."""
    import rencai.settings as production

    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    hasher = import_string(production.PASSWORD_HASHERS[0])()
    encoded = hasher.encode("Qingshan#2026", hasher.salt())
    assert encoded.startswith("argon2$argon2id$")
    assert "Qingshan#2026" not in encoded
    assert hasher.verify("Qingshan#2026", encoded)
    assert not hasher.verify("Qingshan#2027", encoded)


def _change_password(user, new):
    c = logged_in(user)
    response = c.post(
        "/accounts/me/password/",
        {"old_password": PASSWORD, "new_password": new, "new_password2": new},
    )
    user.refresh_from_db()
    return response, user.check_password(new)


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("iloveyou", "常见"),  # Django's list of 20,000 common passwords (message: "太常见")
        ("Qw#1abc", "8"),  # too short for anybody
        ("20261234", "数字"),  # digits only
    ],
)
def test_common_short_or_numeric_passwords_are_refused_for_everyone(users, new, message):
    response, changed = _change_password(users.person, new)
    assert response.status_code == 200 and not changed
    page = response.content.decode()
    assert message in page or message in json.dumps(errors(response), ensure_ascii=False)


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ("qingshanlu2026", "至少3类"),  # long, but lower case and digits only
        ("Qs#2026ab", "至少10位"),  # four classes, 9 characters
    ],
)
def test_staff_and_admin_passwords_need_length_and_three_character_classes(users, new, reason):
    for user in (users.staff, users.admin):
        response, changed = _change_password(user, new)
        assert not changed and reason in response.content.decode(), user
    # The same password is fine for a person (ASVS: no composition rules).
    response, changed = _change_password(users.person, new)
    assert changed and response.status_code == 302
    # A strong one is fine for staff.
    assert _change_password(users.staff, "Qingshan#2026")[1]


def test_admin_forms_apply_the_staff_password_rule(users):
    c = logged_in(users.admin)
    weak = {"username": "new_staff", "usable_password": "true"}
    response = c.post(
        "/admin/accounts/user/add/", {**weak, "password1": "qingshanlu", "password2": "qingshanlu"}
    )
    assert response.status_code == 200 and "至少3类" in response.content.decode()
    assert not User.objects.filter(username="new_staff").exists()
    response = c.post(
        "/admin/accounts/user/add/",
        {**weak, "password1": "Qingshan#2026", "password2": "Qingshan#2026"},
    )
    assert response.status_code == 302
    assert User.objects.get(username="new_staff").kind == User.Kind.STAFF
    # The admin's "change password" form of a staff account.
    url = f"/admin/accounts/user/{users.staff.pk}/password/"
    response = c.post(url, {"password1": "short#A1", "password2": "short#A1"})
    assert "至少10位" in response.content.decode()
    users.staff.refresh_from_db()
    assert users.staff.check_password(PASSWORD)


# --------------------------------------------------------------------------- sessions


def test_the_session_key_changes_at_login_and_the_old_one_is_gone(users):
    c = client_at()
    c.get("/accounts/login/")
    before = c.session
    before["probe"] = "pre-login"
    before.save()
    old_key = before.session_key
    assert login(c, users.person.id_number, PASSWORD).status_code == 302
    assert c.session.session_key != old_key
    assert c.session[SESSION_KEY] == str(users.person.pk)
    assert not Session.objects.filter(session_key=old_key).exists()


def test_idle_sessions_end_after_30_minutes_and_staff_after_15(users):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        person, staff = logged_in(users.person), logged_in(users.staff)
        assert staff.session.get_expiry_age() == 15 * 60
        assert person.session.get_expiry_age() == 30 * 60
        clock.shift(datetime.timedelta(minutes=14))
        assert signed_in(staff) and signed_in(person)  # activity renews both
        clock.shift(datetime.timedelta(minutes=15, seconds=1))
        assert not signed_in(staff)  # 15 idle minutes end a staff session
        assert signed_in(person)
        clock.shift(datetime.timedelta(minutes=30, seconds=1))
        assert not signed_in(person)


def test_password_change_ends_every_session_of_the_user(users):
    _here, phone, laptop = (logged_in(users.person) for _ in range(3))
    other = logged_in(users.staff)
    assert signed_in(phone) and signed_in(laptop)
    response, changed = _change_password(users.person, "Tongzhou#2027")
    assert changed and response.status_code == 302
    assert not signed_in(phone) and not signed_in(laptop)
    assert signed_in(other)  # somebody else's session is untouched


def test_lockout_ends_every_session_of_the_user_in_one_query(users, settings):
    settings.RENCAI_CITY = {**settings.RENCAI_CITY, "lockout_failures": 3}
    phone, laptop, other = logged_in(users.person), logged_in(users.person), logged_in(users.staff)
    attacker = client_at("10.9.9.9")
    for _ in range(3):
        login(attacker, users.person.id_number, "wrong-password")
    assert LoginLock.objects.get(user=users.person).locked_at is not None
    assert not signed_in(phone) and not signed_in(laptop)
    assert signed_in(other)
    # Ending the sessions does not scan the session table: one UPDATE (and a re-read).
    for _ in range(20):
        logged_in(users.staff)
    with CaptureQueriesContext(connection) as queries:
        services.sessions_end_for(users.staff)
    assert len(queries) <= 2
    assert not signed_in(other)


def test_closing_the_account_ends_every_session(users):
    here, elsewhere = logged_in(users.person), logged_in(users.person)
    response = here.post("/accounts/me/close/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    assert not signed_in(elsewhere)


# --------------------------------------------------------------------------- rate limits


def test_login_attempts_are_limited_per_address(users, settings, counts):
    settings.RENCAI_RATE_LIMITS = {**settings.RENCAI_RATE_LIMITS, "login": (3, 600)}
    with time_machine.travel(timezone.now(), tick=False) as clock:
        c = client_at("10.0.0.7")
        for _ in range(3):
            assert "账号或密码错误" in login(c, users.person.id_number, "nope").content.decode()
        failures = LoginLock.objects.get(user=users.person).failures
        response = login(c, users.person.id_number, PASSWORD)  # even the right password
        counts.add("rate-limited requests")
        assert response.status_code == 429
        assert TOO_MANY in response.content.decode() and "分钟后再试" in response.content.decode()
        assert SESSION_KEY not in c.session
        assert LoginLock.objects.get(user=users.person).failures == failures  # nothing counted
        # SMS login shares the limit; another address is not affected.
        response = c.post(
            "/accounts/login/sms/", {"phone": users.person.phone, "sms_code": "123456", **CAPTCHA}
        )
        counts.add("rate-limited requests")
        assert response.status_code == 429
        assert login(client_at("10.0.0.8"), users.person.id_number, PASSWORD).status_code == 302
        # The API's login goes through the same service.
        api = Client(REMOTE_ADDR="10.0.0.7")
        response = api.post(
            "/api/auth/login",
            {
                "identifier": users.person.id_number,
                "password": PASSWORD,
                "captcha_key": "k",
                "captcha_value": "PASSED",
            },
            content_type="application/json",
        )
        counts.add("rate-limited requests")
        assert response.status_code == 429 and TOO_MANY in response.json()["detail"]
        clock.shift(datetime.timedelta(minutes=10))
        assert login(c, users.person.id_number, PASSWORD).status_code == 302


def test_sms_codes_are_limited_per_address(users, settings, counts):
    settings.RENCAI_RATE_LIMITS = {**settings.RENCAI_RATE_LIMITS, "sms": (2, 3600)}
    c = client_at("10.0.1.1")
    for phone in ("13911110001", "13911110002"):
        assert c.post("/accounts/sms/send/", {"phone": phone, "purpose": "register"}).json()["ok"]
    response = c.post("/accounts/sms/send/", {"phone": "13911110003", "purpose": "register"})
    counts.add("rate-limited requests")
    assert response.status_code == 429 and TOO_MANY in response.json()["message"]
    api = Client(REMOTE_ADDR="10.0.1.1")
    response = api.post(
        "/api/sms/codes",
        {"phone": "13911110004", "purpose": "register"},
        content_type="application/json",
    )
    counts.add("rate-limited requests")
    assert response.status_code == 429 and response.json()["code"] == "too_soon"
    assert not SmsCode.objects.filter(phone__in=["13911110003", "13911110004"]).exists()
    assert (
        client_at("10.0.1.2")
        .post("/accounts/sms/send/", {"phone": "13911110003", "purpose": "register"})
        .json()["ok"]
    )


def person_form(**overrides):
    password = overrides.pop("password", "Qingshan#2026")
    return {
        "id_type": "resident_id",
        "id_number": NEW_ID,
        "real_name": "李雨桐",
        "phone": "13900000001",
        "sms_code": "000000",
        "password": password,
        "password2": password,
        "accept_notice": "on",
        **CAPTCHA,
        **overrides,
    }


def test_registrations_are_limited_per_address(users, settings, counts):
    settings.RENCAI_RATE_LIMITS = {**settings.RENCAI_RATE_LIMITS, "register": (2, 3600)}
    c = client_at("10.0.2.1")
    _send(c, "13900000001", "register")
    code = latest_sms_code("13900000001")
    for _ in range(2):  # two tries with a wrong code
        page = c.post("/accounts/register/person/", person_form(sms_code="999999")).content
        assert "短信验证码不正确" in page.decode() or "已失效" in page.decode()
    response = c.post("/accounts/register/person/", person_form(sms_code=code))
    counts.add("rate-limited requests")
    assert response.status_code == 429 and TOO_MANY in response.content.decode()
    assert not User.objects.filter(id_number=NEW_ID).exists()
    api = Client(REMOTE_ADDR="10.0.2.1")
    response = api.post(
        "/api/register/person",
        {
            "id_number": NEW_ID,
            "real_name": "李雨桐",
            "phone": "13900000001",
            "sms_code": code,
            "password": "Qingshan#2026",
            "accept_notice": True,
            "captcha_key": "k",
            "captcha_value": "PASSED",
        },
        content_type="application/json",
    )
    counts.add("rate-limited requests")
    assert response.status_code == 429
    assert not User.objects.filter(id_number=NEW_ID).exists()
    # From another address the same code still registers.
    response = client_at("10.0.2.2").post("/accounts/register/person/", person_form(sms_code=code))
    assert response.status_code == 302 and User.objects.filter(id_number=NEW_ID).exists()


def test_counters_are_one_row_per_address_and_window(users, settings):
    settings.RENCAI_RATE_LIMITS = {**settings.RENCAI_RATE_LIMITS, "login": (100, 600)}
    c = client_at("10.0.3.1")
    for _ in range(5):
        login(c, "nobody", "x")
    row = RateCounter.objects.get(key="login:ip:10.0.3.1")
    assert row.count == 5
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=1), tick=False):
        login(client_at("10.0.3.2"), "nobody", "x")  # a new window tidies ended ones
    assert not RateCounter.objects.filter(key="login:ip:10.0.3.1").exists()


# --------------------------------------------------------------------------- enumeration


@pytest.fixture
def hasher_calls(monkeypatch):
    """Every call of the (test) password hasher's verify and encode, in order."""
    calls = []
    for name in ("verify", "encode"):
        original = getattr(MD5PasswordHasher, name)

        def spy(self, *args, _original=original, _name=name, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(MD5PasswordHasher, name, spy)
    services._dummy_hash()  # made once per process; not part of any one answer
    calls.clear()
    return calls


def test_password_login_answers_alike_and_hashes_alike_for_unknown_accounts(
    users, hasher_calls, counts
):
    closed = User.objects.create_user(
        username="closed_one",
        password=PASSWORD,
        kind=User.Kind.PERSON,
        is_active=False,
        closed_at=timezone.now(),
    )
    answers, hashing = [], []
    for identifier in (
        users.person.id_number,
        "990102199001010000",
        "nobody_here",
        closed.username,
    ):
        hasher_calls.clear()
        response = login(client_at(), identifier, "wrong-password")
        counts.add("enumeration probes")
        answers.append((response.status_code, errors(response)))
        hashing.append(list(hasher_calls))
    assert all(a == answers[0] for a in answers), answers
    assert "账号或密码错误" in json.dumps(answers[0], ensure_ascii=False)
    assert hashing[0] and all(h == hashing[0] for h in hashing), hashing


def test_admin_login_answers_alike_for_unknown_accounts(users, counts):
    pages = []
    for name in ("root_admin", "no_such_admin"):
        response = client_at().post(
            "/admin/login/", {"username": name, "password": "wrong-password", "next": "/admin/"}
        )
        counts.add("enumeration probes")
        pages.append((response.status_code, response.context["form"].errors.get_json_data()))
    assert pages[0] == pages[1] and pages[0][0] == 200


def _send(c, phone, purpose):
    response = c.post("/accounts/sms/send/", {"phone": phone, "purpose": purpose})
    assert response.status_code == 200, response.content
    return response.json()


def test_sms_login_answers_alike_for_unknown_phones(users, counts):
    c = client_at()
    assert _send(c, users.person.phone, "login") == _send(c, "13955550000", "login")
    answers = []
    for phone in (users.person.phone, "13955550000"):
        response = c.post("/accounts/login/sms/", {"phone": phone, "sms_code": "000001", **CAPTCHA})
        counts.add("enumeration probes", 2)
        answers.append((response.status_code, errors(response)))
    assert answers[0] == answers[1] and "手机号码或验证码不正确" in str(answers[0])


def test_registration_tells_no_stranger_which_phone_or_id_number_is_registered(users, counts):
    c = client_at()
    # Asking for a code: the same answer for a registered phone (whose owner gets a
    # warning instead of a code) and a new one.
    assert _send(c, users.person.phone, "register") == _send(c, "13900000001", "register")
    counts.add("enumeration probes", 2)
    probes = {
        "registered phone": person_form(phone=users.person.phone),
        "new phone": person_form(),
        "registered ID number": person_form(id_number=PERSON_ID),
        "registered login name": person_form(login_name="li_person"),
    }
    answers = {}
    for name, data in probes.items():
        response = c.post("/accounts/register/person/", data)
        counts.add("enumeration probes")
        answers[name] = (response.status_code, errors(response))
    assert len({json.dumps(a, sort_keys=True) for a in answers.values()}) == 1, answers
    assert "短信验证码不正确" in str(answers["new phone"])
    assert User.objects.count() == 3


def test_a_taken_id_number_is_told_only_to_a_phone_owner_and_uses_up_the_code(users, counts):
    c = client_at()
    _send(c, "13900000001", "register")
    code = latest_sms_code("13900000001")
    page = c.post("/accounts/register/person/", person_form(id_number=PERSON_ID, sms_code=code))
    counts.add("enumeration probes")
    assert "该证件号码已注册" in page.content.decode()
    # The code is spent: the next probe needs another SMS (10 a day per phone).
    page = c.post("/accounts/register/person/", person_form(id_number=NEW_ID, sms_code=code))
    assert "已使用或已失效" in page.content.decode()
    assert not User.objects.filter(id_number=NEW_ID).exists()


# --------------------------------------------------------------------------- second factor


def test_totp_matches_the_rfc_6238_test_vectors():
    import base64

    secret = base64.b32encode(b"12345678901234567890").decode()
    for t, code in [
        (59, "287082"),
        (1111111109, "081804"),
        (1111111111, "050471"),
        (1234567890, "005924"),
        (2000000000, "279037"),
        (20000000000, "353130"),
    ]:
        assert totp.code_at(secret, t // 30) == code
    now = 1234567890
    step = now // 30
    for drift, accepted in [(-2, False), (-1, True), (0, True), (1, True), (2, False)]:
        code = totp.code_at(secret, step + drift)
        assert (totp.matching_step(secret, code, now=now) == step + drift) is accepted, drift


def test_the_secret_is_stored_encrypted():
    secret = totp.new_secret()
    token = totp.encrypt_secret(secret)
    assert secret not in token and totp.decrypt_secret(token) == secret
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(ValueError):
        totp.decrypt_secret(tampered)


@pytest.fixture
def totp_on(settings):
    settings.RENCAI_STAFF_TOTP = True


def _enrol(c, clock=None) -> tuple[str, list[str]]:
    page = c.get("/accounts/login/totp/")
    assert page.status_code == 200
    secret = page.context["secret"].replace(" ", "")
    assert (
        page.context["uri"].startswith("otpauth://totp/")
        and f"secret={secret}" in (page.context["uri"])
    )
    response = c.post("/accounts/login/totp/", {"code": totp.code_at(secret, totp.current_step())})
    assert response.status_code == 200
    return secret, response.context["codes"]


def test_staff_enrol_at_first_login_then_enter_a_code_each_time(users, totp_on, counts):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        c = client_at()
        response = login(c, users.staff.username, PASSWORD)
        assert response["Location"] == "/accounts/login/totp/"
        # Until the code is confirmed the session reaches nothing else.
        for path in ("/accounts/me/", "/staff/", "/admin/"):
            response = c.get(path)
            assert response.status_code == 302 and response["Location"].startswith(
                "/accounts/login/totp/?next="
            ), path
        response = c.get("/api/me")
        assert response.status_code == 403 and response.json()["code"] == "totp_required"

        page = c.get("/accounts/login/totp/")
        secret = page.context["secret"].replace(" ", "")
        text = page.content.decode()
        assert page.context["secret"] in text and "otpauth://totp/" in text
        response = c.post(
            "/accounts/login/totp/",
            {
                "code": "000000"
                if totp.code_at(secret, totp.current_step()) != "000000"
                else "111111"
            },
        )
        assert "动态口令不正确" in response.content.decode()
        assert not StaffTotp.objects.filter(user=users.staff).exists()
        key_before = c.session.session_key
        response = c.post(
            "/accounts/login/totp/", {"code": totp.code_at(secret, totp.current_step())}
        )
        codes = response.context["codes"]
        assert len(codes) == 10 and codes[0] in response.content.decode()
        assert c.session.session_key != key_before
        assert signed_in(c)
        record = StaffTotp.objects.get(user=users.staff)
        stored = record.secret_encrypted + json.dumps(record.recovery_hashes)
        assert secret not in stored and not any(code in stored for code in codes)

        # The next login asks the code; the secret is not shown again.
        c.post("/accounts/logout/")
        login(c, users.staff.username, PASSWORD)
        page = c.get("/accounts/login/totp/")
        assert secret not in page.content.decode() and "secret" not in page.context
        same_step = totp.code_at(secret, totp.current_step())
        response = c.post("/accounts/login/totp/", {"code": same_step})
        counts.add("TOTP codes refused")
        assert "已使用过" in response.content.decode() and not signed_in(c)
        clock.shift(datetime.timedelta(seconds=30))
        # One step of drift is accepted: the code of the step after the current one.
        ahead = totp.code_at(secret, totp.current_step() + 1)
        response = c.post("/accounts/login/totp/", {"code": ahead})
        assert response.status_code == 302 and signed_in(c)
        assert AuditEntry.objects.filter(
            action="login.success", actor=users.staff, summary__method="password+totp"
        ).exists()


def test_a_recovery_code_works_once(users, totp_on, counts):
    c = client_at()
    login(c, users.staff.username, PASSWORD)
    _secret, codes = _enrol(c)
    c.post("/accounts/logout/")
    for attempt in range(2):
        login(c, users.staff.username, PASSWORD)
        response = c.post("/accounts/login/totp/", {"code": codes[3].upper()})
        if attempt == 0:
            assert response.status_code == 302 and signed_in(c)
            assert StaffTotp.objects.get(user=users.staff).recovery_left == 9
            c.post("/accounts/logout/")
        else:
            counts.add("TOTP codes refused")
            assert "动态口令不正确" in response.content.decode() and not signed_in(c)


def test_wrong_codes_lock_the_account_and_end_its_sessions(users, totp_on, settings, counts):
    settings.RENCAI_CITY = {**settings.RENCAI_CITY, "lockout_failures": 3}
    c = client_at()
    login(c, users.staff.username, PASSWORD)
    secret, _codes = _enrol(c)
    elsewhere = client_at()
    login(elsewhere, users.staff.username, PASSWORD)
    current = totp.code_at(secret, totp.current_step())
    wrong = [f"{(int(current) + n) % 10**6:06d}" for n in (100, 200, 300)]
    for code in wrong[:2]:
        assert (
            "动态口令不正确"
            in elsewhere.post("/accounts/login/totp/", {"code": code}).content.decode()
        )
    # A right password does not clear the count while the code is still to come.
    login(client_at(), users.staff.username, PASSWORD)
    response = elsewhere.post("/accounts/login/totp/", {"code": wrong[2]})
    counts.add("TOTP codes refused", 3)
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert LoginLock.objects.get(user=users.staff).locked_at is not None
    assert not signed_in(c) and not signed_in(elsewhere)


def test_admin_login_needs_the_second_factor_too(users, totp_on):
    c = client_at()
    response = c.post(
        "/admin/login/", {"username": "root_admin", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302
    response = c.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/totp/?next=%2Fadmin%2F"
    _enrol(c)
    assert c.get("/admin/").status_code == 200


def test_the_api_password_login_of_staff_is_refused(users, totp_on):
    api = client_at()
    response = api.post(
        "/api/auth/login",
        {
            "identifier": "wang_staff",
            "password": PASSWORD,
            "captcha_key": "k",
            "captcha_value": "PASSED",
        },
        content_type="application/json",
    )
    assert response.status_code == 403 and response.json()["code"] == "totp_required"
    assert "动态口令" in response.json()["detail"]
    assert api.get("/api/me").status_code == 401
    # People are not asked for a second factor.
    response = api.post(
        "/api/auth/login",
        {
            "identifier": PERSON_ID,
            "password": PASSWORD,
            "captcha_key": "k",
            "captcha_value": "PASSED",
        },
        content_type="application/json",
    )
    assert response.status_code == 200


def test_people_log_in_without_a_second_factor(users, totp_on):
    c = client_at()
    assert login(c, PERSON_ID, PASSWORD)["Location"] == "/accounts/me/"
    assert signed_in(c)
