"""Every write of the profiles context (F13–F16): one function per use case, one
transaction each, a ServiceError with a Chinese message for every refusal, and an audit row
for every change. Callers check access first (``rencai.profiles.access``); the services
check again that the actor owns what it changes."""

import datetime
import logging
from dataclasses import asdict, dataclass

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import ProtectedError, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.accounts.models import User
from rencai.audit.services import audit_record
from rencai.errors import ServiceError
from rencai.orgs.models import Employer, Region
from rencai.profiles.materials import (
    MATERIAL_TYPES,
    check_upload,
    size_text,
    storage_name,
    user_quota_bytes,
)
from rencai.profiles.models import (
    ETHNICITY_CHOICES,
    Education,
    HeldQualification,
    Material,
    Party,
    Profile,
    Qualification,
    School,
    WorkHistory,
)

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- helpers


def _require_person(actor: User) -> None:
    if actor is None or not actor.is_person:
        raise ServiceError(_("只有个人用户可以填写个人信息。"), code="forbidden")


def _require_owner(actor: User, obj) -> None:
    _require_person(actor)
    if obj.owner_id != actor.pk:
        raise ServiceError(_("未找到该记录。"), code="not_found")


def _fmt(day: datetime.date) -> str:
    return day.strftime("%Y-%m-%d")


def _not_future(day: datetime.date, *, field: str, message: str) -> None:
    if day > timezone.localdate():
        raise ServiceError(message, field=field, code="future")


def _not_before_birth(actor: User, day: datetime.date, *, field: str, label: str) -> None:
    if actor.birth_date and day < actor.birth_date:
        raise ServiceError(
            _("%(label)s不能早于您的出生日期（%(birth)s）。")
            % {"label": label, "birth": _fmt(actor.birth_date)},
            field=field,
            code="before_birth",
        )


def _not_before(start, end, *, field: str, message: str) -> None:
    if start and end and end < start:
        raise ServiceError(message, field=field, code="order")


def _clean_text(value: str, *, field: str, message: str = "", max_length: int = 200) -> str:
    value = " ".join((value or "").split())
    if message and not value:
        raise ServiceError(message, field=field, code="required")
    if len(value) > max_length:
        raise ServiceError(_("最多 %(n)d 个字。") % {"n": max_length}, field=field, code="too_long")
    return value


# --------------------------------------------------------------------------- profile


@dataclass
class ProfileData:
    ethnicity: str
    party: str
    household_address: str
    current_address: str
    position: str = ""


def profile_update(*, actor: User, data: ProfileData, request=None) -> Profile:
    """Save the person's basic information (F13)."""
    _require_person(actor)
    if data.ethnicity not in dict(ETHNICITY_CHOICES):
        raise ServiceError(_("请选择民族。"), field="ethnicity")
    if data.party not in Party.values:
        raise ServiceError(_("请选择政治面貌。"), field="party")
    values = {
        "ethnicity": data.ethnicity,
        "party": data.party,
        "household_address": _clean_text(
            data.household_address, field="household_address", message=_("请填写户籍地址。")
        ),
        "current_address": _clean_text(
            data.current_address, field="current_address", message=_("请填写现居住地址。")
        ),
        "position": _clean_text(data.position, field="position", max_length=100),
    }
    with transaction.atomic():
        profile, created = Profile.objects.select_for_update().get_or_create(user=actor)
        changed = sorted(k for k, v in values.items() if getattr(profile, k) != v)
        for key, value in values.items():
            setattr(profile, key, value)
        profile.save()
        # Addresses are personal data: the audit row names the changed fields only.
        audit_record(
            action="profile.update",
            actor=actor,
            obj=profile,
            extra={"created": created, "fields": changed},
            request=request,
        )
    return profile


# --------------------------------------------------------------------------- education


@dataclass
class EducationData:
    school: School
    major: str
    level: str
    degree: str
    graduation_date: datetime.date
    diploma_number: str
    degree_number: str = ""
    is_highest: bool = False


