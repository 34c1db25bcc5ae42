"""F01, F02: resident ID numbers and unified social credit codes."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from rencai.identity import (
    clean_credit_code,
    clean_phone,
    clean_real_name,
    clean_resident_id,
    mask_id_number,
)
from tests.conftest import make_credit_code, make_id

VALID_X = "11010519491231002X"  # the standard's own example, check character X


def test_valid_id_gives_birth_date_and_gender():
    rid = clean_resident_id(make_id("11010519900307123"))
    assert rid.birth_date == datetime.date(1990, 3, 7)
    assert rid.gender == "M"  # 17th digit 3 is odd
    assert clean_resident_id(make_id("11010519900307124")).gender == "F"


def test_lowercase_x_is_stored_upper():
    assert clean_resident_id(VALID_X.lower()).number == VALID_X


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("110105194912310021", "校验位不正确"),
        ("11010519491231002", "应为18位，您填写了17位"),
        ("1101051949123100211", "应为18位，您填写了19位"),
        ("110105199902300011", "出生日期 19990230 不存在"),
        ("11010519491231002A", "最后一位为数字或大写字母 X"),
        ("", "请填写证件号码"),
    ],
)
def test_bad_id_numbers_get_clear_chinese_messages(number, message):
    with pytest.raises(ValidationError) as exc:
        clean_resident_id(number)
    assert message in " ".join(exc.value.messages)


def test_future_birth_date_refused():
    with pytest.raises(ValidationError, match="不合理"):
        clean_resident_id(make_id("11010520991231002"), today=datetime.date(2026, 11, 23))


def test_credit_code_upper_cased_and_checked():
    code = make_credit_code("91350100M000100Y4")
    assert clean_credit_code(code.lower()) == code
    # Registrar codes that are letters (N…, Y…) are real: accepted.
    assert clean_credit_code(make_credit_code("N2350100M000100Y4")).startswith("N")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y40", "校验位不正确"),
        ("91350100M000100Y", "应为18位"),
        ("91350100M000100YI3", "只能包含数字和大写字母"),
    ],
)
def test_bad_credit_codes_refused(code, message):
    real = make_credit_code("91350100M000100Y4")
    if message == "校验位不正确":
        wrong = "0" if real[-1] != "0" else "1"
        code = real[:-1] + wrong
    with pytest.raises(ValidationError) as exc:
        clean_credit_code(code)
    assert message in " ".join(exc.value.messages)


def test_names_with_inner_spaces_refused():
    assert clean_real_name(" 白云 ") == "白云"
    with pytest.raises(ValidationError, match="中间不能有空格"):
        clean_real_name("白 云")


def test_phone_normalised():
    assert clean_phone("+86 138-0000-0001") == "13800000001"
    with pytest.raises(ValidationError):
        clean_phone("12345")


def test_masking_hides_the_middle():
    assert mask_id_number(VALID_X) == "1101**********002X"
