"""Scores and grades of a grading application (F57, F58), computed from the service
category's indicator tree as the application's own program version defines it.

Pure functions: no database. ``answers`` maps an indicator code to what the agency filled
in (a choice's text, a number, true/false, or the id of an attached material);
``adjustments`` maps an indicator code to the points a reviewer set instead."""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation


@dataclass
class Row:
    first: str
    second: str
    indicator: dict
    answer: object
    done: bool
    computed: Decimal | None
    points: Decimal | None  # the adjusted points when a reviewer adjusted them
    adjusted: bool = False

    @property
    def code(self) -> str:
        return self.indicator["code"]


@dataclass
class Score:
    rows: list[Row] = field(default_factory=list)
    total: Decimal = Decimal(0)
    max_score: Decimal = Decimal(0)

    @property
    def missing(self) -> list[Row]:
        """Required indicators not done yet: reporting waits for them."""
        return [r for r in self.rows if r.indicator["required"] and not r.done]

    @property
    def done_count(self) -> int:
        return sum(1 for r in self.rows if r.done)


def category_of(definition: dict, code: str) -> dict | None:
    return next((c for c in definition.get("service_categories", []) if c["code"] == code), None)


def flatten(category: dict):
    for first in category["tree"]:
        for second in first["children"]:
            for indicator in second["children"]:
                yield first["name"], second["name"], indicator


def find_indicator(category: dict, code: str) -> dict | None:
    return next((ind for _f, _s, ind in flatten(category) if ind["code"] == code), None)


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def is_done(indicator: dict, answer) -> bool:
    kind = indicator["kind"]
    if kind == "choice":
        return any(c["text"] == answer for c in indicator["choices"])
    if kind == "number":
        number = _decimal(answer)
        return number is not None and number >= 0
    if kind == "bool":
        return isinstance(answer, bool)
    return isinstance(answer, int) and not isinstance(answer, bool) and answer > 0  # attachment


def points_for(indicator: dict, answer) -> Decimal | None:
    """The points an answer earns; None when the indicator is not filled."""
    if not is_done(indicator, answer):
        return None
    kind = indicator["kind"]
    if kind == "choice":
        choice = next(c for c in indicator["choices"] if c["text"] == answer)
        return Decimal(str(choice["points"]))
    if kind == "number":
        number = _decimal(answer)
        reached = [b for b in indicator["bands"] if number >= Decimal(str(b["from"]))]
        return Decimal(str(reached[-1]["points"])) if reached else Decimal(0)
    if kind == "bool":
        return Decimal(str(indicator["points"])) if answer else Decimal(0)
    return Decimal(str(indicator["points"]))  # an attached file


def score(category: dict, answers: dict, adjustments: dict | None = None) -> Score:
    adjustments = adjustments or {}
    result = Score(max_score=Decimal(str(category["max_score"])))
    for first, second, indicator in flatten(category):
        answer = answers.get(indicator["code"])
        computed = points_for(indicator, answer)
        adjusted = indicator["code"] in adjustments
        points = Decimal(str(adjustments[indicator["code"]])) if adjusted else computed
        result.rows.append(
            Row(
                first=first,
                second=second,
                indicator=indicator,
                answer=answer,
                done=is_done(indicator, answer),
                computed=computed,
                points=points,
                adjusted=adjusted,
            )
        )
        result.total += points or 0
    return result


def grade_for(category: dict, result: Score) -> dict | None:
    """The highest grade whose minimum score is reached and whose must-have indicators
    all earned points (a "no", a missing file or a zero band fails a must-have)."""
    earned = {r.code for r in result.rows if r.points}
    for grade in category["grades"]:
        if result.total >= Decimal(str(grade["min_score"])) and set(grade["must"]) <= earned:
            return grade
    return None


def unmet(category: dict, grade: dict, result: Score) -> list[str]:
    """Names of the must-have indicators of ``grade`` that earned nothing."""
    earned = {r.code for r in result.rows if r.points}
    names = {r.code: r.indicator["name"] for r in result.rows}
    return [names[code] for code in grade["must"] if code not in earned]


def parse_answer(indicator: dict, raw: str):
    """What the agency typed in an indicator's dialog, as stored; raises ValueError with
    the Chinese message to show. Attachments are handled by the service (a file)."""
    from django.utils.translation import gettext as _

    kind = indicator["kind"]
    raw = (raw or "").strip()
    if kind == "choice":
        if not any(c["text"] == raw for c in indicator["choices"]):
            raise ValueError(_("请选择一项。"))
        return raw
    if kind == "number":
        number = _decimal(raw)
        if number is None or not number.is_finite():
            raise ValueError(_("请填写数字，例如 12。"))
        if number < 0:
            raise ValueError(_("不能小于 0。"))
        if number > Decimal("1000000000"):
            raise ValueError(_("数值过大，请核对。"))
        if number != number.to_integral_value():
            return float(number)
        return int(number)
    if kind == "bool":
        if raw not in ("yes", "no"):
            raise ValueError(_("请选择“是”或“否”。"))
        return raw == "yes"
    raise ValueError(_("请上传文件。"))