def _education_values(actor: User, data: EducationData, current: Education | None) -> dict:
    school = data.school
    if school is None:
        raise ServiceError(_("请选择毕业学校。"), field="school")
    if not school.active and (current is None or current.school_id != school.pk):
        raise ServiceError(_("该学校已停用，请重新选择。"), field="school")
    if data.level not in Education.Level.values:
        raise ServiceError(_("请选择学历。"), field="level")
    if data.degree not in Education.Degree.values:
        raise ServiceError(_("请选择学位。"), field="degree")
    if data.level == Education.Level.COLLEGE and data.degree != Education.Degree.NONE:
        raise ServiceError(_("大专学历没有学位，学位请选择“无”。"), field="degree")
    day = data.graduation_date
    if day is None:
        raise ServiceError(_("请填写毕业时间。"), field="graduation_date")
    _not_future(day, field="graduation_date", message=_("毕业时间不能晚于今天。"))
    _not_before_birth(actor, day, field="graduation_date", label=_("毕业时间"))
    degree_number = _clean_text(data.degree_number, field="degree_number", max_length=40)
    if data.degree == Education.Degree.NONE:
        degree_number = ""
    elif not degree_number:
        raise ServiceError(_("有学位的请填写学位证书编号。"), field="degree_number")
    return {
        "school": school,
        "major": _clean_text(
            data.major, field="major", message=_("请填写所学专业。"), max_length=100
        ),
        "level": data.level,
        "degree": data.degree,
        "graduation_date": day,
        "diploma_number": _clean_text(
            data.diploma_number,
            field="diploma_number",
            message=_("请填写毕业证书编号。"),
            max_length=40,
        ),
        "degree_number": degree_number,
        "is_highest": bool(data.is_highest),
    }


def _education_summary(edu: Education) -> dict:
    return {
        "school": edu.school_id,
        "level": edu.level,
        "degree": edu.degree,
        "graduation_date": _fmt(edu.graduation_date),
        "is_highest": edu.is_highest,
    }


def _save_education(actor, edu: Education, values: dict, action: str, request) -> Education:
    with transaction.atomic():
        before = _education_summary(edu) if edu.pk else None
        if values["is_highest"]:
            actor.educations.exclude(pk=edu.pk).filter(is_highest=True).update(is_highest=False)
        for key, value in values.items():
            setattr(edu, key, value)
        edu.save()
        audit_record(
            action=action,
            actor=actor,
            obj=edu,
            before=before,
            after=_education_summary(edu),
            request=request,
        )
    return edu


def education_create(*, actor: User, data: EducationData, request=None) -> Education:
    _require_person(actor)
    values = _education_values(actor, data, None)
    return _save_education(actor, Education(owner=actor), values, "education.create", request)


def education_update(
    *, actor: User, education: Education, data: EducationData, request=None
) -> Education:
    _require_owner(actor, education)
    values = _education_values(actor, data, education)
    return _save_education(actor, education, values, "education.update", request)


def education_delete(*, actor: User, education: Education, request=None) -> None:
    _require_owner(actor, education)
    with transaction.atomic():
        before, pk = _education_summary(education), education.pk
        education.delete()
        audit_record(
            action="education.delete",
            actor=actor,
            object_type="profiles.education",
            object_id=str(pk),
            before=before,
            request=request,
        )


# --------------------------------------------------------------------------- qualifications


@dataclass
class HeldQualificationData:
    qualification: Qualification
    certificate_number: str
    issued_date: datetime.date


def _qualification_values(actor, data: HeldQualificationData, current) -> dict:
    qualification = data.qualification
    if qualification is None:
        raise ServiceError(_("请选择职业资格。"), field="qualification")
    if not qualification.active and (
        current is None or current.qualification_id != qualification.pk
    ):
        raise ServiceError(_("该职业资格已停用，请重新选择。"), field="qualification")
    day = data.issued_date
    if day is None:
        raise ServiceError(_("请填写发证日期。"), field="issued_date")
    _not_future(day, field="issued_date", message=_("发证日期不能晚于今天。"))
    _not_before_birth(actor, day, field="issued_date", label=_("发证日期"))
    return {
        "qualification": qualification,
        "certificate_number": _clean_text(
            data.certificate_number,
            field="certificate_number",
            message=_("请填写证书编号。"),
            max_length=40,
        ),
        "issued_date": day,
    }


