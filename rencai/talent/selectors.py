"""What the talent pages show: the service tiles with who may apply (F49), the person's
category and its history (F46, F48)."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from rencai.programs.models import Program


@dataclass
class Tile:
    program: Program
    who: str  # "所有用户均可申请" / "F类及以上可以申请"
    closed: str = ""  # why it is greyed out for this person, or ""


def classification_program(programs=None) -> Program | None:
    for program in programs if programs is not None else talent_programs():
        if program.definition.get("outcome") == "talent_category":
            return program
    return None


def talent_programs() -> list[Program]:
    return list(
        Program.objects.filter(
            active=True,
            applicant_kind="person",
            current_version__isnull=False,
            pack__talent__isnull=False,
        )
        .select_related("current_version", "pack")
        .order_by("pack__code", "order")
    )


def _who(definition) -> str:
    gate = next((r for r in definition.get("rules", []) if r["kind"] == "talent_at_least"), None)
    if gate is None:
        return _("所有用户均可申请")
    short = gate["level_name"].split("：")[0]
    return _("%(l)s及以上可以申请") % {"l": short}


def service_tiles(user=None, programs=None) -> list[Tile]:
    """The services of the talent pack (not the classification itself), each with who
    may apply and, for a signed-in person, why it is closed to them."""
    from rencai.applications.rules import category_gates

    programs = [
        p
        for p in (programs if programs is not None else talent_programs())
        if p.definition.get("outcome") != "talent_category"
    ]
    closed = (
        category_gates(user, programs)
        if user is not None and getattr(user, "is_authenticated", False)
        else {}
    )
    return [Tile(p, _who(p.definition), closed.get(p.pk, "")) for p in programs]
