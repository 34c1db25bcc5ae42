"""Reads of the profiles context for pages and for other apps."""

from django.db.models import QuerySet

from rencai.accounts.models import User
from rencai.profiles.materials import MATERIAL_TYPES, material_type_label
from rencai.profiles.models import Education, Material, Profile, WorkHistory


def profile_of(user: User) -> Profile | None:
    return Profile.objects.filter(user=user).first()


def educations_of(user: User) -> QuerySet[Education]:
    return Education.objects.filter(owner=user).select_related("school")


def held_qualifications_of(user: User):
    return user.held_qualifications.select_related("qualification")


def work_history_of(user: User) -> QuerySet[WorkHistory]:
    return WorkHistory.objects.filter(owner=user).select_related("employer", "district")


def highest_education(educations) -> Education | None:
    """The record marked as highest; otherwise the highest level, latest graduation."""
    educations = list(educations)
    marked = [e for e in educations if e.is_highest]
    if marked:
        return marked[0]
    if not educations:
        return None
    return max(educations, key=lambda e: (Education.LEVEL_RANK[e.level], e.graduation_date))


def _education_dict(edu: Education) -> dict:
    return {
        "id": edu.pk,
        "school_id": edu.school_id,
        "school": edu.school.name,
        "major": edu.major,
        "level": edu.level,
        "level_display": str(edu.get_level_display()),
        "degree": edu.degree,
        "degree_display": str(edu.get_degree_display()),
        "graduation_date": edu.graduation_date,
        "diploma_number": edu.diploma_number,
        "degree_number": edu.degree_number,
        "is_highest": edu.is_highest,
    }


def _history_dict(item: WorkHistory) -> dict:
    return {
        "id": item.pk,
        "kind": item.kind,
        "organisation_name": item.organisation_name,
        "employer_id": item.employer_id,
        "district_id": item.district_id,
        "district": item.district.name if item.district else "",
        "role": item.role,
        "start_date": item.start_date,
        "end_date": item.end_date,
        "is_current": item.is_current,
        "contract_start": item.contract_start,
        "contract_end": item.contract_end,
    }


def profile_summary(user: User) -> dict:
    """Everything an application form needs to know about a person, as plain data (dates
    are ``datetime.date``; serialise with DjangoJSONEncoder to snapshot it). Missing parts are
    ``None`` or empty, never an error."""
    profile = profile_of(user) or Profile(user=user)
    educations = list(educations_of(user))
    highest = highest_education(educations)
    history = list(work_history_of(user))
    return {
        "user_id": user.pk,
        "real_name": user.real_name,
        "id_type": user.id_type,
        "gender": user.gender,
        "gender_display": str(user.get_gender_display()) if user.gender else "",
        "birth_date": user.birth_date,
        "employer_id": user.employer_id,
        "employer": user.employer.name if user.employer_id else "",
        "profile": {
            "complete": bool(
                profile.pk
                and profile.ethnicity
                and profile.party
                and profile.household_address
                and profile.current_address
            ),
            "ethnicity": profile.ethnicity,
            "ethnicity_display": str(profile.get_ethnicity_display()) if profile.ethnicity else "",
            "party": profile.party,
            "party_display": str(profile.get_party_display()) if profile.party else "",
            "household_address": profile.household_address,
            "current_address": profile.current_address,
            "position": profile.position,
        },
        "highest_education": _education_dict(highest) if highest else None,
        "educations": [_education_dict(e) for e in educations],
        "qualifications": [
            {
                "id": held.pk,
                "qualification_id": held.qualification_id,
                "name": held.qualification.name,
                "level": held.qualification.level,
                "level_display": str(held.qualification.get_level_display()),
                "certificate_number": held.certificate_number,
                "issued_date": held.issued_date,
            }
            for held in held_qualifications_of(user)
        ],
        "work_history": [_history_dict(h) for h in history if h.kind == WorkHistory.Kind.WORK],
        "study_history": [_history_dict(h) for h in history if h.kind == WorkHistory.Kind.STUDY],
    }


def materials_by_type(user: User, types: dict | None = None) -> list[dict]:
    """The owner's materials grouped by type, in the order of ``types`` (unknown codes
    last): ``[{"code", "label", "materials": [...]}, ...]``, only types that have files."""
    types = types or MATERIAL_TYPES
    groups: dict[str, list[Material]] = {}
    for material in Material.objects.filter(owner=user).order_by("-uploaded_at", "-id"):
        groups.setdefault(material.material_type, []).append(material)
    order = [code for code in types if code in groups] + [c for c in groups if c not in types]
    return [
        {"code": code, "label": material_type_label(code, types), "materials": groups[code]}
        for code in order
    ]
