"""Hooks the engine registers with other apps:

- F10: closing an account is refused while an application is approved or in review;
- F16: a reviewer who may see an application may open the materials attached to it."""

from rencai.accounts.closing import register_closure_check
from rencai.profiles.access import register_material_access


def _blocker(user):
    from rencai.applications.transitions import closure_blocker

    return closure_blocker(user)


def _reviewer_may_open(user, material) -> bool:
    from rencai.applications.access import can_view_as_staff
    from rencai.applications.models import Application

    apps = Application.objects.filter(attachments__material=material).select_related(
        "program_version"
    )
    return any(can_view_as_staff(user, app) for app in apps)


register_closure_check(_blocker)
register_material_access(_reviewer_may_open)
