"""Eligibility rules and amounts (F19, F20, F25, B2). ``precheck`` runs every rule of the
program against an application and returns each result with a reason in plain Chinese;
submission refuses when any rule fails. Amount, months, claim kind and the n-th upgrade
are computed here and nowhere else."""

import contextlib
import contextvars
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from rencai.applications import records
from rencai.applications.models import Application
from rencai.applications.uploads import format_allowed, formats_text
from rencai.errors import ServiceError
from rencai.programs import months as m

S = Application.State

EDUCATION_NAMES = {
    "college": gettext_noop("大专"),
    "bachelor": gettext_noop("本科"),
    "master": gettext_noop("硕士研究生"),
    "doctor": gettext_noop("博士研究生"),
}
EDUCATION_RANK = {"college": 1, "bachelor": 2, "master": 3, "doctor": 4}
# States whose claimed months count against overlap, caps and claim counts: everything
# filed and not refused. Drafts and rejections do not count.
COUNTING_STATES = [
    Application.State.SUBMITTED,
    Application.State.IN_REVIEW,
    Application.State.RETURNED,
    Application.State.APPROVED,
    Application.State.TO_CONFIRM,
    Application.State.CONFIRMED,
]
# Approved, and for chains that pay out, paid and confirmed.
DONE_STATES = [
    Application.State.APPROVED,
    Application.State.TO_CONFIRM,
    Application.State.CONFIRMED,
]
NO_EDUCATION = gettext_lazy("请先在“学历信息”中填写最高学历。")
ORDINALS = {1: "第一次", 2: "第二次", 3: "第三次"}


class RuleResult:
    """One rule's verdict, with its name and the reason shown to the applicant (B2).

    ``name`` and ``reason`` may be given unwritten, as a lazy translation or a function
    that writes the text: each is written, in the language active then, when first read.
    A submission reads only the failed rules' texts; writing every rule's, some thirty
    translations, was a tenth of a submission's Python (issue 7)."""

    __slots__ = ("_name", "_reason", "code", "ok")

    def __init__(self, code: str, name, ok: bool, reason):
        self.code, self.ok, self._name, self._reason = code, ok, name, reason

    @staticmethod
    def _written(text) -> str:
        return str(text() if callable(text) else text)

    @property
    def name(self) -> str:
        if type(self._name) is not str:
            self._name = self._written(self._name)
        return self._name

    @property
    def reason(self) -> str:
        if type(self._reason) is not str:
            self._reason = self._written(self._reason)
        return self._reason

    def __eq__(self, other):
        if not isinstance(other, RuleResult):
            return NotImplemented
        return (self.code, self.name, self.ok, self.reason) == (
            other.code,
            other.name,
            other.ok,
            other.reason,
        )

    __hash__ = None

    def __repr__(self):
        return f"RuleResult({self.code!r}, {self.name!r}, {self.ok!r}, {self.reason!r})"


@dataclass
class Facts:
    """What the condition rules look at (F49, F27, F50). The pre-check reads them from the
    applicant's records; policy matching takes them from what a visitor ticks. One
    function, ``fact_rule``, decides for both, so the two can never disagree."""

    education: str | None = None  # a key of EDUCATION_RANK
    qualification: bool = False
    employed: bool = False
    employer_name: str = ""
    talent_rank: int = 0  # 0: no category
    talent_name: str = ""
    first_contract: datetime.date | None = None


FACT_RULES = {
    "education_at_least",
    "qualification_required",
    "employer_required",
    "talent_at_least",
    "first_contract_before",
    "first_contract_from",
}


