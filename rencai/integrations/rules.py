"""Rule helpers for the program engine (F21–F23): pure functions over the outside systems.

Each check returns ``(ok, reason)`` with a reason in plain Chinese that tells the applicant
what was found and, when it fails, what to do. When an outside system cannot answer they
raise ``OutsideSystemUnavailable`` (never a pass, never "not found"). The adapter is the
configured one (``rencai.integrations.adapters``) unless one is passed in."""

import datetime
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from rencai.integrations.adapters import (
    EducationRegistry,
    SocialInsurance,
    VerifyResult,
    education_registry,
    normalize_certificate_number,
    social_insurance,
)
from rencai.integrations.models import EducationCertificate, InsuredPerson
from rencai.integrations.months import month_label, parse_month
from rencai.profiles.models import Education

# F21: the earliest pension-contribution month may not be before these (CHAIN manual).
DEFAULT_EARLIEST_BY_LEVEL: Mapping[str, str] = MappingProxyType(
    {"master": "2017-01", "doctor": "2017-01", "bachelor": "2019-06"}
)

NOT_FOUND_ADVICE = gettext_noop(
    "请核对证书编号；确认无误后请联系毕业院校确认证书信息是否已上传至教育部"
)


def _level_label(level: str) -> str:
    try:
        return str(Education.Level(level).label)
    except ValueError:
        raise ValueError(
            f"education level must be one of {Education.Level.values}, not {level!r}"
        ) from None


def _status_label(status: str) -> str:
    try:
        return str(InsuredPerson.Status(status).label)
    except ValueError:
        return status


def check_pension_start(
    id_number: str,
    education_level: str,
    *,
    earliest_by_level: Mapping[str, str] = DEFAULT_EARLIEST_BY_LEVEL,
    insurance: SocialInsurance | None = None,
) -> tuple[bool, str]:
    """F21: the person is normally insured and the earliest pension-contribution month is not
    before the month set for the education level. A level without a month (大专 by default)
    is only checked for the insured status."""
    level_label = _level_label(education_level)
    record = (insurance or social_insurance()).lookup(id_number)
    if record is None:
        return False, _(
            "系统未查询到您参加企业养老保险的记录，不能申报。"
            "请先由用人单位为您办理企业养老保险参保并按月缴费；"
            "如您已参保，请携带身份证到社保经办机构核实参保信息后再申报。"
        )
    if not record.is_normal:
        return False, _(
            "您的企业养老保险参保状态为“%(status)s”，不是正常参保状态（在职参保），不能申报。"
            "请联系用人单位或社保经办机构恢复正常参保后再申报。"
        ) % {"status": _status_label(record.status)}
    if record.earliest_month is None:
        return False, _(
            "系统未查询到您的企业养老保险缴费记录，不能申报。"
            "请确认用人单位已为您缴费，或到社保经办机构核实缴费信息。"
        )
    limit = earliest_by_level.get(education_level)
    if limit is None:
        return True, _(
            "您为正常参保状态，养老保险最早缴费年月为%(earliest)s；"
            "%(level)s学历没有最早缴费年月的限制。"
        ) % {"earliest": month_label(record.earliest_month), "level": level_label}
    limit_month = parse_month(limit)
    values = {
        "earliest": month_label(record.earliest_month),
        "level": level_label,
        "limit": month_label(limit_month),
    }
    if record.earliest_month < limit_month:
        return False, _(
            "您的企业养老保险最早缴费年月为%(earliest)s，早于%(level)s学历规定的"
            "%(limit)s，不能申报。如缴费记录有误，请到社保经办机构核实。"
        ) % values
    return True, _(
        "您为正常参保状态，养老保险最早缴费年月为%(earliest)s，不早于%(level)s学历规定的%(limit)s。"
    ) % values


def deducted_months(
    id_number: str, start, end, *, insurance: SocialInsurance | None = None
) -> list[datetime.date]:
    """F21: the months from ``start`` to ``end`` (both included; dates or "YYYY-MM") without a
    pension contribution; they are deducted from the claimed months."""
    return (insurance or social_insurance()).months_without_contribution(id_number, start, end)


def _count(value) -> int:
    return len(value) if isinstance(value, Sequence | set | frozenset) else int(value)


