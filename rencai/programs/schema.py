"""The policy-pack schema (B1, docs/policy-packs.md). ``validate_pack`` checks a parsed
YAML document and returns it normalised (defaults filled in); the first problem raises
``PackError`` naming the file, the path inside it and what is wrong, e.g.
``policies/city.yaml: programs[2].chain.stages[1].actor: unknown authority kind "hr"``."""

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath

from rencai.profiles.materials import ALLOWED_EXTENSIONS

FIELD_TYPES = {
    "text",
    "textarea",
    "integer",
    "decimal",
    "date",
    "month",
    "choice",
    "bool",
    # TALENT (F46): the category and its criteria, from the pack's ``talent`` section.
    "talent_level",
    "talent_criteria",
    # TALENT (F51, F52): a talent station or an apartment community, from rencai.housing.
    "station",
    "community",
    # AGENCY (F56): one of the pack's HR-service categories (职业介绍, 人力资源管理咨询, …)
    "service_category",
}
APPLICANT_KINDS = {"person", "employer", "agency"}
AUTHORITY_KINDS = {
    "hr_bureau",
    "org_department",
    "finance_bureau",
    "talent_office",
    "expert_centre",
    "park_office",
}
AUTHORITY_LEVELS = {"district", "city", "park"}
EDUCATION_LEVELS = ["college", "bachelor", "master", "doctor"]
RULE_KINDS = {
    "profile_required": {},
    "employer_required": {},
    "education_at_least": {"level": "education"},
    "qualification_required": {},
    "no_overlap": {},
    "lifetime_cap_months": {"months": "positive_int"},
    "max_claims": {"count": "positive_int"},
    "materials_required": {},
    # CHAIN (F21–F24), checked against the outside systems' data (rencai.integrations):
    "pension_start": {},
    "deducted_matches_contributions": {},
    "certificates_verified": {},
    "contract_years_at_least": {"years": "positive_int"},
    # TALENT (F49, F27, F48): the person's category, the first labour contract's date,
    # and one open application of the program at a time.
    "talent_at_least": {"level": "talent_level"},
    "first_contract_before": {"date": "date"},
    "first_contract_from": {"date": "date"},
    "single_open": {},
}
HOUSING_KINDS = {"apartment", "station"}
OUTCOMES = {"talent_category", "agency_grade"}
GRADING_KINDS = {"rating", "keep"}
INDICATOR_KINDS = {"choice", "number", "bool", "attachment"}
AMOUNT_KINDS = {"none", "fixed", "per_month", "by_education"}
CITY_KEYS = {
    "name": str,
    "platform_name": str,
    "employer_registration_review": bool,
    "person_registration_review": bool,
    "lockout_failures": int,
    "lockout_contact": str,
    "help_technical": str,
    "help_policy": str,
    "help_mailbox": str,
}
CODE = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
MONTH_DAY = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
LEVEL_CODE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")
GRADE_CODE = re.compile(r"^[A-Z][A-Z0-9+]{0,9}$")
ISO_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class PackError(ValueError):
    def __init__(self, filename: str, path: str, problem: str):
        self.filename, self.path, self.problem = filename, path, problem
        super().__init__(f"{filename}: {path or '(top level)'}: {problem}")


