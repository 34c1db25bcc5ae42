"""Identity numbers: the 18-digit resident ID (公民身份号码) and the unified social
credit code (统一社会信用代码). Only the check-character functions of python-stdnum are
used: its full validate() refuses real numbers whose region code changed and credit codes
whose registrar code is a letter (see ARCHITECTURE.md)."""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import ric, uscc

_RIC_SHAPE = re.compile(r"^\d{17}[\dX]$")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_SHAPE = re.compile(rf"^[{_USCC_ALPHABET}]{{18}}$")


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: datetime.date
    gender: str  # "M" or "F"


def clean_resident_id(raw: str, *, today: datetime.date | None = None) -> ResidentId:
    """Normalise and validate an 18-digit resident ID; a final ``x`` becomes ``X``."""
    number = (raw or "").strip().upper()
    if not number:
        raise ValidationError(_("请填写证件号码。"), code="required")
    if len(number) != 18:
        raise ValidationError(
            _("身份证号码应为18位，您填写了%(n)d位。") % {"n": len(number)}, code="length"
        )
    if not _RIC_SHAPE.match(number):
        raise ValidationError(
            _("身份证号码前17位应为数字，最后一位为数字或大写字母 X。"), code="shape"
        )
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("身份证号码中的出生日期 %(d)s 不存在，请核对。") % {"d": number[6:14]},
            code="birth_date",
        ) from None
    today = today or datetime.date.today()
    if birth > today or birth.year < 1900:
        raise ValidationError(
            _("身份证号码中的出生日期 %(d)s 不合理，请核对。") % {"d": birth.isoformat()},
            code="birth_date",
        )
    if ric.calc_check_digit(number) != number[-1]:
        raise ValidationError(
            _("身份证号码校验位不正确，请核对每一位数字（最后一位是 X 的请填写大写 X）。"),
            code="check_digit",
        )
    gender = "M" if int(number[16]) % 2 else "F"
    return ResidentId(number=number, birth_date=birth, gender=gender)


def resident_id_check_digit(first17: str) -> str:
    return ric.calc_check_digit(first17 + "0")


def clean_credit_code(raw: str) -> str:
    """Normalise (upper-case, no spaces) and validate a unified social credit code."""
    code = re.sub(r"\s+", "", raw or "").upper()
    if not code:
        raise ValidationError(_("请填写统一社会信用代码。"), code="required")
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位，您填写了%(n)d位。") % {"n": len(code)}, code="length"
        )
    if not _USCC_SHAPE.match(code):
        raise ValidationError(
            _("统一社会信用代码只能包含数字和大写字母（不含 I、O、Z、S、V）。"), code="shape"
        )
    if uscc.calc_check_digit(code[:17]) != code[-1]:
        raise ValidationError(_("统一社会信用代码校验位不正确，请核对。"), code="check_digit")
    return code


def credit_code_check_char(first17: str) -> str:
    return uscc.calc_check_digit(first17)


_PHONE = re.compile(r"^1[3-9]\d{9}$")


def clean_phone(raw: str) -> str:
    phone = re.sub(r"[\s-]+", "", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not _PHONE.match(phone):
        raise ValidationError(_("请填写11位中国大陆手机号码。"), code="phone")
    return phone


def clean_real_name(raw: str) -> str:
    name = (raw or "").strip()
    if not name:
        raise ValidationError(_("请填写真实姓名。"), code="required")
    if re.search(r"\s", name):
        raise ValidationError(
            _("姓名中间不能有空格（例如“白云”不要写成“白 云”）。"), code="inner_space"
        )
    if len(name) > 50:
        raise ValidationError(_("姓名过长（最多50个字符）。"), code="length")
    return name


def mask_id_number(number: str) -> str:
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str) -> str:
    """For public lists (F41): 张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else phone


def mask_contact(contact: str) -> str:
    """A free-text contact (a mobile number, a landline, an e-mail address): a mobile as
    ``mask_phone``, anything else keeps its first two and last two characters."""
    contact = (contact or "").strip()
    if len(contact) == 11 and contact.isdigit():
        return mask_phone(contact)
    if len(contact) <= 4:
        return "*" * len(contact)
    return contact[:2] + "*" * (len(contact) - 4) + contact[-2:]


def mask_bank_account(account: str) -> str:
    """19 digits → 6217****8901: enough to tell two accounts apart, not enough to pay."""
    account = (account or "").strip()
    if len(account) <= 8:
        return "*" * len(account)
    return account[:4] + "****" + account[-4:]


_LOGIN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]{3,29}$")


def clean_login_name(raw: str) -> str:
    """Optional login name: starts with a letter, so that it never looks like an ID number
    or a credit code (those log in by themselves)."""
    value = (raw or "").strip()
    if value and not _LOGIN_NAME.match(value):
        raise ValidationError(
            _("登录名以字母开头，4–30位，只能包含字母、数字、下划线和点。"), code="login_name"
        )
    return value