def fact_rule(rule: dict, facts: Facts) -> RuleResult:
    kind = rule["kind"]
    if kind == "education_at_least":
        need = rule["level"]
        have = facts.education
        ok = have is not None and EDUCATION_RANK.get(have, 0) >= EDUCATION_RANK[need]
        return RuleResult(
            kind,
            gettext_lazy("学历要求"),
            ok,
            lambda: (
                _("最高学历为%(have)s，要求%(need)s及以上。")
                % {
                    "have": _(EDUCATION_NAMES[have]) if have in EDUCATION_NAMES else _("未填写"),
                    "need": _(EDUCATION_NAMES[need]),
                }
            ),
        )
    if kind == "qualification_required":
        ok = facts.qualification
        return RuleResult(
            kind,
            gettext_lazy("职业资格"),
            ok,
            gettext_lazy("已取得职业资格（技能等级）证书。")
            if ok
            else gettext_lazy("要求取得职业资格（技能等级）证书，请在“职业资格”中填写。"),
        )
    if kind == "employer_required":
        ok = facts.employed
        return RuleResult(
            kind,
            gettext_lazy("所在单位"),
            ok,
            lambda: (
                (_("所在单位“%(e)s”已通过审核。") % {"e": facts.employer_name})
                if ok and facts.employer_name
                else _("在本市已注册并通过审核的单位就业。")
                if ok
                else _("所在单位尚未通过区县人社部门审核，暂不能申报。")
                if facts.employer_name
                else _("要求在本市已注册并通过审核的单位就业。")
            ),
        )
    if kind == "talent_at_least":
        ok = facts.talent_rank >= rule["rank"]
        return RuleResult(
            kind,
            gettext_lazy("人才类型"),
            ok,
            lambda: (
                _("要求%(need)s及以上人才，当前：%(have)s。")
                % {
                    "need": rule["level_name"],
                    "have": facts.talent_name or _("尚未认定人才类型"),
                }
            ),
        )
    # first_contract_before / first_contract_from (F27): the first labour contract's date
    cutoff = datetime.date.fromisoformat(rule["date"])
    first = facts.first_contract
    before = kind == "first_contract_before"
    if first is None:
        return RuleResult(
            kind,
            gettext_lazy("首次签订劳动合同时间"),
            False,
            gettext_lazy("请在“工作经历”中填写劳动合同开始日期。"),
        )
    ok = first < cutoff if before else first >= cutoff

    def reason():
        need = _("%(d)s之前首次签订劳动合同") if before else _("%(d)s起首次签订劳动合同")
        return _("要求%(need)s，您首次签订劳动合同的日期是%(first)s。") % {
            "need": need % {"d": cutoff.isoformat()},
            "first": first.isoformat(),
        }

    return RuleResult(kind, gettext_lazy("首次签订劳动合同时间"), ok, reason)


def facts_of(applicant, employer, *, education=None) -> Facts:
    """The applicant's facts from their records."""
    facts = Facts(
        education=education,
        employed=employer is not None and employer.is_approved,
        employer_name=employer.name if employer is not None else "",
    )
    if applicant.is_person:
        record = person_record(applicant)
        facts.qualification = record.has_qualification
        category = talent_category(applicant)
        if category is not None:
            facts.talent_rank, facts.talent_name = category.rank, category.level_name
        facts.first_contract = record.first_contract
    return facts


def category_gates(user, programs) -> dict[int, str]:
    """F49: the programs closed to the person by their talent category, with the reason
    (shown greyed out on the business-entry page)."""
    if not user.is_person:
        return {}
    facts = None
    closed = {}
    for program in programs:
        for rule in program.definition.get("rules", []):
            if rule["kind"] != "talent_at_least":
                continue
            facts = facts or facts_of(user, None)
            result = fact_rule(rule, facts)
            if not result.ok:
                closed[program.pk] = result.reason
    return closed


@dataclass
class Period:
    start: int
    end: int
    deducted: int
    months: int
    explanation: str


def period_of(definition: dict, data: dict) -> Period | None:
    """The claimed period from the filled form, or None when the program has none or the
    months are not filled in yet. Raises ValueError for a malformed month."""
    spec = definition.get("period")
    if not spec:
        return None
    start_raw, end_raw = data.get(spec["start"]), data.get(spec["end"])
    if not start_raw or not end_raw:
        return None
    start, end = m.parse_month(start_raw), m.parse_month(end_raw)
    deducted = int(data.get(spec["deducted"]) or 0) if spec.get("deducted") else 0
    explanation = (data.get(spec["explanation"]) or "").strip() if spec.get("explanation") else ""
    months = m.claimed_months(start, end, deducted, inclusive=spec.get("inclusive", True))
    return Period(start, end, deducted, months, explanation)


