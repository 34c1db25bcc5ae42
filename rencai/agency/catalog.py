"""The active pack's agency section (F57, F61): qualifications and service categories with
their indicator trees and grades. Applications read the tree from their own program
version instead, so a pack change never rescored what was already filed."""

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
