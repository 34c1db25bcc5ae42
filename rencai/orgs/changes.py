"""注册信息变更 (F61): an employer or HR-service agency asks to change its registration
details; the district HR bureau approves or rejects. The values in force stay until the
approval, which applies them to the ``Employer`` and, for the handler's phone, to the
administrator's account (it receives the SMS and the password resets). Every request is
kept as history with the values before and after."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rencai.accounts.models import User
from rencai.agency.catalog import clean_qualifications, qualification_choices
from rencai.audit.services import audit_record
from rencai.errors import ServiceError
from rencai.identity import clean_credit_code, clean_phone, clean_real_name, mask_phone
from rencai.notifications.services import notify, notify_many
from rencai.orgs.models import Authority, Employer, Membership, RegistrationChange

FIELDS = ("name", "credit_code", "qualifications", "licence_number", "contact_name", "phone")
AGENCY_ONLY = frozenset({"qualifications", "licence_number"})

_LABELS = {
    "name": gettext_lazy("单位名称"),
    "credit_code": gettext_lazy("统一社会信用代码"),
    "contact_name": gettext_lazy("联系人"),
    "phone": gettext_lazy("联系人手机号码"),
}
_AGENCY_LABELS = {
    "name": gettext_lazy("机构名称"),
    "credit_code": gettext_lazy("统一社会信用代码"),
    "qualifications": gettext_lazy("资质情况"),
    "licence_number": gettext_lazy("人力资源许可证编号"),
    "contact_name": gettext_lazy("经办人"),
    "phone": gettext_lazy("经办人手机"),
}


def is_agency(employer: Employer) -> bool:
    return employer.kind == Employer.Kind.HR_AGENCY


def change_fields(employer: Employer) -> tuple[str, ...]:
    """The details an organisation may ask to change: the licence and the qualifications
    belong to HR-service agencies only."""
    if is_agency(employer):
        return FIELDS
    return tuple(f for f in FIELDS if f not in AGENCY_ONLY)


def field_label(employer: Employer, name: str) -> str:
    return str((_AGENCY_LABELS if is_agency(employer) else _LABELS)[name])


def details_in_force(employer: Employer) -> dict:
    out = {}
    for name in change_fields(employer):
        value = getattr(employer, name)
        out[name] = list(value or []) if name == "qualifications" else (value or "")
    return out


# --------------------------------------------------------------------------- validation


def _checked(clean, raw, field: str) -> str:
    try:
        return clean(raw)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), field=field) from None


def _text(employer: Employer, data, field: str) -> str:
    """A typed detail, trimmed; control characters (a NUL, which PostgreSQL refuses) are
    refused with the field's name rather than failing at the database."""
    value = data.get(field)
    value = "" if value is None else str(value).strip()
    if any(not ch.isprintable() for ch in value):
        raise ServiceError(
            _("%(label)s中含有无法识别的字符，请重新填写。")
            % {"label": field_label(employer, field)},
            field=field,
        )
    return value


def _clean(employer: Employer, data) -> dict:
    """The proposed details, with the rules of registration (F02, F03, F61)."""
    name = _text(employer, data, "name")
    if not name:
        raise ServiceError(
            _("请填写机构名称。") if is_agency(employer) else _("请填写单位名称。"), field="name"
        )
    if len(name) > 100:
        raise ServiceError(_("名称过长（最多100个字符）。"), field="name")
    out = {
        "name": name,
        "credit_code": _checked(clean_credit_code, data.get("credit_code"), "credit_code"),
        "contact_name": _checked(
            clean_real_name, _text(employer, data, "contact_name"), "contact_name"
        ),
        "phone": _checked(clean_phone, data.get("phone"), "phone"),
    }
    if is_agency(employer):
        licence = _text(employer, data, "licence_number")
        if not licence:
            raise ServiceError(_("人力资源服务机构请填写许可证编号。"), field="licence_number")
        if len(licence) > 50:
            raise ServiceError(_("许可证编号过长（最多50个字符）。"), field="licence_number")
        out["licence_number"] = licence
        if qualification_choices():
            out["qualifications"] = clean_qualifications(data.get("qualifications"))
        else:
            # No agency pack loaded: nothing to choose from, the stored ones stay.
            out["qualifications"] = list(employer.qualifications or [])
    return {name: out[name] for name in change_fields(employer)}


def _admin_user(employer: Employer, *, lock: bool = False) -> User | None:
    """The organisation's administrator account: its phone is the handler's phone."""
    user_ids = Membership.objects.filter(
        employer=employer, role=Membership.Role.EMPLOYER_ADMIN
    ).values("user_id")
    qs = User.objects.filter(pk__in=user_ids, closed_at__isnull=True).order_by("pk")
    if lock:
        qs = qs.select_for_update()
    return qs.first()


