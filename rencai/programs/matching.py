"""Policy matching (F50): a visitor picks a few conditions and sees, for every open
programme, whether they qualify, why not, or what is checked only when they apply. The
programme's own rules from its pack decide, through the very function the eligibility
pre-check uses (``rules.fact_rule``); nothing here is hard-coded per programme."""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from rencai.programs.models import Program


@dataclass
class Conditions:
    education: str = ""  # a key of rules.EDUCATION_RANK, or "" for none
    qualification: bool = False
    employed: bool = False
    talent_level: str = ""  # a category code of the talent pack, or "" for none
    first_contract: datetime.date | None = None
    applicant: str = "person"


@dataclass
class Match:
    program: Program
    verdict: str  # "yes", "no" or "check"
    reasons: list[str] = field(default_factory=list)
    later: list[str] = field(default_factory=list)


# Rules that need the person's records: checked when they apply (the pre-check, B2).
LATER = {
    "profile_required": gettext_noop("填写基本信息和学历信息"),
    "no_overlap": gettext_noop("申请月份与以往申请不重复"),
    "lifetime_cap_months": gettext_noop("累计月数不超过上限"),
    "max_claims": gettext_noop("申请次数不超过上限"),
    "materials_required": gettext_noop("上传规定的申报材料"),
    "pension_start": gettext_noop("养老保险参保时间和状态（社保数据核对）"),
    "deducted_matches_contributions": gettext_noop("扣发月数与社保缴费记录一致"),
    "certificates_verified": gettext_noop("学历学位证书经教育部信息核验"),
    "contract_years_at_least": gettext_noop("与申报单位的劳动合同期限"),
    "single_open": gettext_noop("没有正在办理的同类申请"),
}


def facts_from(cond: Conditions):
    from rencai.applications.rules import Facts
    from rencai.talent.services import level_by_code

    level = level_by_code(cond.talent_level) if cond.talent_level else None
    return Facts(
        education=cond.education or None,
        qualification=cond.qualification,
        employed=cond.employed,
        talent_rank=level["rank"] if level else 0,
        talent_name=level["name"] if level else "",
        first_contract=cond.first_contract,
    )


def match_programs(cond: Conditions, *, today: datetime.date | None = None) -> list[Match]:
    from rencai.applications.rules import FACT_RULES, fact_rule, window_open

    today = today or timezone.localdate()
    facts = facts_from(cond)
    results = []
    programs = (
        Program.objects.filter(active=True, applicant_kind=cond.applicant)
        .select_related("current_version", "pack")
        .order_by("pack__code", "order")
    )
    for program in programs:
        definition = program.definition
        reasons, later = [], []
        is_open, why = window_open(definition, today)
        if not is_open:
            reasons.append(why)
        for rule in definition.get("rules", []):
            kind = rule["kind"]
            if kind in FACT_RULES:
                result = fact_rule(rule, facts)
                if not result.ok:
                    reasons.append(result.reason)
            elif kind in LATER:
                later.append(_(LATER[kind]))
        verdict = "no" if reasons else ("check" if later else "yes")
        results.append(Match(program=program, verdict=verdict, reasons=reasons, later=later))
    order = {"yes": 0, "check": 1, "no": 2}
    return sorted(results, key=lambda m: order[m.verdict])