# Within one submission several rules and the engine ask for the same records of the
# applicant (highest education, talent category): inside ``records_read_once()`` each is
# read once (issue 7). Outside it, and in every other request, nothing is kept.
_read_once = contextvars.ContextVar("rencai_read_once", default=None)


@contextlib.contextmanager
def records_read_once():
    token = _read_once.set({})
    try:
        yield
    finally:
        _read_once.reset(token)


def _local_date() -> datetime.date:
    """Today in the city's time zone; inside ``records_read_once`` asked once (the time
    zone is a context-local read, and a submission asked for the date seven times)."""
    memo = _read_once.get()
    if memo is None:
        return timezone.localdate()
    if ("today",) not in memo:
        memo[("today",)] = timezone.localdate()
    return memo[("today",)]


def _once(key: tuple, read):
    memo = _read_once.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]


def forget_gaps(app: Application) -> None:
    """After a 容缺 declaration: the next ``gaps_of`` reads them again."""
    memo = _read_once.get()
    if memo is not None:
        memo.pop(("gaps", app.pk), None)


def person_record(user, today: datetime.date | None = None) -> records.PersonRecord:
    """What the rules read from a person's own records, in one statement (issue 7): the
    talent category in force now and the exception-list bar in force on ``today`` (the
    pre-check's day)."""
    if not getattr(user, "is_person", False) or user.pk is None:
        return records.PersonRecord()
    now = _local_date()
    today = today or now
    return _once(("person", user.pk, today), lambda: records.person_record(user, today, now))


def highest_education(user) -> str | None:
    return person_record(user).education


def talent_category(user):
    """The applicant's talent category in force (``talent.services.current_category``)."""
    from rencai.talent.models import TalentCategory

    def read():
        pk = person_record(user).category_id
        return TalentCategory.objects.select_related("application").get(pk=pk) if pk else None

    return _once(("category", user.pk), read)


def others_of(app: Application) -> list[records.Other]:
    """The applicant's other filed, not refused applications of the program, oldest first:
    what the claim-kind, upgrade, overlap, cap and count rules all look at, read once."""
    return _once(
        ("others", app.pk, app.applicant_id, app.program_id),
        lambda: records.others_of(app, tuple(COUNTING_STATES)),
    )


def attachments_of(app: Application) -> list[records.Attached]:
    """The application's attached materials by type, with their file names: the material
    rules, the 容缺 check and the submitted version's snapshot all read them, once."""
    if app.pk is None:
        return []
    return _once(("attachments", app.pk), lambda: records.attachments_of(app))


def gaps_of(app: Application) -> list:
    """The application's 容缺 declarations (F47), read once."""
    if app.pk is None:
        return []
    return _once(("gaps", app.pk), lambda: records.gaps_of(app))


def read_all_at_once(app: Application, today: datetime.date | None = None) -> None:
    """Inside ``records_read_once``: read everything a submission's rules and snapshot
    look at, for ``app`` and its applicant, in one statement (issue 7); the functions
    above then answer from it. The person's records are read as on ``today``."""
    if _read_once.get() is None or app.pk is None:
        return
    now = _local_date()
    today = today or now
    bundle = records.submission_records(app, tuple(COUNTING_STATES), today, now)
    memo = _read_once.get()
    if app.applicant.is_person:
        memo[("person", app.applicant_id, today)] = bundle.person
    memo[("others", app.pk, app.applicant_id, app.program_id)] = bundle.others
    memo[("attachments", app.pk)] = bundle.attachments
    memo[("gaps", app.pk)] = bundle.gaps
    memo[("version", app.pk)] = bundle.last_version


