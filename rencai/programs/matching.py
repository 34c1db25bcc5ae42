"""Policy matching (F50): a visitor picks a few conditions and sees, for every open
programme, whether they qualify, why not, or what is checked only when they apply. The
programme's own rules from its pack decide; nothing here is hard-coded per programme."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from rencai.programs.models import Program

EDUCATION_RANK = {"college": 1, "bachelor": 2, "master": 3, "doctor": 4}
EDUCATION_NAMES = {
    "college": gettext_noop("大专"),
    "bachelor": gettext_noop("本科"),
    "master": gettext_noop("硕士研究生"),
    "doctor": gettext_noop("博士研究生"),
}


@dataclass
class Conditions:
    education: str = ""  # a key of EDUCATION_RANK, or "" for none
    qualification: bool = False
    employed: bool = False
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
}


def match_programs(cond: Conditions) -> list[Match]:
    results = []
    programs = (
        Program.objects.filter(active=True, applicant_kind=cond.applicant)
        .select_related("current_version", "pack")
        .order_by("pack__code", "order")
    )
    for program in programs:
        definition = program.definition
        reasons, later = [], []
        for rule in definition.get("rules", []):
            kind = rule["kind"]
            if kind == "education_at_least":
                need = rule["level"]
                have = EDUCATION_RANK.get(cond.education, 0)
                if have < EDUCATION_RANK[need]:
                    reasons.append(
                        _("要求%(need)s及以上学历。") % {"need": _(EDUCATION_NAMES[need])}
                    )
            elif kind == "qualification_required":
                if not cond.qualification:
                    reasons.append(_("要求取得职业资格（技能等级）证书。"))
            elif kind == "employer_required":
                if not cond.employed:
                    reasons.append(_("要求在本市已注册并通过审核的单位就业。"))
            elif kind in LATER:
                later.append(_(LATER[kind]))
        verdict = "no" if reasons else ("check" if later else "yes")
        results.append(Match(program=program, verdict=verdict, reasons=reasons, later=later))
    order = {"yes": 0, "check": 1, "no": 2}
    return sorted(results, key=lambda m: order[m.verdict])