def _qualification_summary(held: HeldQualification) -> dict:
    return {"qualification": held.qualification_id, "issued_date": _fmt(held.issued_date)}


def _save_qualification(actor, held, values, action, request) -> HeldQualification:
    with transaction.atomic():
        before = _qualification_summary(held) if held.pk else None
        for key, value in values.items():
            setattr(held, key, value)
        held.save()
        audit_record(
            action=action,
            actor=actor,
            obj=held,
            before=before,
            after=_qualification_summary(held),
            request=request,
        )
    return held


def held_qualification_create(
    *, actor: User, data: HeldQualificationData, request=None
) -> HeldQualification:
    _require_person(actor)
    values = _qualification_values(actor, data, None)
    return _save_qualification(
        actor, HeldQualification(owner=actor), values, "qualification.create", request
    )


def held_qualification_update(
    *, actor: User, held: HeldQualification, data: HeldQualificationData, request=None
) -> HeldQualification:
    _require_owner(actor, held)
    values = _qualification_values(actor, data, held)
    return _save_qualification(actor, held, values, "qualification.update", request)


def held_qualification_delete(*, actor: User, held: HeldQualification, request=None) -> None:
    _require_owner(actor, held)
    with transaction.atomic():
        before, pk = _qualification_summary(held), held.pk
        held.delete()
        audit_record(
            action="qualification.delete",
            actor=actor,
            object_type="profiles.heldqualification",
            object_id=str(pk),
            before=before,
            request=request,
        )


# --------------------------------------------------------------------------- work history


@dataclass
class WorkHistoryData:
    kind: str
    organisation_name: str
    start_date: datetime.date
    end_date: datetime.date | None = None
    employer: Employer | None = None
    district: Region | None = None
    role: str = ""
    contract_start: datetime.date | None = None
    contract_end: datetime.date | None = None


def _work_values(actor: User, data: WorkHistoryData, current) -> dict:
    if data.kind not in WorkHistory.Kind.values:
        raise ServiceError(_("请选择经历类型。"), field="kind")
    is_work = data.kind == WorkHistory.Kind.WORK
    employer = data.employer if is_work else None
    if employer is not None and (
        (not employer.is_approved or employer.kind == Employer.Kind.VIRTUAL)
        and (current is None or current.employer_id != employer.pk)
    ):
        raise ServiceError(_("只能选择已通过审核的单位。"), field="employer")
    name = _clean_text(data.organisation_name, field="organisation_name", max_length=100)
    if not name and employer is not None:
        name = employer.name
    if not name:
        raise ServiceError(
            _("请填写单位名称。") if is_work else _("请填写学校名称。"),
            field="organisation_name",
        )
    district = data.district
    if district is not None and district.level != Region.Level.DISTRICT:
        raise ServiceError(_("请选择区县。"), field="district")
    if district is None and employer is not None:
        district = employer.district
    start, end = data.start_date, data.end_date
    if start is None:
        raise ServiceError(_("请填写开始日期。"), field="start_date")
    _not_future(start, field="start_date", message=_("开始日期不能晚于今天。"))
    _not_before_birth(actor, start, field="start_date", label=_("开始日期"))
    _not_before(start, end, field="end_date", message=_("结束日期不能早于开始日期。"))
    contract_start = data.contract_start if is_work else None
    contract_end = data.contract_end if is_work else None
    if contract_end and not contract_start:
        raise ServiceError(_("请填写劳动合同开始日期。"), field="contract_start")
    if contract_start:
        _not_before_birth(
            actor, contract_start, field="contract_start", label=_("劳动合同开始日期")
        )
    _not_before(
        contract_start,
        contract_end,
        field="contract_end",
        message=_("劳动合同结束日期不能早于开始日期。"),
    )
    return {
        "kind": data.kind,
        "organisation_name": name,
        "employer": employer,
        "district": district,
        "role": _clean_text(data.role, field="role", max_length=100),
        "start_date": start,
        "end_date": end,
        "contract_start": contract_start,
        "contract_end": contract_end,
    }