def next_version_number(app: Application) -> int:
    """The number of the application's next snapshot (F35); the application is locked."""
    memo = _read_once.get()
    if memo is None or ("version", app.pk) not in memo:
        return records.last_version_number(app) + 1
    memo[("version", app.pk)] += 1
    return memo[("version", app.pk)]


def claim_kind_of(app: Application) -> str:
    """New claim or renewal (F25): a renewal when an approved claim of the program exists."""
    approved = any(o.state in DONE_STATES for o in others_of(app))
    return Application.ClaimKind.RENEWAL if approved else Application.ClaimKind.NEW


def upgrade_number_of(app: Application) -> int:
    """First, second, … upgrade (F20), from the person's approved applications."""
    return sum(o.state in DONE_STATES for o in others_of(app)) + 1


def amount_of(app: Application, period: Period | None, education: str | None) -> Decimal | None:
    amount = _amount(app, period, education)
    return amount.quantize(Decimal("0.01")) if amount is not None else None


def _amount(app: Application, period: Period | None, education: str | None) -> Decimal | None:
    spec = app.definition.get("amount") or {"kind": "none"}
    kind = spec["kind"]
    if kind == "fixed":
        return Decimal(spec["amount"])
    if period is None or period.months <= 0:
        return None
    if kind == "per_month":
        return Decimal(spec["standard"]) * period.months
    if kind == "by_education":
        per_month = spec["per_month"].get(education or "")
        return Decimal(per_month) * period.months if per_month is not None else None
    return None


def window_open(definition: dict, today: datetime.date) -> tuple[bool, str]:
    opening = definition.get("opening") or {"always": True}
    if opening.get("always", True):
        return True, _("常年受理。")
    md = today.strftime("%m-%d")
    for w in opening["windows"]:
        inside = (
            w["start"] <= md <= w["end"]
            if w["start"] <= w["end"]
            else (md >= w["start"] or md <= w["end"])
        )
        if inside:
            return True, _("当前在受理时间内（每年 %(s)s 至 %(e)s）。") % {
                "s": w["start"],
                "e": w["end"],
            }
    spans = "、".join(f"{w['start']} 至 {w['end']}" for w in opening["windows"])
    return False, _("当前不在受理时间内。受理时间：每年 %(spans)s。") % {"spans": spans}


