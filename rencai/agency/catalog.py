"""The active pack's agency section (F57, F61): qualifications and service categories with
their indicator trees and grades. Applications read the tree from their own program
version instead, so a pack change never rescored what was already filed."""

from django.utils.translation import gettext as _

from rencai.errors import ServiceError
from rencai.programs.models import Pack


def section() -> dict:
    pack = Pack.objects.filter(active=True, agency__isnull=False).order_by("code").first()
    return pack.agency if pack else {}


def qualification_choices() -> list[tuple[str, str]]:
    """(code, name) of the qualifications an HR-service agency may register with."""
    return [(q["code"], q["name"]) for q in section().get("qualifications", [])]


def service_categories() -> list[dict]:
    return section().get("service_categories", [])


def service_category(code: str) -> dict | None:
    return next((c for c in service_categories() if c["code"] == code), None)


def qualification_names(codes) -> list[str]:
    """The names of stored qualification codes, in the order given; a code the active
    pack no longer lists shows as itself rather than disappearing."""
    names = dict(qualification_choices())
    return [names.get(code, code) for code in codes or []]


def clean_qualifications(codes) -> list[str]:
    """An agency's qualifications checked against the active pack: at least one when the
    pack lists any, only listed codes, in the pack's order. With no agency pack there is
    nothing to choose from and the answer is empty."""
    choices = [code for code, _name in qualification_choices()]
    if not choices:
        return []
    codes = set(codes or [])
    unknown = codes - set(choices)
    if unknown:
        raise ServiceError(
            _("资质情况中有未知的选项：%(codes)s。") % {"codes": _("、").join(sorted(unknown))},
            field="qualifications",
        )
    if not codes:
        raise ServiceError(_("请至少选择一项资质情况。"), field="qualifications")
    return [code for code in choices if code in codes]