def _check_free(employer: Employer, admin: User | None, current: dict, after: dict) -> None:
    """A new credit code or phone must not belong to another organisation or open account."""
    admin_pk = admin.pk if admin else None
    code = after["credit_code"]
    if code != current["credit_code"]:
        taken = (
            Employer.objects.filter(credit_code=code).exclude(pk=employer.pk).exists()
            or User.objects.filter(username__iexact=code).exclude(pk=admin_pk).exists()
        )
        if taken:
            raise ServiceError(
                _("该统一社会信用代码已被其他单位或账号使用。"),
                field="credit_code",
                code="duplicate",
            )
    phone = after["phone"]
    if phone != current["phone"]:
        others = User.objects.filter(phone=phone, closed_at__isnull=True).exclude(pk=admin_pk)
        if others.select_for_update().values_list("pk", flat=True)[:1]:
            raise ServiceError(_("该手机号码已被其他账号使用。"), field="phone", code="duplicate")


def _for_audit(details: dict) -> dict:
    out = dict(details)
    if out.get("phone"):
        out["phone"] = mask_phone(out["phone"])
    return out


# --------------------------------------------------------------------------- services


def change_request(*, actor: User, data, request=None) -> RegistrationChange:
    """The organisation's administrator proposes new registration details. Nothing
    changes on the organisation until the district HR bureau approves (F61)."""
    employer = actor.own_employer() if actor.is_authenticated else None
    if employer is None or not actor.is_organisation_account:
        raise ServiceError(_("只有单位或机构账号可以申请变更注册信息。"), code="forbidden")
    if not employer.is_approved:
        raise ServiceError(_("单位注册审核通过后才能申请变更注册信息。"), code="state")
    after = _clean(employer, data)
    try:
        with transaction.atomic():
            employer = Employer.objects.select_for_update().get(pk=employer.pk)
            if RegistrationChange.objects.filter(
                employer=employer, state=RegistrationChange.State.PENDING
            ).exists():
                raise ServiceError(
                    _("已有待审核的变更申请，请等待区县人社部门审核后再提交。"), code="pending"
                )
            before = details_in_force(employer)
            if after == before:
                raise ServiceError(_("未修改任何信息。"), code="unchanged")
            _check_free(employer, _admin_user(employer), before, after)
            change = RegistrationChange.objects.create(
                employer=employer, requested_by=actor, before=before, after=after
            )
            audit_record(
                action="employer.change_request",
                actor=actor,
                obj=employer,
                before=_for_audit(before),
                after=_for_audit(after),
                extra={"change": change.pk},
                request=request,
            )
            _tell_reviewers(change)
    except IntegrityError:
        # Two requests raced; the one-pending constraint let one through.
        raise ServiceError(
            _("已有待审核的变更申请，请等待区县人社部门审核后再提交。"), code="pending"
        ) from None
    return change


def change_review(
    *, actor: User, change_id: int, approve: bool, opinion: str, request=None
) -> RegistrationChange:
    """The district HR bureau approves (the new details take effect) or rejects (with an
    opinion; nothing changes) a registration change (F61)."""
    from rencai.review.access import reviewable_districts_of

    opinion = (opinion or "").strip()
    if not approve and not opinion:
        raise ServiceError(_("审核不通过时请填写审核意见，单位将看到这段意见。"), field="opinion")
    try:
        with transaction.atomic():
            change = RegistrationChange.objects.select_for_update().filter(pk=change_id).first()
            employer = (
                Employer.objects.select_for_update().filter(pk=change.employer_id).first()
                if change is not None
                else None
            )
            if employer is None or employer.district_id not in reviewable_districts_of(actor):
                raise ServiceError(_("未找到该记录。"), code="not_found")
            if change.state != RegistrationChange.State.PENDING:
                raise ServiceError(
                    _("该变更申请已由他人审核，当前状态：%(s)s。")
                    % {"s": change.get_state_display()},
                    code="state",
                )
            admin = _admin_user(employer, lock=True)
            current = details_in_force(employer)
            extra = {"change": change.pk, "opinion": opinion}
            if approve:
                _check_free(employer, admin, current, change.after)
                extra.update(_apply(employer, admin, change))
            change.state = (
                RegistrationChange.State.APPROVED if approve else RegistrationChange.State.REJECTED
            )
            change.opinion = opinion
            change.reviewer = actor
            change.decided_at = timezone.now()
            change.save(update_fields=["state", "opinion", "reviewer", "decided_at"])
            audit_record(
                action="employer.change_review",
                actor=actor,
                role="hr_bureau",
                obj=employer,
                before=_for_audit(current),
                after=_for_audit(details_in_force(employer)),
                extra={**extra, "state": change.state},
                request=request,
            )
            if admin is not None:
                _tell_organisation(change, admin)
    except IntegrityError:
        raise ServiceError(
            _("该统一社会信用代码或手机号码已被其他单位或账号使用。"), code="duplicate"
        ) from None
    return change


