"""The exception list (异常名单, F55): who is barred today, and the two writes (add, lift),
each atomic and audited."""

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rencai.audit.services import audit_record
from rencai.errors import ServiceError
from rencai.integrity import access
from rencai.integrity.models import ExceptionEntry

BAR_DAYS = 365  # “一年内无法再次申请”: 365 days, so 29 February needs no special case


def default_ends_on(starts_on: datetime.date) -> datetime.date:
    try:
        return starts_on + datetime.timedelta(days=BAR_DAYS)
    except OverflowError:  # 9999-12-31 + 365 days
        raise ServiceError(
            _("开始日期超出了可以记录的范围，请检查。"), field="starts_on", code="out_of_range"
        ) from None


def barred(user, today: datetime.date | None = None) -> ExceptionEntry | None:
    """The entry that bars ``user`` today (started, not yet ended, not lifted), or None.
    Matches the account and, when it has one, its ID number (a re-registered person is
    still barred)."""
    if user is None or getattr(user, "pk", None) is None:
        return None
    return barring_entries(user, today).first()


def barring_entries(user, today: datetime.date | None = None):
    """The entries that bar ``user`` today, the one that ends last first (``barred``): the
    definition that the submission's plain-SQL read (``applications.records``) is checked
    against in ``tests/test_rule_records.py``."""
    today = today or timezone.localdate()
    who = Q(person=user)
    if user.id_number:
        who |= Q(id_type=user.id_type or "", id_number=user.id_number)
    return (
        ExceptionEntry.objects.filter(who, lifted_at__isnull=True, starts_on__lte=today)
        .filter(ends_on__gt=today)
        .order_by("-ends_on", "-id")
    )


def clean_reason(reason, *, field: str = "reason") -> str:
    text = str(reason or "").replace("\x00", "").strip()  # PostgreSQL refuses NUL
    if not text:
        raise ServiceError(_("请填写原因。"), field=field, code="required")
    return text


def check_period(starts_on: datetime.date, ends_on: datetime.date) -> None:
    if ends_on <= starts_on:
        raise ServiceError(_("截止日期必须晚于开始日期。"), field="ends_on", code="period")


def _summary(entry: ExceptionEntry) -> dict:
    return {
        "person": entry.person_id,
        "id_number": entry.masked_id_number,
        "source": entry.source,
        "starts_on": entry.starts_on.isoformat(),
        "ends_on": entry.ends_on.isoformat(),
        "reason": entry.reason[:200],
    }


def entry_add(
    *,
    actor,
    person,
    reason: str,
    source: str = ExceptionEntry.Source.FALSE_DECLARATION,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
    request=None,
) -> ExceptionEntry:
    """Put ``person`` on the exception list from ``starts_on`` (today) until ``ends_on``
    (365 days later; that day is no longer barred)."""
    if not access.may_add_entry(actor):
        raise ServiceError(_("您没有管理异常名单的权限。"), code="forbidden")
    if person is None or getattr(person, "pk", None) is None:
        raise ServiceError(_("请选择人员。"), field="person", code="required")
    reason = clean_reason(reason)
    if source not in ExceptionEntry.Source.values:
        raise ServiceError(_("请选择类型。"), field="source", code="invalid")
    starts_on = starts_on or timezone.localdate()
    ends_on = ends_on or default_ends_on(starts_on)
    check_period(starts_on, ends_on)
    with transaction.atomic():
        entry = ExceptionEntry.objects.create(
            person=person,
            id_type=person.id_type or "",
            id_number=person.id_number or "",
            reason=reason,
            source=source,
            starts_on=starts_on,
            ends_on=ends_on,
            created_by=actor,
        )
        audit_record(
            action="integrity.add",
            actor=actor,
            role="admin",
            obj=entry,
            after=_summary(entry),
            request=request,
        )
    return entry


def entry_lift(*, actor, entry_id: int, reason: str, request=None) -> ExceptionEntry:
    """Lift an entry early: it stops barring at once and stays on record."""
    if not access.may_lift_entry(actor):
        raise ServiceError(_("您没有管理异常名单的权限。"), code="forbidden")
    reason = clean_reason(reason, field="lift_reason")
    with transaction.atomic():
        entry = ExceptionEntry.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            raise ServiceError(_("未找到该记录。"), code="not_found")
        if entry.lifted_at is not None:
            raise ServiceError(_("该记录已经解除，不能重复解除。"), code="already_lifted")
        entry.lifted_at = timezone.now()
        entry.lifted_by = actor
        entry.lift_reason = reason
        entry.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
        audit_record(
            action="integrity.lift",
            actor=actor,
            role="admin",
            obj=entry,
            extra={"reason": reason[:200]},
            request=request,
        )
    return entry
