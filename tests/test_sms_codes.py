"""F06, F07, F09: SMS codes: 6 digits, 5 minutes, single use, 1 per 60 s, 10 per day."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from rencai.accounts.models import SmsCode
from rencai.accounts.sms_codes import sms_code_check, sms_code_send, sms_code_use
from rencai.errors import ServiceError
from rencai.notifications.models import SmsMessage
from tests.conftest import latest_sms_code

PHONE = "13900000009"
T0 = datetime.datetime(2026, 11, 23, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_code_is_six_digits_and_goes_through_the_outbox(
    db, clock, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sms_code_send(phone=PHONE, purpose="register")
    message = SmsMessage.objects.get(phone=PHONE)
    assert message.status == "sent"  # delivered to the backend once the transaction commits
    code = latest_sms_code(PHONE)
    assert len(code) == 6 and code.isdigit()
    assert code not in SmsCode.objects.get().code_hash  # stored hashed


def test_code_expires_after_five_minutes(db, clock):
    sms_code_send(phone=PHONE, purpose="register")
    code = latest_sms_code(PHONE)
    clock.shift(datetime.timedelta(minutes=4, seconds=59))
    assert sms_code_check(phone=PHONE, purpose="register", code=code)
    clock.shift(datetime.timedelta(seconds=2))
    with pytest.raises(ServiceError, match="已过期"):
        sms_code_check(phone=PHONE, purpose="register", code=code)


def test_code_is_single_use(db, clock):
    sms_code_send(phone=PHONE, purpose="register")
    code = latest_sms_code(PHONE)
    code_id = sms_code_check(phone=PHONE, purpose="register", code=code)
    sms_code_use(code_id)
    with pytest.raises(ServiceError, match="已使用"):
        sms_code_check(phone=PHONE, purpose="register", code=code)
    with pytest.raises(ServiceError, match="已使用"):
        sms_code_use(code_id)  # a racing second request loses


def test_code_is_bound_to_its_purpose(db, clock):
    sms_code_send(phone=PHONE, purpose="register")
    code = latest_sms_code(PHONE)
    with pytest.raises(ServiceError, match="请先获取"):
        sms_code_check(phone=PHONE, purpose="change_phone", code=code)


def test_five_wrong_tries_void_the_code(db, clock):
    sms_code_send(phone=PHONE, purpose="register")
    code = latest_sms_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(4):
        with pytest.raises(ServiceError, match="不正确"):
            sms_code_check(phone=PHONE, purpose="register", code=wrong)
    with pytest.raises(ServiceError, match="错误次数过多"):
        sms_code_check(phone=PHONE, purpose="register", code=wrong)
    with pytest.raises(ServiceError, match="已失效"):
        sms_code_check(phone=PHONE, purpose="register", code=code)


def test_one_code_per_phone_per_sixty_seconds(db, clock):
    sms_code_send(phone=PHONE, purpose="register")
    clock.shift(datetime.timedelta(seconds=59))
    with pytest.raises(ServiceError, match="1秒后再试"):
        sms_code_send(phone=PHONE, purpose="login")
    assert SmsCode.objects.count() == 1
    clock.shift(datetime.timedelta(seconds=1))
    sms_code_send(phone=PHONE, purpose="register")
    assert SmsCode.objects.count() == 2


def test_ten_codes_per_phone_per_day(db, clock):
    for _ in range(10):
        sms_code_send(phone=PHONE, purpose="register")
        clock.shift(datetime.timedelta(minutes=1))
    with pytest.raises(ServiceError, match="今日获取验证码已达10次上限"):
        sms_code_send(phone=PHONE, purpose="register")
    assert SmsCode.objects.count() == 10
    # The day is the city's calendar day (Asia/Shanghai): after local midnight it resets.
    local_midnight = timezone.localtime(T0).replace(hour=0, minute=0) + datetime.timedelta(days=1)
    clock.move_to(local_midnight + datetime.timedelta(seconds=1))
    sms_code_send(phone=PHONE, purpose="register")
    assert SmsCode.objects.count() == 11


def test_the_send_endpoint_answers_429_with_a_chinese_message(client, db, clock):
    assert client.post("/accounts/sms/send/", {"phone": PHONE, "purpose": "register"}).json()["ok"]
    response = client.post("/accounts/sms/send/", {"phone": PHONE, "purpose": "register"})
    assert response.status_code == 429
    assert "过于频繁" in response.json()["message"]
    bad = client.post("/accounts/sms/send/", {"phone": "123", "purpose": "register"})
    assert bad.status_code == 400 and "11位" in bad.json()["message"]


def test_registering_with_a_used_phone_sends_a_warning_not_a_code(db, city, clock):
    sms_code_send(phone=city.applicant.phone, purpose="register")
    body = SmsMessage.objects.filter(phone=city.applicant.phone).latest("id").body
    assert "已注册" in body and not any(ch.isdigit() for ch in body.replace("【", ""))