def precheck(app: Application, *, today: datetime.date | None = None) -> list[RuleResult]:
    """Every rule with its result and a reason (B2)."""
    today = today or _local_date()
    definition = app.definition
    applicant = app.applicant
    results: list[RuleResult] = []

    def add(code, name, ok, reason):
        results.append(RuleResult(code, name, ok, reason))

    ok, reason = window_open(definition, today)
    add("opening", gettext_lazy("受理时间"), ok, reason)

    if applicant.is_person:
        # F55: a person on the exception list applies for nothing until the bar ends
        from rencai.integrity.models import ExceptionEntry

        barred_id = person_record(applicant, today).barred_id
        entry = ExceptionEntry.objects.get(pk=barred_id) if barred_id else None
        add(
            "exception_list",
            gettext_lazy("异常名单"),
            entry is None,
            gettext_lazy("未被列入异常名单。")
            if entry is None
            else lambda: (
                _("您因“%(r)s”被列入异常名单，%(d)s前不能申报。")
                % {"r": entry.reason, "d": entry.ends_on.isoformat()}
            ),
        )
        approved = applicant.registration_status == "approved"
        add(
            "registration",
            gettext_lazy("注册审核"),
            approved,
            gettext_lazy("注册已通过单位审核。")
            if approved
            else gettext_lazy("注册尚未通过单位审核。"),
        )
    else:
        ok = app.employer is not None and app.employer.is_approved
        add(
            "registration",
            gettext_lazy("单位注册审核"),
            ok,
            gettext_lazy("单位注册已通过审核。")
            if ok
            else gettext_lazy("单位注册尚未通过区县人社部门审核。"),
        )

    missing = [
        f["label"]
        for f in definition["fields"]
        if f["required"] and app.data.get(f["code"]) in (None, "")
    ]
    add(
        "fields",
        gettext_lazy("必填内容"),
        not missing,
        gettext_lazy("必填内容已填写完整。")
        if not missing
        else lambda: _("以下内容未填写：%(f)s。") % {"f": "、".join(missing)},
    )

    formats = material_formats(app)
    if formats is not None:
        add("material_formats", gettext_lazy("材料格式"), *formats)

    months = gettext_lazy("申请月数")
    try:
        period = period_of(definition, app.data)
    except ValueError:
        period = None
        add("period", months, False, gettext_lazy("申请起止月份格式不正确，应为“年-月”。"))
    if definition.get("period") and period is not None:
        figures = {
            "span": period.months + period.deducted,
            "d": period.deducted,
            "n": period.months,
        }
        if period.end < period.start:
            add("period", months, False, gettext_lazy("申请结束时间早于开始时间。"))
        elif period.months <= 0:
            add(
                "period",
                months,
                False,
                lambda: _("申请月数 = %(span)d − 扣减月数 %(d)d = %(n)d，须大于0。") % figures,
            )
        else:
            add(
                "period",
                months,
                True,
                lambda: _("申请月数 = %(span)d − 扣减月数 %(d)d = %(n)d 个月。") % figures,
            )
        if period.deducted:
            explained = bool(period.explanation) and period.explanation != "无"
            add(
                "explanation",
                gettext_lazy("情况说明"),
                explained,
                gettext_lazy("已说明扣减原因。")
                if explained
                else gettext_lazy("扣减月数不为0，请在“情况说明”中写明具体情况。"),
            )

    if definition.get("grading"):
        # AGENCY (F58): the indicator tree is complete; upgrades and keep-grade need a grade
        from rencai.agency.services import grading_checks

        results.extend(grading_checks(app, today))

    education = highest_education(applicant) if applicant.is_person else None
    facts = None
    for rule in definition["rules"]:
        if rule["kind"] in FACT_RULES:
            facts = facts or facts_of(applicant, app.employer, education=education)
            results.append(fact_rule(rule, facts))
            continue
        try:
            results.append(_run_rule(rule, app, period, education))
        except ServiceError as exc:
            if exc.code != "unavailable":
                raise
            # An outside system is down: never a pass; say so and ask to retry (F23).
            results.append(
                RuleResult(rule["kind"], RULE_NAMES.get(rule["kind"], ""), False, exc.message)
            )
    return results


def material_formats(app: Application) -> tuple[bool, str] | None:
    """F60: every attached material of a type that limits its formats has one of them
    (a library file uploaded elsewhere may be a scan where a PDF is asked for). None when
    no material type of the program limits its formats."""
    specs = {s["type"]: s for s in app.definition["materials"] if s.get("formats")}
    if not specs:
        return None
    wrong = []
    for link in attachments_of(app):
        spec = specs.get(link.material_type)
        if spec is not None and not format_allowed(spec, link.extension):
            wrong.append(
                _("%(m)s须为%(f)s格式，“%(n)s”不是")
                % {"m": spec["label"], "f": formats_text(spec), "n": link.original_name}
            )
    if wrong:
        return False, _("材料格式不符合要求：%(w)s。请重新上传后再提交。") % {"w": "；".join(wrong)}
    return True, gettext_lazy("材料格式符合要求。")


RULE_NAMES = {
    "pension_start": gettext_lazy("养老保险参保"),
    "deducted_matches_contributions": gettext_lazy("扣发月数"),
    "certificates_verified": gettext_lazy("学历学位证书"),
    "contract_years_at_least": gettext_lazy("劳动合同期限"),
}


