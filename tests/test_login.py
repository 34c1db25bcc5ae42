"""F05, F06, F08: password and SMS login, lockout and unlock."""

import pytest
from django.contrib.auth import SESSION_KEY

from rencai.accounts.models import LoginLock
from rencai.audit.models import AuditEntry
from tests.conftest import set_city

LOCKED = "账号已锁定"


def login(client, identifier, password):
    return client.post(
        "/accounts/login/",
        {
            "identifier": identifier,
            "password": password,
            "captcha_0": "k",
            "captcha_1": "PASSED",
        },
    )


@pytest.mark.parametrize("who", ["id_number", "id_lowercase_x_free", "credit_code", "login_name"])
def test_password_login_by_each_identifier(client, city, who):
    user, identifier = {
        "id_number": (city.applicant, city.applicant.id_number),
        "id_lowercase_x_free": (city.applicant, f" {city.applicant.id_number} "),
        "credit_code": (city.employer_admin, city.tech.credit_code.lower()),
        "login_name": (city.district_reviewer, "DongCheng_Reviewer"),
    }[who]
    old_session = client.session.session_key
    response = login(client, identifier, "Rencai@Demo2026")
    assert response.status_code == 302 and response["Location"] == "/accounts/me/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.session.session_key != old_session
    assert AuditEntry.objects.filter(action="login.success", actor=user).exists()


def test_wrong_captcha_refuses_even_a_right_password(client, city):
    response = client.post(
        "/accounts/login/",
        {
            "identifier": city.applicant.id_number,
            "password": "Rencai@Demo2026",
            "captcha_0": "k",
            "captcha_1": "nope",
        },
    )
    assert "图形验证码不正确" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_lockout_at_exactly_the_tenth_failure_and_admin_unlock(client, city):
    ident = city.applicant.id_number
    for attempt in range(1, 10):
        page = login(client, ident, "wrong-password").content.decode()
        assert "账号或密码错误" in page and LOCKED not in page, attempt
    assert LoginLock.objects.get(user=city.applicant).locked_at is None
    page = login(client, ident, "wrong-password").content.decode()  # the 10th
    assert LOCKED in page and "rencai-help@example.gov.cn" in page  # whom to contact
    assert LoginLock.objects.get(user=city.applicant).locked_at is not None
    # The right password does not unlock it, by any identifier or by SMS.
    page = login(client, ident, "Rencai@Demo2026").content.decode()
    assert LOCKED in page and SESSION_KEY not in client.session
    assert LOCKED in login(client, ident.lower(), "Rencai@Demo2026").content.decode()
    assert LoginLock.objects.get(user=city.applicant).locked_at is not None

    # The administrator unlocks it in the admin.
    client.force_login(city.admin)
    response = client.post(
        "/admin/accounts/user/",
        {
            "action": "unlock_accounts",
            "_selected_action": [city.applicant.pk],
        },
    )
    assert response.status_code == 302
    assert LoginLock.objects.get(user=city.applicant).locked_at is None
    assert AuditEntry.objects.filter(
        action="login.unlock", object_id=str(city.applicant.pk)
    ).exists()
    client.logout()
    assert login(client, ident, "Rencai@Demo2026").status_code == 302


def test_success_resets_the_count_of_failures_in_a_row(client, city):
    ident = city.applicant.id_number
    for _ in range(9):
        login(client, ident, "wrong-password")
    assert login(client, ident, "Rencai@Demo2026").status_code == 302
    client.logout()
    assert "账号或密码错误" in login(client, ident, "wrong-password").content.decode()
    assert LoginLock.objects.get(user=city.applicant).failures == 1


def test_login_errors_do_not_reveal_whether_an_account_exists(client, city):
    known = login(client, city.applicant.id_number, "wrong-password").content.decode()
    unknown = login(client, "990102199001010000", "wrong-password").content.decode()
    assert "账号或密码错误" in known and "账号或密码错误" in unknown
    for _ in range(10):
        last_unknown = login(client, "nobody_here", "wrong").content.decode()
    assert LOCKED in last_unknown  # unknown names lock the same way


def test_sms_login(client, city, send_code):
    code = send_code(city.applicant.phone, "login")
    response = client.post(
        "/accounts/login/sms/",
        {
            "phone": city.applicant.phone,
            "sms_code": code,
            "captcha_0": "k",
            "captcha_1": "PASSED",
        },
    )
    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(city.applicant.pk)


def test_sms_login_to_unknown_phone_answers_the_same_and_sends_nothing(client, city):
    from rencai.notifications.models import SmsMessage

    known = client.post("/accounts/sms/send/", {"phone": city.applicant.phone, "purpose": "login"})
    unknown = client.post("/accounts/sms/send/", {"phone": "13999999999", "purpose": "login"})
    assert known.json() == unknown.json()
    assert not SmsMessage.objects.filter(phone="13999999999").exists()
    response = client.post(
        "/accounts/login/sms/",
        {
            "phone": "13999999999",
            "sms_code": "123456",
            "captcha_0": "k",
            "captcha_1": "PASSED",
        },
    )
    assert "手机号码或验证码不正确" in response.content.decode()


def test_locked_account_cannot_log_in_by_sms(client, city, send_code):
    for _ in range(10):
        login(client, city.applicant.id_number, "wrong-password")
    code = send_code(city.applicant.phone, "login")
    response = client.post(
        "/accounts/login/sms/",
        {
            "phone": city.applicant.phone,
            "sms_code": code,
            "captcha_0": "k",
            "captcha_1": "PASSED",
        },
    )
    assert LOCKED in response.content.decode()
    assert SESSION_KEY not in client.session


def test_lockout_count_is_configuration(client, city, settings):
    set_city(lockout_failures=3)
    for _ in range(2):
        login(client, city.applicant.id_number, "wrong-password")
    assert "3次" in login(client, city.applicant.id_number, "wrong-password").content.decode()
    assert LoginLock.objects.get(user=city.applicant).locked_at is not None


def test_logout_needs_post_and_ends_the_session(client, city):
    client.force_login(city.applicant)
    assert client.get("/accounts/logout/").status_code == 405
    client.post("/accounts/logout/")
    assert SESSION_KEY not in client.session


def test_an_active_session_is_kept_alive_once_a_minute_and_an_idle_one_ends(client, city):
    """Issue 7 with the idle timeout: the session is saved again at most once a minute
    (not on every page), so activity keeps it alive and 30 idle minutes end it."""
    import datetime

    import time_machine
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    def expiry():
        return Session.objects.get(pk=client.session.session_key).expire_date

    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.force_login(city.applicant)
        assert client.get("/accounts/me/").status_code == 200
        first = expiry()
        clock.shift(datetime.timedelta(seconds=30))
        assert client.get("/accounts/me/").status_code == 200
        assert expiry() == first  # not saved again within the minute
        clock.shift(datetime.timedelta(seconds=31))
        assert client.get("/accounts/me/").status_code == 200
        assert expiry() == first + datetime.timedelta(seconds=61)
        clock.shift(datetime.timedelta(minutes=29))
        assert client.get("/accounts/me/").status_code == 200  # still signed in
        clock.shift(datetime.timedelta(minutes=31))
        response = client.get("/accounts/me/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
