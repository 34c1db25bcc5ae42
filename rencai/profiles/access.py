"""Access helpers for profiles and materials. Each raises the same 404 for "does not exist"
and "not yours", so nobody learns whether another person's record exists (STYLE.md).

Other apps widen who may see a material with ``register_material_access``: the application
engine registers "a reviewer of an application that uses this material"."""

from collections.abc import Callable

from django.http import Http404

from rencai.accounts.models import User
from rencai.profiles.models import Education, HeldQualification, Material, WorkHistory

MaterialCheck = Callable[[User, Material], bool]
_material_checks: list[MaterialCheck] = []


def register_material_access(check: MaterialCheck) -> MaterialCheck:
    """Register ``check(user, material) -> bool``; a viewer any check allows may open the
    material's file. Idempotent; usable as a decorator (call it from an ``AppConfig.ready``)."""
    if check not in _material_checks:
        _material_checks.append(check)
    return check


def unregister_material_access(check: MaterialCheck) -> None:
    if check in _material_checks:
        _material_checks.remove(check)


def require_person(user: User) -> User:
    """Only persons have profiles: anyone else gets 404."""
    if not user.is_authenticated or not user.is_person:
        raise Http404
    return user


def _owned(model, user: User, pk: int, *related: str):
    require_person(user)
    obj = model.objects.select_related(*related).filter(pk=pk, owner=user).first()
    if obj is None:
        raise Http404
    return obj


def education_for_owner(user: User, pk: int) -> Education:
    return _owned(Education, user, pk, "school")


def held_qualification_for_owner(user: User, pk: int) -> HeldQualification:
    return _owned(HeldQualification, user, pk, "qualification")


def work_history_for_owner(user: User, pk: int) -> WorkHistory:
    return _owned(WorkHistory, user, pk, "employer", "district")


def material_for_owner(user: User, pk: int) -> Material:
    """For changing a material (delete, upload again): only its owner."""
    return _owned(Material, user, pk)


def can_view_material(user: User, material: Material) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if material.owner_id == user.pk:
        return True
    return any(check(user, material) for check in list(_material_checks))


def material_for_viewer(user: User, pk: int) -> Material:
    """For opening a material's file: its owner, or anyone a registered check allows."""
    material = Material.objects.select_related("owner").filter(pk=pk).first()
    if material is None or not can_view_material(user, material):
        raise Http404
    return material