def _apply(employer: Employer, admin: User | None, change: RegistrationChange) -> dict:
    """Put the approved details in force; the handler's phone becomes the administrator's
    phone, and a login name that was the old credit code follows the new one."""
    after, before = change.after, change.before
    old_code = employer.credit_code
    for name in change_fields(employer):
        if name in after:
            setattr(employer, name, after[name])
    employer.save(update_fields=[n for n in change_fields(employer) if n in after])
    done = {}
    if admin is None:
        return done
    user_fields = []
    if after["phone"] != before["phone"] and admin.phone != after["phone"]:
        admin.phone = after["phone"]
        user_fields.append("phone")
        done["admin_phone"] = mask_phone(admin.phone)
    if after["credit_code"] != old_code and admin.username == old_code:
        admin.username = after["credit_code"]
        user_fields.append("username")
        done["admin_username"] = admin.username
    if user_fields:
        admin.save(update_fields=user_fields)
    return done


# --------------------------------------------------------------------------- notifications


def _tell_reviewers(change: RegistrationChange) -> None:
    reviewers = User.objects.filter(
        is_active=True,
        pk__in=Membership.objects.filter(
            role__in=[Membership.Role.REVIEWER, Membership.Role.AUTHORITY_ADMIN],
            authority__kind=Authority.Kind.HR_BUREAU,
            authority__region_id=change.employer.district_id,
        ).values("user_id"),
    )
    notify_many(
        users=reviewers,
        title=_("待审核：注册信息变更"),
        body=_("%(name)s 提交了注册信息变更申请，请及时审核。") % {"name": change.employer.name},
        link=reverse("review:change", args=[change.pk]),
        sms=False,
    )


def _tell_organisation(change: RegistrationChange, admin: User) -> None:
    link = reverse("accounts:registration_change")
    if change.state == RegistrationChange.State.APPROVED:
        notify(
            user=admin,
            title=_("注册信息变更已通过"),
            body=_("您提交的注册信息变更已审核通过，新的注册信息已生效。"),
            link=link,
        )
    else:
        notify(
            user=admin,
            title=_("注册信息变更未通过"),
            body=_("您提交的注册信息变更审核不通过，原注册信息继续有效。审核意见：%(o)s")
            % {"o": change.opinion},
            link=link,
        )


# --------------------------------------------------------------------------- reading


def pending_change(employer: Employer) -> RegistrationChange | None:
    return RegistrationChange.objects.filter(
        employer=employer, state=RegistrationChange.State.PENDING
    ).first()


HISTORY_LIMIT = 50


def history_of(employer: Employer, limit: int | None = None) -> list[RegistrationChange]:
    """The organisation's latest requests, newest first (the pending one, if any, is the
    newest): at most ``limit``, so that the page stays bounded after many rejections."""
    return list(
        RegistrationChange.objects.filter(employer=employer)
        .select_related("employer", "reviewer")
        .order_by("-created_at", "-id")[: limit or HISTORY_LIMIT]
    )


def changes_for_districts(districts, state: str = "pending"):
    qs = RegistrationChange.objects.filter(employer__district_id__in=districts).select_related(
        "employer__district", "requested_by"
    )
    if state != "all":
        qs = qs.filter(state=state)
    return qs


def change_rows(change: RegistrationChange, names: dict | None = None) -> list[dict]:
    """Each detail as the page shows it: label, value before, value after, changed or not;
    qualifications by name (``names``: code → name, read from the pack when not given)."""
    if names is None:
        names = dict(qualification_choices())
    rows = []
    for name in change_fields(change.employer):
        if name not in change.after:
            continue
        old, new = change.before.get(name, ""), change.after[name]
        changed = old != new
        if name == "qualifications":
            old = _("、").join(names.get(c, c) for c in old or []) or "—"
            new = _("、").join(names.get(c, c) for c in new or []) or "—"
        rows.append(
            {
                "name": name,
                "label": field_label(change.employer, name),
                "before": old or "—",
                "after": new or "—",
                "changed": changed,
            }
        )
    return rows
