"""Closing an account erases the profile (issue 8): addresses, ethnicity, party, position,
education, qualifications, work history, and every material no application holds.
Materials attached to an application stay with it (the application is a record)."""

from django.db.models import Exists, OuterRef

from rencai.accounts.closing import register_eraser
from rencai.profiles.models import Education, HeldQualification, Material, Profile, WorkHistory


def erase_profile(user) -> dict[str, int]:
    from rencai.applications.models import ApplicationGap, ApplicationMaterial
    from rencai.profiles.services import _delete_file_on_commit

    loose = Material.objects.filter(owner=user).exclude(
        Exists(ApplicationMaterial.objects.filter(material=OuterRef("pk")))
    )
    loose = loose.exclude(Exists(ApplicationGap.objects.filter(material=OuterRef("pk"))))
    names = list(loose.values_list("file", flat=True))
    removed = {
        "profile": Profile.objects.filter(user=user).delete()[0],
        "education": Education.objects.filter(owner=user).delete()[0],
        "qualifications": HeldQualification.objects.filter(owner=user).delete()[0],
        "work_history": WorkHistory.objects.filter(owner=user).delete()[0],
        "materials": loose.delete()[0],
    }
    for name in names:
        _delete_file_on_commit(name)
    return removed


register_eraser(erase_profile)