def _work_summary(item: WorkHistory) -> dict:
    return {
        "kind": item.kind,
        "organisation_name": item.organisation_name,
        "employer": item.employer_id,
        "district": item.district_id,
        "start_date": _fmt(item.start_date),
        "end_date": _fmt(item.end_date) if item.end_date else None,
        "contract_start": _fmt(item.contract_start) if item.contract_start else None,
        "contract_end": _fmt(item.contract_end) if item.contract_end else None,
    }


def _save_work(actor, item, values, action, request) -> WorkHistory:
    with transaction.atomic():
        before = _work_summary(item) if item.pk else None
        for key, value in values.items():
            setattr(item, key, value)
        item.save()
        audit_record(
            action=action,
            actor=actor,
            obj=item,
            before=before,
            after=_work_summary(item),
            request=request,
        )
    return item


def work_history_create(*, actor: User, data: WorkHistoryData, request=None) -> WorkHistory:
    _require_person(actor)
    values = _work_values(actor, data, None)
    return _save_work(actor, WorkHistory(owner=actor), values, "work_history.create", request)


def work_history_update(
    *, actor: User, item: WorkHistory, data: WorkHistoryData, request=None
) -> WorkHistory:
    _require_owner(actor, item)
    values = _work_values(actor, data, item)
    return _save_work(actor, item, values, "work_history.update", request)


def work_history_delete(*, actor: User, item: WorkHistory, request=None) -> None:
    _require_owner(actor, item)
    with transaction.atomic():
        before, pk = _work_summary(item), item.pk
        item.delete()
        audit_record(
            action="work_history.delete",
            actor=actor,
            object_type="profiles.workhistory",
            object_id=str(pk),
            before=before,
            request=request,
        )


# --------------------------------------------------------------------------- materials


def _material_summary(material: Material) -> dict:
    return {
        "material_type": material.material_type,
        "original_name": material.original_name,
        "size": material.size,
        "sha256": material.sha256,
    }


def _delete_file_on_commit(name: str) -> None:
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


def _remove_file(name: str) -> None:
    """Remove a file this request wrote, now; a failing storage is logged, not raised (the
    error that brought us here is the one the caller needs)."""
    try:
        default_storage.delete(name)
    except Exception:
        logger.exception("could not remove the uploaded file %s", name)


def _store_file(owner_id: int, checked, uploaded_file) -> str:
    """Write the checked file under a name of our own. When the storage fails, whatever it
    wrote is removed and the person gets a message, not an error page."""
    name = storage_name(owner_id, checked.extension)
    try:
        uploaded_file.seek(0)
        return default_storage.save(name, uploaded_file)
    except Exception:
        logger.exception("storing an upload as %s failed", name)
        _remove_file(name)  # a partly written file (the name is new: nobody else's)
        raise ServiceError(
            _("文件“%(name)s”保存失败（文件存储暂时不可用），没有保存任何内容，请稍后重试。")
            % {"name": checked.original_name},
            field="file",
            code="storage",
        ) from None


def _check_quota(owner: User, checked, *, replacing: Material | None = None, lock: bool) -> None:
    """Refuse a file that would take the owner's materials over the quota; a replaced file
    frees its own size. With ``lock`` the owner's row is locked first, so two uploads at
    once are counted one after the other (inside the caller's transaction)."""
    quota = user_quota_bytes()
    if not quota:
        return
    if lock:
        User.objects.select_for_update().filter(pk=owner.pk).values_list("pk").first()
    used = Material.objects.filter(owner=owner).aggregate(total=Sum("size"))["total"] or 0
    freed = 0
    if replacing is not None:
        freed = Material.objects.filter(pk=replacing.pk).values_list("size", flat=True).first() or 0
    if used - freed + checked.size > quota:
        raise ServiceError(
            _(
                "存储空间不足：您的材料已占用 %(used)s，上限为 %(limit)s，"
                "再保存“%(name)s”（%(size)s）将超出上限，未保存。请先删除不再需要的材料后再上传。"
            )
            % {
                "used": size_text(used),
                "limit": size_text(quota),
                "name": checked.original_name,
                "size": size_text(checked.size),
            },
            field="file",
            code="quota",
        )