def expected_amount(claimed_months, deducted, standard) -> Decimal:
    """(claimed months − deducted months) × the monthly standard. ``claimed_months`` and
    ``deducted`` are counts or lists of months."""
    claimed, minus = _count(claimed_months), _count(deducted)
    if claimed < 0 or minus < 0 or minus > claimed:
        raise ValueError(f"deducted months ({minus}) must be between 0 and claimed ({claimed})")
    return ((claimed - minus) * Decimal(str(standard))).quantize(Decimal("0.01"))


def _yuan(amount: Decimal) -> str:
    amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    text = str(int(amount)) if amount == amount.to_integral_value() else str(amount)
    return text + "元"


def _months_text(months) -> str:
    months = sorted(months)
    shown = "、".join(month_label(m) for m in months[:12])
    return shown + (_("等%(n)d个月") % {"n": len(months)} if len(months) > 12 else "")


def check_claim_amount(
    claimed_months, deducted, standard, *, applied_amount=None
) -> tuple[bool, str]:
    """F21: the amount due is (claimed months − deducted months) × the standard. With
    ``applied_amount`` (the amount the applicant entered) a difference fails and the reason
    explains it; without it the reason states the calculation."""
    claimed, minus = _count(claimed_months), _count(deducted)
    due = expected_amount(claimed, minus, standard)
    values = {
        "claimed": claimed,
        "deducted": minus,
        "paid": claimed - minus,
        "standard": _yuan(Decimal(str(standard))),
        "due": _yuan(due),
    }
    calculation = (
        _(
            "申请补贴月数%(claimed)d个月，减去扣发月数%(deducted)d个月，实发月数%(paid)d个月，"
            "乘以每月标准%(standard)s，应发金额为%(due)s。"
        )
        % values
    )
    if minus and not isinstance(deducted, int):
        calculation += _("扣发月份（未缴纳企业养老保险）：%(months)s。") % {
            "months": _months_text(deducted)
        }
    if applied_amount is None:
        return True, calculation
    applied = Decimal(str(applied_amount)).quantize(Decimal("0.01"))
    if applied == due:
        return True, calculation
    if minus:
        advice = _(
            "申请补贴金额%(applied)s与应发金额%(due)s不一致：您在申请期间有%(deducted)d个月"
            "没有缴纳企业养老保险，这些月份不发放补贴，请核查。"
        )
    else:
        advice = _("申请补贴金额%(applied)s与应发金额%(due)s不一致，请核查。")
    return False, advice % {**values, "applied": _yuan(applied)} + calculation


def check_certificate(
    number: str, *, name: str, kind: str, registry: EducationRegistry | None = None
) -> tuple[bool, str]:
    """F23: the diploma (``kind="diploma"``) or degree (``kind="degree"``) certificate number
    is in the education ministry's registry, for this name and this kind of certificate."""
    kind_label = str(EducationCertificate.Kind(kind).label)
    number = normalize_certificate_number(number)
    result = (registry or education_registry()).verify(number, name=name, kind=kind)
    values = {"kind": kind_label, "number": number, "name": name}
    if result.outcome == VerifyResult.VERIFIED:
        return True, _("%(kind)s编号%(number)s已通过教育部学历学位信息校验。") % values
    if result.outcome == VerifyResult.NOT_FOUND:
        return False, _("在教育部学历学位信息中查询不到%(kind)s编号%(number)s。%(advice)s。") % {
            **values,
            "advice": _(NOT_FOUND_ADVICE),
        }
    problems = []
    if "kind" in result.mismatched:
        registered = str(EducationCertificate.Kind(result.record.kind).label)
        problems.append(
            _(
                "该编号在教育部登记的是%(registered)s，不是%(kind)s，"
                "请检查是否把学历证书编号和学位证书编号填反了"
            )
            % {**values, "registered": registered}
        )
    if "name" in result.mismatched:
        problems.append(
            _("该证书在教育部登记的持证人姓名与您填写的姓名“%(name)s”不一致，请核对姓名和证书编号")
            % values
        )
    return False, _("%(kind)s编号%(number)s校验未通过：%(problems)s。") % {
        **values,
        "problems": "；".join(problems),
    }


def bank_account_of(
    id_number: str, *, insurance: SocialInsurance | None = None
) -> tuple[str, str] | None:
    """F22: (bank name, account number) of the person's social-security card, the account
    subsidies are paid to; None when the person or the card's account is not on record."""
    record = (insurance or social_insurance()).lookup(id_number)
    if record is None or not record.bank_account:
        return None
    return record.bank_name, record.bank_account
