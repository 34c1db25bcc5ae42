"""Writing and verifying the audit chain."""

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from rencai.audit.models import GENESIS, AuditEntry
from rencai.bulk import insert_many

# Any 64-bit number: the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK = 7_305_126_001


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def _entry(
    *,
    action: str,
    actor=None,
    role: str = "",
    obj=None,
    object_type: str = "",
    object_id: str = "",
    before: dict | None = None,
    after: dict | None = None,
    extra: dict | None = None,
    request=None,
) -> AuditEntry:
    """One row, not yet linked into the chain."""
    if obj is not None:
        object_type = object_type or f"{obj._meta.app_label}.{obj._meta.model_name}"
        object_id = object_id or str(obj.pk)
    summary = {}
    if before:
        summary["before"] = before
    if after:
        summary["after"] = after
    if extra:
        summary.update(extra)
    actor_is_user = actor is not None and getattr(actor, "pk", None) is not None
    return AuditEntry(
        at=timezone.now().astimezone(datetime.UTC),
        actor_id=actor.pk if actor_is_user else None,
        actor_repr=(str(actor) if actor_is_user else "")[:100],
        role=role[:100],
        action=action,
        object_type=object_type,
        object_id=str(object_id)[:40],
        summary=summary,
        ip=client_ip(request),
    )


def _append(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Link ``entries`` after the chain's last row and store them, under the chain lock
    (held to the end of the caller's transaction; no savepoint of its own: if this fails,
    so does the change it records)."""
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        # On SQLite the IMMEDIATE transaction already holds the database write lock.
        prev = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first()
        prev = prev or GENESIS
        for entry in entries:
            entry.prev_hash = prev
            entry.hash = prev = entry.compute_hash()
        if len(entries) == 1:
            entries[0].save(force_insert=True)
        else:
            insert_many(AuditEntry, entries)
    return entries


def audit_record(**fields) -> AuditEntry:
    """Append one row to the audit chain (``_entry`` names the fields). Call it inside the
    service's transaction, so the row commits or rolls back with the change it describes."""
    return _append([_entry(**fields)])[0]


def audit_record_many(rows: list[dict]) -> list[AuditEntry]:
    """Append many rows (each the fields of ``audit_record``) in one statement: a batch
    of 10,000 approvals takes the chain lock once, not 10,000 times (issue 7)."""
    return _append([_entry(**fields) for fields in rows]) if rows else []


@dataclass
class ChainReport:
    checked: int
    first_broken_id: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


def audit_verify_chain(*, chunk: int = 2000) -> ChainReport:
    """Walk the chain in id order and name the first row whose hash or link is wrong."""
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:chunk])
        if not rows:
            return ChainReport(checked=checked, first_broken_id=None)
        for row in rows:
            if row.prev_hash != prev:
                return ChainReport(checked, row.id, "prev_hash does not match the previous row")
            if row.compute_hash() != row.hash:
                return ChainReport(checked, row.id, "content does not match its hash")
            prev = row.hash
            checked += 1
            last_id = row.id