def _check_material_owner(actor: User | None, material: Material) -> User:
    actor = actor or material.owner
    if actor.pk != material.owner_id:
        raise ServiceError(_("未找到该材料。"), code="not_found")
    return actor


def material_upload(
    owner: User,
    material_type: str,
    uploaded_file,
    request=None,
    *,
    actor: User | None = None,
    types: dict | None = None,
) -> Material:
    """Check and store one file of ``owner`` (F16). ``types`` is the program's dict of
    material types (code -> label); the default is ``MATERIAL_TYPES``. A refused file leaves
    nothing behind: no row and no file in the storage. The owner's quota is checked once
    before the file is written and again, under a lock on the owner, before the row is."""
    actor = actor or owner
    if actor.pk != owner.pk:
        raise ServiceError(_("只能为自己上传材料。"), code="forbidden")
    if material_type not in (types or MATERIAL_TYPES):
        raise ServiceError(_("请选择材料类型。"), field="material_type")
    if uploaded_file is None:
        raise ServiceError(_("请选择要上传的文件。"), field="file")
    checked = check_upload(uploaded_file)
    _check_quota(owner, checked, lock=False)
    name = _store_file(owner.pk, checked, uploaded_file)
    try:
        with transaction.atomic():
            _check_quota(owner, checked, lock=True)
            material = Material.objects.create(
                owner=owner,
                material_type=material_type,
                file=name,
                uploaded_at=timezone.now(),
                **{k: v for k, v in asdict(checked).items() if k != "extension"},
            )
            audit_record(
                action="material.upload",
                actor=actor,
                obj=material,
                after=_material_summary(material),
                request=request,
            )
    except BaseException:
        _remove_file(name)
        raise
    return material


def material_replace(
    material: Material, uploaded_file, request=None, *, actor: User | None = None
) -> Material:
    """Upload again: the same material (same type, same id) gets a new file; the old
    file is removed once the change is committed. The quota counts the difference."""
    actor = _check_material_owner(actor, material)
    if uploaded_file is None:
        raise ServiceError(_("请选择要上传的文件。"), field="file")
    checked = check_upload(uploaded_file)
    owner = material.owner
    _check_quota(owner, checked, replacing=material, lock=False)
    name = _store_file(material.owner_id, checked, uploaded_file)
    try:
        with transaction.atomic():
            _check_quota(owner, checked, replacing=material, lock=True)
            locked = Material.objects.select_for_update().filter(pk=material.pk).first()
            if locked is None:
                raise ServiceError(_("未找到该材料，可能已被删除。"), code="not_found")
            before, old_name = _material_summary(locked), locked.file.name
            locked.file = name
            locked.uploaded_at = timezone.now()
            for key, value in asdict(checked).items():
                if key != "extension":
                    setattr(locked, key, value)
            locked.save()
            audit_record(
                action="material.replace",
                actor=actor,
                obj=locked,
                before=before,
                after=_material_summary(locked),
                request=request,
            )
            _delete_file_on_commit(old_name)
    except BaseException:
        _remove_file(name)
        raise
    return locked


def material_delete(material: Material, request=None, *, actor: User | None = None) -> None:
    """Delete the row now and the file once the deletion is committed."""
    actor = _check_material_owner(actor, material)
    with transaction.atomic():
        locked = Material.objects.select_for_update().filter(pk=material.pk).first()
        if locked is None:
            return
        before, pk, name = _material_summary(locked), locked.pk, locked.file.name
        try:
            with transaction.atomic():
                locked.delete()
        except ProtectedError:
            # An application holds it (its record must keep the file it was filed with).
            raise ServiceError(
                _("该材料已用于申报，不能删除；如需更新，请上传新版本。"),
                code="in_use",
            ) from None
        audit_record(
            action="material.delete",
            actor=actor,
            object_type="profiles.material",
            object_id=str(pk),
            before=before,
            request=request,
        )
        _delete_file_on_commit(name)