def _run_rule(rule: dict, app: Application, period: Period | None, education) -> RuleResult:
    kind = rule["kind"]
    applicant = app.applicant
    if kind == "profile_required":
        record = person_record(applicant)
        ok = record.has_profile and record.education is not None
        return RuleResult(
            kind,
            gettext_lazy("基本信息"),
            ok,
            gettext_lazy("基本信息和学历信息已填写。")
            if ok
            else gettext_lazy("请先在“个人情况”中填写基本信息和学历信息。"),
        )
    if kind == "single_open":
        # F48: one classification (or change) under review at a time
        open_states = (S.SUBMITTED, S.IN_REVIEW, S.RETURNED)
        first = next((o for o in others_of(app) if o.state in open_states), None)
        return RuleResult(
            kind,
            gettext_lazy("在办申请"),
            first is None,
            gettext_lazy("没有正在办理的同类申请。")
            if first is None
            else lambda: (
                _("您已有一份正在办理的申请（%(no)s），请等待办结后再申请。")
                % {"no": first.number or ""}
            ),
        )
    if kind == "no_overlap":
        name = gettext_lazy("月份不重复")
        if period is None:
            return RuleResult(kind, name, False, gettext_lazy("请先填写申请起止月份。"))
        clashes = []
        for number, state, start, end, _months in (
            (o.number, o.state, o.period_start, o.period_end, o.months)
            for o in others_of(app)
            if o.period_start is not None
        ):
            o = (m.parse_month(start.strftime("%Y-%m")), m.parse_month(end.strftime("%Y-%m")))
            if m.overlaps((period.start, period.end), o):
                clashes.append(
                    _("%(n)s（%(s)s 至 %(e)s，%(st)s）")
                    % {
                        "n": number or "",
                        "s": m.month_label(o[0]),
                        "e": m.month_label(o[1]),
                        "st": dict(Application.State.choices).get(state, state),
                    }
                )
        ok = not clashes
        return RuleResult(
            kind,
            name,
            ok,
            gettext_lazy("申请月份与以往申请不重复。")
            if ok
            else _("申请月份与以下申请重复：%(c)s。") % {"c": "；".join(clashes)},
        )
    if kind == "lifetime_cap_months":
        cap = rule["months"]
        used = sum(o.months or 0 for o in others_of(app))
        mine = period.months if period else 0
        ok = used + mine <= cap
        return RuleResult(
            kind,
            gettext_lazy("累计月数上限"),
            ok,
            lambda: (
                _("累计可申请%(cap)d个月，已申请%(used)d个月，本次%(mine)d个月。")
                % {"cap": cap, "used": used, "mine": mine}
            ),
        )
    if kind == "max_claims":
        cap = rule["count"]
        used = len(others_of(app))
        ok = used < cap
        return RuleResult(
            kind,
            gettext_lazy("申请次数"),
            ok,
            lambda: (
                _("本项目每人最多申请%(cap)d次，已申请%(used)d次。") % {"cap": cap, "used": used}
            ),
        )
    if kind == "materials_required":
        attached = {a.material_type for a in attachments_of(app)}
        # 容缺 (F47): a material declared missing, with a reason and a deadline, passes
        gaps = {g.material_type: g for g in gaps_of(app)}
        missing, deferred = [], []
        for mt in app.definition["materials"]:
            if not mt["required"] or mt["type"] in attached:
                continue
            gap = gaps.get(mt["type"])
            if gap is not None and gap.is_pending:
                deferred.append(
                    _("%(m)s（容缺，%(d)s前补充）") % {"m": mt["label"], "d": gap.deadline}
                )
            else:
                missing.append(mt["label"])
        ok = not missing
        if missing:
            reason = _("缺少材料：%(m)s。") % {"m": "、".join(missing)}
        elif deferred:
            reason = _("必需材料已上传，容缺：%(m)s。") % {"m": "、".join(deferred)}
        else:
            reason = gettext_lazy("必需材料已上传。")
        return RuleResult(kind, gettext_lazy("申报材料"), ok, reason)
    if kind in (
        "pension_start",
        "deducted_matches_contributions",
        "certificates_verified",
        "contract_years_at_least",
    ):
        return _run_outside_rule(rule, app, period, education)
    raise ValueError(f"unknown rule {kind}")  # the pack schema prevents this