class _Checker:
    def __init__(self, filename: str):
        self.filename = filename

    def fail(self, path, problem):
        raise PackError(self.filename, path, problem)

    def mapping(self, value, path, *, required=(), optional=()):
        if not isinstance(value, dict):
            self.fail(path, f"must be a mapping, not {type(value).__name__}")
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed:
                self.fail(_join(path, key), f"unknown key (allowed: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in value:
                self.fail(_join(path, key), "is required")
        return value

    def text(self, value, path, *, allow_empty=False):
        if not isinstance(value, str) or (not allow_empty and not value.strip()):
            self.fail(path, "must be a non-empty text")
        return value.strip()

    def code(self, value, path):
        if not isinstance(value, str) or not CODE.match(value):
            self.fail(path, f"must be a code of lower-case letters, digits and _ (got {value!r})")
        return value

    def positive_int(self, value, path):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(path, f"must be a whole number of at least 1 (got {value!r})")
        return value

    def amount(self, value, path):
        if isinstance(value, bool):
            self.fail(path, "must be an amount in yuan")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self.fail(path, f"must be an amount in yuan (got {value!r})")
        if amount < 0 or amount != amount.quantize(Decimal("0.01")):
            self.fail(
                path, f"must be a non-negative amount with at most 2 decimals (got {value!r})"
            )
        return str(amount)

    def items(self, value, path, *, min_items=0):
        if not isinstance(value, list):
            self.fail(path, "must be a list")
        if len(value) < min_items:
            self.fail(path, f"needs at least {min_items} item(s)")
        return value


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


def validate_pack(data, filename: str) -> dict:
    c = _Checker(filename)
    c.mapping(
        data,
        "",
        required=("pack", "name", "programs"),
        optional=("city", "categories", "talent", "agency"),
    )
    pack = {"pack": c.code(data["pack"], "pack"), "name": c.text(data["name"], "name")}
    city = c.mapping(data.get("city") or {}, "city", optional=tuple(CITY_KEYS))
    for key, kind in CITY_KEYS.items():
        if key in city and (
            not isinstance(city[key], kind) or isinstance(city[key], bool) != (kind is bool)
        ):
            c.fail(f"city.{key}", f"must be {'true/false' if kind is bool else kind.__name__}")
    if "lockout_failures" in city and city["lockout_failures"] < 1:
        c.fail("city.lockout_failures", "must be at least 1")
    pack["city"] = dict(city)
    categories = {}
    for i, cat in enumerate(c.items(data.get("categories") or [], "categories")):
        p = f"categories[{i}]"
        c.mapping(cat, p, required=("code", "name"))
        code = c.code(cat["code"], f"{p}.code")
        if code in categories:
            c.fail(f"{p}.code", f'duplicate category "{code}"')
        categories[code] = c.text(cat["name"], f"{p}.name")
    pack["categories"] = [{"code": k, "name": v} for k, v in categories.items()]
    pack["talent"] = _talent(c, data.get("talent"), "talent")
    pack["agency"] = _agency(c, data.get("agency"), "agency")
    seen = set()
    programs = []
    for i, prog in enumerate(c.items(data["programs"], "programs", min_items=1)):
        program = _program(c, prog, f"programs[{i}]", categories, pack["talent"], pack["agency"])
        if program["code"] in seen:
            c.fail(f"programs[{i}].code", f'duplicate program "{program["code"]}"')
        seen.add(program["code"])
        program["order"] = i
        programs.append(program)
    pack["programs"] = programs
    return pack


def _talent(c: _Checker, talent, p) -> dict | None:
    """TALENT (F46, F47): the categories A–F from the highest down, each with its criteria,
    how long a classification is valid, and the longest deadline for a 容缺 gap."""
    if talent is None:
        return None
    c.mapping(talent, p, required=("levels",), optional=("validity_years",))
    years = talent.get("validity_years", 3)
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 10:
        c.fail(f"{p}.validity_years", "must be a whole number of years from 1 to 10")
    levels, seen_criteria = [], set()
    raw = c.items(talent["levels"], f"{p}.levels", min_items=1)
    for i, level in enumerate(raw):
        lp = f"{p}.levels[{i}]"
        c.mapping(level, lp, required=("code", "name", "criteria"), optional=("summary",))
        code = level["code"]
        if not isinstance(code, str) or not LEVEL_CODE.match(code):
            c.fail(
                f"{lp}.code", f"must be a lower-case letter, then letters or digits (got {code!r})"
            )
        if any(x["code"] == code for x in levels):
            c.fail(f"{lp}.code", f'duplicate level "{code}"')
        criteria = []
        for j, crit in enumerate(c.items(level["criteria"], f"{lp}.criteria", min_items=1)):
            cp = f"{lp}.criteria[{j}]"
            c.mapping(crit, cp, required=("code", "text"))
            ccode = c.code(crit["code"], f"{cp}.code")
            if ccode in seen_criteria:
                c.fail(f"{cp}.code", f'duplicate criterion "{ccode}"')
            seen_criteria.add(ccode)
            criteria.append({"code": ccode, "text": c.text(crit["text"], f"{cp}.text")})
        levels.append(
            {
                "code": code,
                "name": c.text(level["name"], f"{lp}.name"),
                "summary": c.text(level.get("summary", ""), f"{lp}.summary", allow_empty=True),
                # the highest category has the highest rank
                "rank": len(raw) - i,
                "criteria": criteria,
            }
        )
    return {"validity_years": years, "levels": levels}


def _number(c: _Checker, value, path, *, minimum=0):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        c.fail(path, f"must be a number of at least {minimum} (got {value!r})")
    return value


def _indicator(c: _Checker, ind, p, seen) -> dict:
    """A third-level indicator and how it scores: ``choice`` (each choice its points),
    ``number`` (bands: the points of the highest band reached), ``bool`` (points for yes)
    or ``attachment`` (points when a file is attached)."""
    c.mapping(
        ind,
        p,
        required=("code", "name", "kind"),
        optional=("required", "help", "choices", "bands", "points", "unit"),
    )
    code = c.code(ind["code"], f"{p}.code")
    if code in seen:
        c.fail(f"{p}.code", f'duplicate indicator "{code}"')
    seen.add(code)
    kind = ind["kind"]
    if kind not in INDICATOR_KINDS:
        c.fail(f"{p}.kind", f"must be one of {', '.join(sorted(INDICATOR_KINDS))}")
    out = {
        "code": code,
        "name": c.text(ind["name"], f"{p}.name"),
        "kind": kind,
        "required": bool(ind.get("required", True)),
        "help": c.text(ind.get("help", ""), f"{p}.help", allow_empty=True),
    }
    allowed = {"choice": "choices", "number": "bands", "bool": "points", "attachment": "points"}
    for key in ("choices", "bands", "points"):
        if key in ind and allowed[kind] != key:
            c.fail(f"{p}.{key}", f'a {kind} indicator does not take "{key}"')
    if "unit" in ind and kind != "number":
        c.fail(f"{p}.unit", "only number indicators take a unit")
    if kind == "choice":
        choices = []
        for j, ch in enumerate(c.items(ind.get("choices"), f"{p}.choices", min_items=2)):
            cp = f"{p}.choices[{j}]"
            c.mapping(ch, cp, required=("text", "points"))
            text = c.text(ch["text"], f"{cp}.text")
            if any(x["text"] == text for x in choices):
                c.fail(f"{cp}.text", f'duplicate choice "{text}"')
            choices.append({"text": text, "points": _number(c, ch["points"], f"{cp}.points")})
        out["choices"] = choices
        out["max_points"] = max(x["points"] for x in choices)
    elif kind == "number":
        bands = []
        for j, band in enumerate(c.items(ind.get("bands"), f"{p}.bands", min_items=1)):
            bp = f"{p}.bands[{j}]"
            c.mapping(band, bp, required=("from", "points"))
            start = _number(c, band["from"], f"{bp}.from")
            if bands and start <= bands[-1]["from"]:
                c.fail(f"{bp}.from", "bands must go up: each from above the one before")
            bands.append({"from": start, "points": _number(c, band["points"], f"{bp}.points")})
        out["bands"] = bands
        out["unit"] = c.text(ind.get("unit", ""), f"{p}.unit", allow_empty=True)
        out["max_points"] = max(x["points"] for x in bands)
    else:
        if "points" not in ind:
            c.fail(f"{p}.points", "is required")
        out["points"] = _number(c, ind["points"], f"{p}.points")
        out["max_points"] = out["points"]
    return out


def _service_category(c: _Checker, cat, p, seen_indicators) -> dict:
    c.mapping(cat, p, required=("code", "name", "tree", "grades"))
    out = {"code": c.code(cat["code"], f"{p}.code"), "name": c.text(cat["name"], f"{p}.name")}
    tree = []
    for i, first in enumerate(c.items(cat["tree"], f"{p}.tree", min_items=1)):
        fp = f"{p}.tree[{i}]"
        c.mapping(first, fp, required=("name", "children"))
        seconds = []
        for j, second in enumerate(c.items(first["children"], f"{fp}.children", min_items=1)):
            sp = f"{fp}.children[{j}]"
            c.mapping(second, sp, required=("name", "children"))
            indicators = [
                _indicator(c, ind, f"{sp}.children[{k}]", seen_indicators)
                for k, ind in enumerate(c.items(second["children"], f"{sp}.children", min_items=1))
            ]
            seconds.append({"name": c.text(second["name"], f"{sp}.name"), "children": indicators})
        tree.append({"name": c.text(first["name"], f"{fp}.name"), "children": seconds})
    out["tree"] = tree
    codes = {
        ind["code"] for first in tree for second in first["children"] for ind in second["children"]
    }
    out["max_score"] = sum(
        ind["max_points"]
        for first in tree
        for second in first["children"]
        for ind in second["children"]
    )
    grades = []
    for i, grade in enumerate(c.items(cat["grades"], f"{p}.grades", min_items=1)):
        gp = f"{p}.grades[{i}]"
        c.mapping(grade, gp, required=("code", "min_score"), optional=("name", "must"))
        code = grade["code"]
        if not isinstance(code, str) or not GRADE_CODE.match(code):
            c.fail(f"{gp}.code", f"must be an upper-case grade like A or AAA (got {code!r})")
        if any(g["code"] == code for g in grades):
            c.fail(f"{gp}.code", f'duplicate grade "{code}"')
        score = _number(c, grade["min_score"], f"{gp}.min_score")
        if score > out["max_score"]:
            c.fail(f"{gp}.min_score", f"is above the most the tree can give ({out['max_score']})")
        if grades and score >= grades[-1]["min_score"]:
            c.fail(f"{gp}.min_score", "grades go from the highest down: each below the one before")
        must = c.items(grade.get("must") or [], f"{gp}.must")
        for j, ind in enumerate(must):
            if ind not in codes:
                c.fail(f"{gp}.must[{j}]", f'unknown indicator "{ind}" of this service category')
        grades.append(
            {
                "code": code,
                "name": c.text(grade.get("name", code), f"{gp}.name"),
                "min_score": score,
                "must": list(must),
                # the highest grade has the highest rank
                "rank": len(cat["grades"]) - i,
            }
        )
    out["grades"] = grades
    return out


def _agency(c: _Checker, agency, p) -> dict | None:
    """AGENCY (F56–F61): the qualifications an HR-service agency registers with, and per
    service category its three-level indicator tree and its grades (highest first), how
    long a grade is valid and how many days before expiry the agency is told."""
    if agency is None:
        return None
    c.mapping(
        agency,
        p,
        required=("service_categories",),
        optional=("qualifications", "validity_years", "expiry_notice_days"),
    )
    years = agency.get("validity_years", 3)
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 10:
        c.fail(f"{p}.validity_years", "must be a whole number of years from 1 to 10")
    days = agency.get("expiry_notice_days", 60)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        c.fail(f"{p}.expiry_notice_days", "must be a whole number of days from 1 to 365")
    qualifications = []
    for i, q in enumerate(c.items(agency.get("qualifications") or [], f"{p}.qualifications")):
        qp = f"{p}.qualifications[{i}]"
        c.mapping(q, qp, required=("code", "name"))
        code = c.code(q["code"], f"{qp}.code")
        if any(x["code"] == code for x in qualifications):
            c.fail(f"{qp}.code", f'duplicate qualification "{code}"')
        qualifications.append({"code": code, "name": c.text(q["name"], f"{qp}.name")})
    categories, seen_indicators = [], set()
    raw = c.items(agency["service_categories"], f"{p}.service_categories", min_items=1)
    for i, cat in enumerate(raw):
        category = _service_category(c, cat, f"{p}.service_categories[{i}]", seen_indicators)
        if any(x["code"] == category["code"] for x in categories):
            c.fail(f"{p}.service_categories[{i}].code", f'duplicate category "{category["code"]}"')
        categories.append(category)
    return {
        "validity_years": years,
        "expiry_notice_days": days,
        "qualifications": qualifications,
        "service_categories": categories,
    }


def _level(c: _Checker, talent, value, path) -> dict:
    if talent is None:
        c.fail(path, "talent categories are used but the pack has no talent section")
    for level in talent["levels"]:
        if level["code"] == value:
            return level
    known = ", ".join(x["code"] for x in talent["levels"])
    c.fail(path, f'unknown talent category "{value}" (known: {known})')


def _program(c: _Checker, prog, p, categories, talent=None, agency=None) -> dict:
    c.mapping(
        prog,
        p,
        required=("code", "name", "category", "applicant", "chains"),
        optional=(
            "opening",
            "notice",
            "commitment",
            "fields",
            "materials",
            "period",
            "rules",
            "amount",
            "upgrades",
            "claim_kind",
            "resubmit",
            "summary",
            "dispatch",
            "cross_county",
            "outcome",
            "gaps",
            "housing",
            "grading",
        ),
    )
    out = {"code": c.code(prog["code"], f"{p}.code"), "name": c.text(prog["name"], f"{p}.name")}
    if prog["category"] not in categories:
        c.fail(
            f"{p}.category", f'unknown category "{prog["category"]}" (declare it under categories)'
        )
    out["category"] = prog["category"]
    out["category_name"] = categories[prog["category"]]
    if prog["applicant"] not in APPLICANT_KINDS:
        c.fail(f"{p}.applicant", f"must be one of {', '.join(sorted(APPLICANT_KINDS))}")
    out["applicant"] = prog["applicant"]
    out["summary"] = c.text(prog.get("summary", ""), f"{p}.summary", allow_empty=True)
    out["opening"] = _opening(c, prog.get("opening", "always"), f"{p}.opening")
    notice = c.mapping(prog.get("notice") or {}, f"{p}.notice", optional=("text", "min_seconds"))
    seconds = notice.get("min_seconds", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= 600:
        c.fail(f"{p}.notice.min_seconds", "must be a whole number of seconds from 0 to 600")
    out["notice"] = {
        "text": c.text(notice.get("text", ""), f"{p}.notice.text", allow_empty=True),
        "min_seconds": seconds,
    }
    out["commitment"] = c.text(prog.get("commitment", ""), f"{p}.commitment", allow_empty=True)
    out["fields"] = _fields(c, prog.get("fields") or [], f"{p}.fields", talent, agency)
    field_types = {f["code"]: f["type"] for f in out["fields"]}
    out["materials"] = _materials(
        c, prog.get("materials") or [], f"{p}.materials", Path(c.filename).parent
    )
    out["period"] = _period(c, prog.get("period"), f"{p}.period", field_types)
    out["rules"] = _rules(c, prog.get("rules") or [], f"{p}.rules", out, talent)
    out["grading"] = _grading(c, prog.get("grading"), f"{p}.grading", out, field_types, agency)
    out["outcome"] = _outcome(c, prog.get("outcome"), f"{p}.outcome", field_types, talent, out)
    out["gaps"] = _gaps(c, prog.get("gaps"), f"{p}.gaps", out)
    housing = prog.get("housing")
    if housing is not None and housing not in HOUSING_KINDS:
        c.fail(f"{p}.housing", f"must be one of {', '.join(sorted(HOUSING_KINDS))}")
    needs = {"apartment": "community", "station": "station"}.get(housing)
    if needs and needs not in field_types.values():
        c.fail(f"{p}.housing", f'a {housing} program needs a field of type "{needs}"')
    out["housing"] = housing
    out["amount"] = _amount(c, prog.get("amount") or {"kind": "none"}, f"{p}.amount", out)
    upgrades = prog.get("upgrades")
    if upgrades is not None and not isinstance(upgrades, bool):
        c.fail(f"{p}.upgrades", "must be true or false")
    out["upgrades"] = bool(upgrades)
    claim_kind = prog.get("claim_kind")
    if claim_kind is not None and not isinstance(claim_kind, bool):
        c.fail(f"{p}.claim_kind", "must be true or false")
    out["claim_kind"] = bool(claim_kind)
    resubmit = prog.get("resubmit", "returning_stage")
    if resubmit not in ("returning_stage", "start"):
        c.fail(f"{p}.resubmit", 'must be "returning_stage" or "start"')
    out["resubmit"] = resubmit
    dispatch = prog.get("dispatch", False)
    if not isinstance(dispatch, bool):
        c.fail(f"{p}.dispatch", "must be true or false")
    out["dispatch"] = dispatch
    cross = prog.get("cross_county", False)
    if not isinstance(cross, bool):
        c.fail(f"{p}.cross_county", "must be true or false")
    if cross and out["applicant"] != "person":
        c.fail(f"{p}.cross_county", "only person programs choose a declaring employer")
    out["cross_county"] = cross
    out["chains"] = _chains(c, prog["chains"], f"{p}.chains", out["applicant"], talent)
    uses_dispatcher = any(
        "dispatcher" in actor
        for chain in out["chains"]
        for stage in chain["stages"]
        for actor in stage.get("actors") or [stage["actor"]]
    )
    if uses_dispatcher and not dispatch:
        c.fail(f"{p}.dispatch", "a chain names the dispatcher: set dispatch: true")
    return out


def _opening(c, value, p):
    if value == "always":
        return {"always": True, "windows": []}
    c.mapping(value, p, required=("windows",))
    windows = []
    for i, w in enumerate(c.items(value["windows"], f"{p}.windows", min_items=1)):
        wp = f"{p}.windows[{i}]"
        c.mapping(w, wp, required=("start", "end"))
        for key in ("start", "end"):
            if not isinstance(w[key], str) or not MONTH_DAY.match(w[key]):
                c.fail(f"{wp}.{key}", f'must be a month and day like "03-31" (got {w[key]!r})')
        windows.append({"start": w["start"], "end": w["end"]})
    return {"always": False, "windows": windows}


def _grading(c, grading, p, program, field_types, agency):
    """AGENCY (F56–F59): ``rating`` is filled as the service category's indicator tree
    (rating or upgrade); ``keep`` is the keep-grade form. Both name a service category."""
    if grading is None:
        return None
    if grading not in GRADING_KINDS:
        c.fail(p, f"must be one of {', '.join(sorted(GRADING_KINDS))}")
    if program["applicant"] != "agency":
        c.fail(p, "only agency programs are gradings")
    if "service_category" not in field_types.values():
        c.fail(p, 'a grading needs a field of type "service_category"')
    # the definition carries the trees: an application is scored as it was filed
    program["service_categories"] = agency["service_categories"]
    return grading


def _outcome(c, outcome, p, field_types, talent, program=None):
    """What a final approval grants: ``talent_category`` makes the chosen category the
    person's category for the pack's validity period (F46, F48); ``agency_grade`` makes
    the grade the agency's grade in the service category (F59)."""
    if outcome is None:
        return None
    if outcome not in OUTCOMES:
        c.fail(p, f"must be one of {', '.join(sorted(OUTCOMES))}")
    if outcome == "agency_grade":
        if not (program or {}).get("grading"):
            c.fail(p, "agency_grade needs the program to be a grading")
        return outcome
    if talent is None:
        c.fail(p, "talent_category needs the pack's talent section")
    kinds = set(field_types.values())
    if "talent_level" not in kinds or "talent_criteria" not in kinds:
        c.fail(p, "talent_category needs a talent_level and a talent_criteria field")
    return outcome


def _gaps(c, gaps, p, program):
    """容缺 (F47): required materials may be declared missing at submission, with a reason
    and a deadline at most ``max_days`` ahead."""
    if gaps is None:
        return None
    c.mapping(gaps, p, required=("max_days",))
    days = gaps["max_days"]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        c.fail(f"{p}.max_days", "must be a whole number of days from 1 to 365")
    if not any(m["required"] for m in program["materials"]):
        c.fail(p, "gaps need at least one required material")
    return {"max_days": days}


def _fields(c, fields, p, talent=None, agency=None):
    out, seen = [], set()
    for i, f in enumerate(c.items(fields, p)):
        fp = f"{p}[{i}]"
        c.mapping(
            f,
            fp,
            required=("code", "label", "type"),
            optional=("required", "default", "min", "max", "choices", "help"),
        )
        code = c.code(f["code"], f"{fp}.code")
        if code in seen:
            c.fail(f"{fp}.code", f'duplicate field "{code}"')
        seen.add(code)
        if f["type"] not in FIELD_TYPES:
            c.fail(f"{fp}.type", f"must be one of {', '.join(sorted(FIELD_TYPES))}")
        field = {
            "code": code,
            "label": c.text(f["label"], f"{fp}.label"),
            "type": f["type"],
            "required": bool(f.get("required", False)),
            "help": c.text(f.get("help", ""), f"{fp}.help", allow_empty=True),
        }
        if "default" in f:
            field["default"] = f["default"]
        for key in ("min", "max"):
            if key in f:
                if f["type"] not in ("integer", "decimal") or isinstance(f[key], bool):
                    c.fail(f"{fp}.{key}", "only integer and decimal fields take min/max")
                field[key] = f[key]
        if f["type"] == "choice":
            choices = c.items(f.get("choices"), f"{fp}.choices", min_items=1)
            field["choices"] = [c.text(ch, f"{fp}.choices[{j}]") for j, ch in enumerate(choices)]
        elif "choices" in f:
            c.fail(f"{fp}.choices", "only choice fields take choices")
        if f["type"] in ("talent_level", "talent_criteria"):
            if talent is None:
                c.fail(f"{fp}.type", "talent fields need the pack's talent section")
            # the definition carries its categories: an application keeps what it saw
            field["levels"] = talent["levels"]
            field["validity_years"] = talent["validity_years"]
        if f["type"] == "service_category":
            if agency is None:
                c.fail(f"{fp}.type", "service_category fields need the pack's agency section")
            field["categories"] = [
                {"code": x["code"], "name": x["name"]} for x in agency["service_categories"]
            ]
        out.append(field)
    types = [f["type"] for f in out]
    for kind in ("talent_level", "talent_criteria"):
        if types.count(kind) > 1:
            c.fail(p, f'at most one field of type "{kind}"')
    if ("talent_level" in types) != ("talent_criteria" in types):
        c.fail(p, "talent_level and talent_criteria fields go together")
    return out


def _materials(c, materials, p, base_dir: Path):
    out, seen = [], set()
    for i, m in enumerate(c.items(materials, p)):
        mp = f"{p}[{i}]"
        c.mapping(
            m, mp, required=("type", "label"), optional=("required", "help", "formats", "template")
        )
        code = c.code(m["type"], f"{mp}.type")
        if code in seen:
            c.fail(f"{mp}.type", f'duplicate material "{code}"')
        seen.add(code)
        material = {
            "type": code,
            "label": c.text(m["label"], f"{mp}.label"),
            "required": bool(m.get("required", False)),
            "help": c.text(m.get("help", ""), f"{mp}.help", allow_empty=True),
        }
        # Only declared keys are added: a pack without them keeps its programs' digests.
        if "formats" in m:
            material["formats"] = _formats(c, m["formats"], f"{mp}.formats")
        if "template" in m:
            material["template"] = _template(c, m["template"], f"{mp}.template", base_dir)
        out.append(material)
    return out


def _formats(c, formats, p) -> list[str]:
    """The extensions a material of this type may have (``[pdf]``), a subset of the
    extensions any material may have."""
    out = []
    for j, ext in enumerate(c.items(formats, p, min_items=1)):
        value = ext.strip().lower().lstrip(".") if isinstance(ext, str) else ext
        if value not in ALLOWED_EXTENSIONS:
            c.fail(
                f"{p}[{j}]",
                f"unknown format {ext!r} (allowed: {', '.join(ALLOWED_EXTENSIONS)})",
            )
        if value not in out:
            out.append(value)
    return out


def _template(c, value, p, base_dir: Path) -> dict:
    """A blank form (申报表) beside the pack: a relative path that stays inside the pack
    file's directory, names an existing file and has an allowed extension. The loader
    stores the file's bytes; here only the path is checked."""
    text = c.text(value, p)
    pure = PurePosixPath(text.replace("\\", "/"))
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", text) or ".." in pure.parts:
        c.fail(p, f'template "{text}" must be a relative path inside the pack\'s directory')
    base = base_dir.resolve()
    target = (base / pure).resolve()
    if not target.is_relative_to(base):
        c.fail(p, f'template "{text}" must stay inside the pack\'s directory')
    if not target.is_file():
        c.fail(p, f'template "{text}": file not found')
    ext = target.suffix.lower().lstrip(".")
    if ext not in ALLOWED_EXTENSIONS:
        c.fail(
            p,
            f'template "{text}" must be one of the formats {", ".join(ALLOWED_EXTENSIONS)}',
        )
    return {"path": text, "source": str(target)}


def _period(c, period, p, field_types):
    if period is None:
        return None
    c.mapping(
        period, p, required=("start", "end"), optional=("deducted", "explanation", "inclusive")
    )
    for key, kind in (("start", "month"), ("end", "month"), ("deducted", "integer")):
        if key in period:
            code = period[key]
            if field_types.get(code) != kind:
                c.fail(f"{p}.{key}", f'must name a {kind} field of this program (got "{code}")')
    if "explanation" in period and field_types.get(period["explanation"]) not in (
        "text",
        "textarea",
    ):
        c.fail(f"{p}.explanation", "must name a text field of this program")
    inclusive = period.get("inclusive", True)
    if not isinstance(inclusive, bool):
        c.fail(f"{p}.inclusive", "must be true or false")
    return {
        "start": period["start"],
        "end": period["end"],
        "deducted": period.get("deducted"),
        "explanation": period.get("explanation"),
        "inclusive": inclusive,
    }


def _rules(c, rules, p, program, talent=None):
    out = []
    for i, r in enumerate(c.items(rules, p)):
        rp = f"{p}[{i}]"
        if not isinstance(r, dict) or "kind" not in r:
            c.fail(rp, "must be a mapping with a kind")
        kind = r["kind"]
        if kind not in RULE_KINDS:
            c.fail(f"{rp}.kind", f"unknown rule (known: {', '.join(sorted(RULE_KINDS))})")
        params = RULE_KINDS[kind]
        c.mapping(
            r,
            rp,
            required=("kind", *params),
            optional=("earliest",) if kind == "pension_start" else (),
        )
        rule = {"kind": kind}
        for key, kind_of in params.items():
            if kind_of == "positive_int":
                rule[key] = c.positive_int(r[key], f"{rp}.{key}")
            elif kind_of == "education":
                if r[key] not in EDUCATION_LEVELS:
                    c.fail(f"{rp}.{key}", f"must be one of {', '.join(EDUCATION_LEVELS)}")
                rule[key] = r[key]
            elif kind_of == "talent_level":
                level = _level(c, talent, r[key], f"{rp}.{key}")
                rule.update(level=level["code"], rank=level["rank"], level_name=level["name"])
            elif kind_of == "date":
                value = str(r[key])  # YAML reads 2022-07-10 as a date
                if not ISO_DATE.match(value):
                    c.fail(f"{rp}.{key}", f'must be a date like "2022-07-10" (got {r[key]!r})')
                rule[key] = value
        if kind == "pension_start":
            earliest = r.get(
                "earliest", {"master": "2017-01", "doctor": "2017-01", "bachelor": "2019-06"}
            )
            c.mapping(earliest, f"{rp}.earliest", optional=EDUCATION_LEVELS)
            for level, month in earliest.items():
                if not isinstance(month, str) or not re.match(r"^\d{4}-(0[1-9]|1[0-2])$", month):
                    c.fail(f"{rp}.earliest.{level}", 'must be a month like "2017-01"')
            rule["earliest"] = dict(earliest)
        if (
            kind in ("no_overlap", "lifetime_cap_months", "deducted_matches_contributions")
            and program["period"] is None
        ):
            c.fail(f"{rp}.kind", f'the rule "{kind}" needs the program to have a period')
        out.append(rule)
    return out


def _amount(c, amount, p, program):
    c.mapping(amount, p, required=("kind",), optional=("amount", "standard", "per_month", "demo"))
    kind = amount["kind"]
    if kind not in AMOUNT_KINDS:
        c.fail(f"{p}.kind", f"must be one of {', '.join(sorted(AMOUNT_KINDS))}")
    out = {"kind": kind, "demo": bool(amount.get("demo", False))}
    if kind == "fixed":
        out["amount"] = c.amount(amount.get("amount"), f"{p}.amount")
    elif kind == "per_month":
        if program["period"] is None:
            c.fail(f"{p}.kind", '"per_month" needs the program to have a period')
        out["standard"] = c.amount(amount.get("standard"), f"{p}.standard")
    elif kind == "by_education":
        if program["period"] is None:
            c.fail(f"{p}.kind", '"by_education" needs the program to have a period')
        table = c.mapping(amount.get("per_month"), f"{p}.per_month", optional=EDUCATION_LEVELS)
        if not table:
            c.fail(f"{p}.per_month", "needs at least one education level")
        out["per_month"] = {k: c.amount(v, f"{p}.per_month.{k}") for k, v in table.items()}
    return out


STAGE_KINDS = {"review", "all_of", "notice", "payout", "confirm", "batch_report"}


def _actor(c, actor, path, applicant):
    if actor in ("employer", "dispatcher"):
        if applicant != "person":
            c.fail(path, f"an {actor} stage needs a person as the applicant")
        return {actor: True}
    c.mapping(actor, path, required=("authority", "level"))
    if actor["authority"] not in AUTHORITY_KINDS:
        c.fail(path, f'unknown authority kind "{actor["authority"]}"')
    if actor["level"] not in AUTHORITY_LEVELS:
        c.fail(f"{path}.level", f"must be one of {', '.join(sorted(AUTHORITY_LEVELS))}")
    return {"authority": actor["authority"], "level": actor["level"]}


def _stage(c, s, sp, applicant, seen):
    """A review stage has one ``actor``; an ``all_of`` stage lists ``actors`` who must
    all approve (F17: the employer served and the dispatching company)."""
    kind = s.get("kind", "review") if isinstance(s, dict) else "review"
    if kind not in STAGE_KINDS:
        c.fail(f"{sp}.kind", f"must be one of {', '.join(sorted(STAGE_KINDS))}")
    if kind == "all_of":
        c.mapping(s, sp, required=("code", "name", "kind", "actors"), optional=("deadline_days",))
    elif kind == "notice":
        c.mapping(s, sp, required=("code", "name", "kind", "actor", "days"))
    elif kind == "batch_report":
        c.mapping(s, sp, required=("code", "name", "kind", "reporter", "actor"))
    elif kind == "confirm":
        # F37: the applicant confirms receipt (拨付确认); no organisation acts.
        if applicant != "person":
            c.fail(f"{sp}.kind", "only a person confirms receipt")
        c.mapping(s, sp, required=("code", "name", "kind"))
        code = c.code(s["code"], f"{sp}.code")
        if code in seen:
            c.fail(f"{sp}.code", f'duplicate stage "{code}"')
        seen.add(code)
        return {
            "code": code,
            "name": c.text(s["name"], f"{sp}.name"),
            "kind": kind,
            "actor": {"applicant": True},
        }
    else:
        c.mapping(s, sp, required=("code", "name", "actor"), optional=("kind", "deadline_days"))
    code = c.code(s["code"], f"{sp}.code")
    if code in seen:
        c.fail(f"{sp}.code", f'duplicate stage "{code}"')
    seen.add(code)
    stage = {"code": code, "name": c.text(s["name"], f"{sp}.name"), "kind": kind}
    if kind == "all_of":
        actors = [
            _actor(c, a, f"{sp}.actors[{k}]", applicant)
            for k, a in enumerate(c.items(s["actors"], f"{sp}.actors", min_items=2))
        ]
        if sum(1 for a in actors if "authority" in a) > 1 or len(actors) > 3:
            c.fail(f"{sp}.actors", "at most two employers and one authority")
        if sum(1 for a in actors if "authority" not in a) > 2:
            c.fail(f"{sp}.actors", "at most two employers and one authority")
        stage["actors"] = actors
    else:
        stage["actor"] = _actor(c, s["actor"], f"{sp}.actor", applicant)
    if "deadline_days" in s:
        days = s["deadline_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
            c.fail(f"{sp}.deadline_days", "must be a whole number of days from 1 to 365")
        stage["deadline_days"] = days  # B6: items waiting longer are flagged
    if kind == "batch_report":
        # The reporter bundles; the actor (the upper authority) accepts or returns.
        stage["reporter"] = _actor(c, s["reporter"], f"{sp}.reporter", applicant)
        if "authority" not in stage["reporter"] or "authority" not in stage["actor"]:
            c.fail(sp, "a report goes from one authority to another")
    if kind == "payout" and stage["actor"].get("authority") != "finance_bureau":
        c.fail(f"{sp}.actor", "a payout is made by a finance bureau")
    if kind == "notice":
        # F41: the authority publishes the notice; it lasts ``days`` days.
        if "authority" not in stage["actor"]:
            c.fail(f"{sp}.actor", "a notice is published by an authority")
        days = s["days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 60:
            c.fail(f"{sp}.days", "must be a whole number of days from 1 to 60")
        stage["days"] = days
    return stage


def _chains(c, chains, p, applicant, talent=None):
    out = []
    for i, chain in enumerate(c.items(chains, p, min_items=1)):
        cp = f"{p}[{i}]"
        c.mapping(chain, cp, required=("stages",), optional=("when", "name"))
        when = c.mapping(
            chain.get("when") or {},
            f"{cp}.when",
            optional=("employer_level", "employer_in_park", "talent_at_least"),
        )
        when = dict(when)
        if "talent_at_least" in when:
            # F28: the review channel follows the category (E and above → talent office)
            level = _level(c, talent, when["talent_at_least"], f"{cp}.when.talent_at_least")
            when["talent_rank"] = level["rank"]
        if "employer_level" in when and when["employer_level"] not in ("city", "district"):
            c.fail(f"{cp}.when.employer_level", 'must be "city" or "district"')
        if "employer_in_park" in when and not isinstance(when["employer_in_park"], bool):
            c.fail(f"{cp}.when.employer_in_park", "must be true or false")
        if not when and i != len(chains) - 1:
            c.fail(f"{cp}.when", "only the last chain may have no condition (it is the default)")
        stages, seen = [], set()
        for j, st in enumerate(c.items(chain["stages"], f"{cp}.stages", min_items=1)):
            stages.append(_stage(c, st, f"{cp}.stages[{j}]", applicant, seen))
        out.append({"name": str(chain.get("name", "")), "when": dict(when), "stages": stages})
    if out[-1]["when"]:
        c.fail(
            f"{p}[{len(out) - 1}].when", "the last chain must have no condition (it is the default)"
        )
    return out
