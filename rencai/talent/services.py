"""Talent categories (F46–F49): the categories of the pack, a person's category in force,
granting one on the final approval of a classification application, and cancelling it
when a 容缺 deadline passes. Called inside the transitions' transactions."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.audit.services import audit_record
from rencai.programs.months import add_years
from rencai.talent.models import TalentCategory


def levels() -> list[dict]:
    """The categories A–F of the active pack that defines them, highest first."""
    from rencai.programs.models import Pack

    pack = Pack.objects.filter(active=True, talent__isnull=False).order_by("code").first()
    return pack.talent["levels"] if pack else []


def level_by_code(code: str) -> dict | None:
    return next((lv for lv in levels() if lv["code"] == code), None)


def current_category(user, today: datetime.date | None = None) -> TalentCategory | None:
    """The category in force: granted, not changed or cancelled, and not expired."""
    if not getattr(user, "is_authenticated", False) or not user.is_person:
        return None
    return categories_in_force(user, today).select_related("application").first()


def categories_in_force(person, today: datetime.date | None = None):
    """``current_category``'s query: the definition that the submission's plain-SQL read
    (``applications.records``) is checked against in ``tests/test_rule_records.py``."""
    today = today or timezone.localdate()
    return TalentCategory.objects.filter(
        person=person,
        state=TalentCategory.State.ACTIVE,
        valid_from__lte=today,
        valid_until__gte=today,
    )


def _field(definition: dict, kind: str) -> dict:
    return next(f for f in definition["fields"] if f["type"] == kind)


def chosen_level(definition: dict, data: dict) -> tuple[dict | None, list[dict]]:
    """The category and criteria an application asks for, from its own definition."""
    level_field = _field(definition, "talent_level")
    criteria_field = _field(definition, "talent_criteria")
    level = next(
        (lv for lv in level_field["levels"] if lv["code"] == data.get(level_field["code"])), None
    )
    chosen = set(data.get(criteria_field["code"]) or [])
    criteria = [c for c in (level["criteria"] if level else []) if c["code"] in chosen]
    return level, criteria


def grant(app, *, today: datetime.date | None = None) -> TalentCategory:
    """The final approval of a classification (F46) or a change (F48): the new category
    replaces the one in force, valid for the pack's period from today."""
    today = today or timezone.localdate()
    level, criteria = chosen_level(app.definition, app.data)
    if level is None:
        from rencai.errors import ServiceError

        raise ServiceError(_("申请中没有有效的人才类型，不能审核通过。"), code="state")
    years = _field(app.definition, "talent_level")["validity_years"]
    for old in TalentCategory.objects.select_for_update().filter(
        person_id=app.applicant_id, state=TalentCategory.State.ACTIVE
    ):
        old.state = TalentCategory.State.SUPERSEDED
        old.ended_at = timezone.now()
        old.end_reason = _("人才类型变更为%(n)s（%(no)s）") % {"n": level["name"], "no": app.number}
        old.save(update_fields=["state", "ended_at", "end_reason"])
    category = TalentCategory.objects.create(
        person_id=app.applicant_id,
        level=level["code"],
        level_name=level["name"],
        rank=level["rank"],
        criteria=[c["text"] for c in criteria],
        application=app,
        valid_from=today,
        valid_until=add_years(today, years) - datetime.timedelta(days=1),
    )
    audit_record(
        action="talent.grant",
        obj=category,
        after={
            "level": category.level,
            "application": app.number,
            "valid_until": category.valid_until.isoformat(),
        },
    )
    return category


def cancel_granted_by(app, reason: str) -> TalentCategory | None:
    """Cancel the category an application granted, when still in force (F47)."""
    category = (
        TalentCategory.objects.select_for_update()
        .filter(application=app, state=TalentCategory.State.ACTIVE)
        .first()
    )
    if category is None:
        return None
    category.state = TalentCategory.State.CANCELLED
    category.ended_at = timezone.now()
    category.end_reason = reason
    category.save(update_fields=["state", "ended_at", "end_reason"])
    audit_record(action="talent.cancel", obj=category, after={"reason": reason})
    return category


def depends_on_category(definition: dict) -> bool:
    return any(r["kind"] == "talent_at_least" for r in definition.get("rules", []))