def before_form(user, definition: dict) -> str | None:
    """F21: the rules that decide whether the form may open at all (pension start and
    insured status). The refusal reason, or None."""
    rule = next((r for r in definition["rules"] if r["kind"] == "pension_start"), None)
    if rule is None or not user.is_person:
        return None
    from rencai.integrations.rules import check_pension_start

    education = highest_education(user)
    if not education:
        return str(NO_EDUCATION)
    try:
        ok, reason = check_pension_start(
            user.id_number or "", education, earliest_by_level=rule["earliest"]
        )
    except ServiceError as exc:
        return exc.message
    return None if ok else reason


def _run_outside_rule(rule, app, period, education) -> RuleResult:
    """CHAIN's rules on social-insurance and education-registry data (F21, F23, F24)."""
    from rencai.integrations import rules as outside

    kind = rule["kind"]
    name = str(RULE_NAMES[kind])
    applicant = app.applicant
    if kind == "pension_start":
        if not education:
            return RuleResult(kind, name, False, str(NO_EDUCATION))
        ok, reason = outside.check_pension_start(
            applicant.id_number or "", education or "", earliest_by_level=rule["earliest"]
        )
        return RuleResult(kind, name, ok, reason)
    if kind == "deducted_matches_contributions":
        if period is None:
            return RuleResult(kind, name, False, _("请先填写申请起止月份。"))
        missing = outside.deducted_months(
            applicant.id_number or "", m.month_label(period.start), m.month_label(period.end)
        )
        ok = len(missing) == period.deducted
        listed = "、".join(d.strftime("%Y-%m") for d in missing) or _("无")
        if ok:
            reason = _("起止年月中未缴纳养老保险的月数为%(n)d（%(m)s），与填写的扣发月数一致。") % {
                "n": len(missing),
                "m": listed,
            }
        else:
            reason = _(
                "社保记录显示起止年月中有%(n)d个月未缴纳企业养老保险（%(m)s），"
                "您填写的扣发月数是%(d)d，请核查后按%(n)d填写。"
            ) % {"n": len(missing), "m": listed, "d": period.deducted}
        return RuleResult(kind, name, ok, reason)
    if kind == "certificates_verified":
        from rencai.profiles.models import Education

        edu = (
            Education.objects.filter(owner=applicant)
            .order_by("-is_highest", "-graduation_date")
            .first()
        )
        if edu is None:
            return RuleResult(kind, name, False, _("请先在“学历信息”中填写毕业证书编号。"))
        reasons, ok = [], True
        for number, cert_kind in ((edu.diploma_number, "diploma"), (edu.degree_number, "degree")):
            if not number:
                continue
            passed, reason = outside.check_certificate(
                number, name=applicant.real_name, kind=cert_kind
            )
            ok = ok and passed
            reasons.append(reason)
        return RuleResult(kind, name, ok, " ".join(reasons))
    # contract_years_at_least (F24): the labour contract with the declaring employer.
    from rencai.profiles.models import WorkHistory

    years = rule["years"]
    best = None
    works = WorkHistory.objects.filter(owner=applicant, kind="work")
    if app.data.get("declaring_work"):  # F26: the job chosen to declare through
        works = works.filter(pk=app.data["declaring_work"])
    else:
        works = works.filter(employer=app.employer)
    for work in works:
        if work.contract_start and work.contract_end:
            span = work.contract_end
            need = m.add_years(work.contract_start, years)
            if span >= need and (best is None or span > best):
                best = span
    ok = best is not None
    employer = app.employer.name if app.employer else ""
    if app.data.get("declaring_work"):
        chosen = WorkHistory.objects.filter(pk=app.data["declaring_work"]).first()
        employer = chosen.organisation_name if chosen else employer
    return RuleResult(
        kind,
        name,
        ok,
        _("与“%(e)s”的劳动合同期限满%(y)d年。") % {"e": employer, "y": years}
        if ok
        else _(
            "工作经历中与“%(e)s”的劳动合同期限不满%(y)d年（或未填写合同起止日期），请在“工作经历”中核对。"
        )
        % {"e": employer, "y": years},
    )


def ordinal(n: int | None) -> str:
    return ORDINALS.get(n or 0, f"第{n}次") if n else ""
