"""F09, F10: change password, phone and account info; close the account."""

from django.contrib.auth import SESSION_KEY
from django.test import Client

from rencai.accounts.closing import _checks, register_closure_check
from rencai.accounts.models import User
from rencai.audit.models import AuditEntry
from rencai.notifications.models import SmsMessage

PASSWORD = "Rencai@Demo2026"


def logged_in(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_password_change_ends_every_session(city):
    here, elsewhere = logged_in(city.applicant), logged_in(city.applicant)
    assert elsewhere.get("/accounts/me/").status_code == 200
    response = here.post(
        "/accounts/me/password/",
        {
            "old_password": PASSWORD,
            "new_password": "Tongzhou#2027",
            "new_password2": "Tongzhou#2027",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert SESSION_KEY not in here.session
    # The other browser is logged out at its next request.
    assert elsewhere.get("/accounts/me/").status_code == 302
    city.applicant.refresh_from_db()
    assert city.applicant.check_password("Tongzhou#2027")
    assert AuditEntry.objects.filter(action="account.password_change").exists()


def test_password_change_refusals_change_nothing(city):
    c = logged_in(city.applicant)
    page = c.post(
        "/accounts/me/password/",
        {
            "old_password": "wrong",
            "new_password": "Tongzhou#2027",
            "new_password2": "Tongzhou#2027",
        },
    ).content.decode()
    assert "原密码不正确" in page
    page = c.post(
        "/accounts/me/password/",
        {
            "old_password": PASSWORD,
            "new_password": "password",
            "new_password2": "password",
        },
    ).content.decode()
    assert "密码" in page and "Tongzhou" not in page
    city.applicant.refresh_from_db()
    assert city.applicant.check_password(PASSWORD)


def test_phone_change_needs_the_code_sent_to_the_new_phone(city):
    c = logged_in(city.applicant)
    assert c.post(
        "/accounts/sms/send/", {"phone": "13911112222", "purpose": "change_phone"}
    ).json()["ok"]
    message = SmsMessage.objects.get(phone="13911112222")
    code = "".join(ch for ch in message.body if ch.isdigit())[:6]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    page = c.post(
        "/accounts/me/phone/", {"phone": "13911112222", "sms_code": wrong}
    ).content.decode()
    assert "短信验证码不正确" in page
    city.applicant.refresh_from_db()
    assert city.applicant.phone == "13800000001"
    c.post("/accounts/me/phone/", {"phone": "13911112222", "sms_code": code})
    city.applicant.refresh_from_db()
    assert city.applicant.phone == "13911112222"


def test_phone_taken_by_another_account_refused_without_telling_it_is_taken(city):
    # Issue 8 (no enumeration): a phone in use gets a warning SMS, never a code, and the
    # answer is the one a free phone gets with a wrong code; nothing changes.
    c = logged_in(city.applicant)
    answers = []
    for phone in (city.employer_admin.phone, "13911113333"):
        assert c.post("/accounts/sms/send/", {"phone": phone, "purpose": "change_phone"}).json()[
            "ok"
        ]
        page = c.post("/accounts/me/phone/", {"phone": phone, "sms_code": "000000"})
        answers.append(page.context["form"].errors.get_json_data())
    assert answers[0] == answers[1] and "已被其他账号使用" not in str(answers[0])
    assert (
        "您的验证码" not in SmsMessage.objects.filter(phone=city.employer_admin.phone).last().body
    )
    city.applicant.refresh_from_db()
    assert city.applicant.phone == "13800000001"


def test_change_phone_codes_need_a_login(client, city):
    response = client.post(
        "/accounts/sms/send/", {"phone": "13911112222", "purpose": "change_phone"}
    )
    assert response.status_code == 403
    assert not SmsMessage.objects.filter(phone="13911112222").exists()


def test_account_info_edit(city):
    c = logged_in(city.applicant)
    page = c.post("/accounts/me/account/", {"real_name": "张 晓明", "email": ""}).content.decode()
    assert "中间不能有空格" in page
    c.post("/accounts/me/account/", {"real_name": "张晓明", "email": "zxm@example.com"})
    city.applicant.refresh_from_db()
    assert city.applicant.email == "zxm@example.com"


def test_close_account_then_register_again_is_possible(city):
    c = logged_in(city.applicant)
    page = c.post("/accounts/me/close/", {"password": "wrong", "confirm": "on"}).content.decode()
    assert "密码不正确" in page
    response = c.post("/accounts/me/close/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    user = User.objects.get(pk=city.applicant.pk)
    assert user.closed_at is not None and not user.is_active
    assert not user.has_usable_password()
    assert SESSION_KEY not in c.session
    # The closed account cannot log in, and its ID number is free to register again.
    from rencai.accounts.services import find_user_by_identifier

    assert find_user_by_identifier(city.applicant.id_number) is None
    assert AuditEntry.objects.filter(action="account.close", object_id=str(user.pk)).exists()


def test_close_refused_while_a_registered_check_objects(city):
    def has_open_application(user):
        return "存在审核通过或正在审核中的申报记录" if user.pk == city.applicant.pk else None

    register_closure_check(has_open_application)
    try:
        page = (
            logged_in(city.applicant)
            .post("/accounts/me/close/", {"password": PASSWORD, "confirm": "on"})
            .content.decode()
        )
    finally:
        _checks.remove(has_open_application)
    assert "暂不能注销" in page and "正在审核中" in page
    city.applicant.refresh_from_db()
    assert city.applicant.closed_at is None and city.applicant.is_active
