"""Writing and verifying the audit chain."""

import datetime
import functools
import ipaddress
import json
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from rencai.audit.models import GENESIS, AuditEntry
from rencai.bulk import default_connection, insert_many, insert_one, returning

# Any 64-bit number: the PostgreSQL advisory lock that serialises appends to the chain.
_CHAIN_LOCK = 7_305_126_001


def client_ip(request) -> str | None:
    """The client's address, for the audit log and the per-address limits. Behind a load
    balancer or reverse proxy every request comes from the proxy: when ``REMOTE_ADDR`` is
    one of ``RENCAI_TRUSTED_PROXIES`` (docs/operations.md), the client is the right-most
    address of ``X-Forwarded-For`` that is not a trusted proxy itself. The addresses to
    its left were written by the client and are never believed; a hop that is not an
    address stops the walk at the last one believed."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = trusted_proxies()
    if not trusted or remote is None or not _within(remote, trusted):
        return remote
    client = remote
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _address(hop)
        if address is None:
            break
        client = address
        if not _within(address, trusted):
            break
    return client


def trusted_proxies() -> tuple:
    from django.conf import settings

    return _networks(tuple(getattr(settings, "RENCAI_TRUSTED_PROXIES", ()) or ()))


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _within(address: str, networks: tuple) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _address(hop: str) -> str | None:
    """One X-Forwarded-For entry as an address: ``203.0.113.7``, ``2001:db8::1``, or
    with a port as some proxies write it (``203.0.113.7:4711``, ``[2001:db8::1]:4711``)."""
    hop = hop.strip()
    if hop.startswith("[") and "]" in hop:
        hop = hop[1 : hop.index("]")]
    elif hop.count(":") == 1:
        hop = hop.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:
        return None


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
    if len(entries) == 1 and connection.vendor == "postgresql":
        return [_append_one_postgresql(entries[0])]
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
            # On SQLite the IMMEDIATE transaction already holds the database write lock.
            # A plain statement: every write of the platform reads it (issue 7).
            cursor.execute(_last_hash_sql())
            row = cursor.fetchone()
        prev = (row[0] if row else None) or GENESIS
        for entry in entries:
            entry.prev_hash = prev
            entry.hash = prev = entry.compute_hash()
        if len(entries) == 1:
            insert_one(entries[0])
        else:
            insert_many(AuditEntry, entries)
    return entries


# audit.0004: lock, last hash and insert in one call; the fields in the order it takes them
_APPEND_ONE_FIELDS = (
    "at", "actor", "actor_repr", "role", "action", "object_type", "object_id", "summary", "ip",
)  # fmt: skip
_APPEND_ONE_SQL = (
    "SELECT new_id, new_prev_hash, new_hash FROM audit_append_one(%s::bigint, %s::text, "
    "%s::timestamptz, %s::bigint, %s::varchar, %s::varchar, %s::varchar, %s::varchar, "
    "%s::varchar, %s::jsonb, %s::inet)"
)


def _append_one_postgresql(entry: AuditEntry) -> AuditEntry:
    """One row on PostgreSQL: the payload and the values are made ready before the chain
    lock is taken, and the database function does the rest in one round trip (issue 7,
    see the migration). The row is the one ``_append`` would store: same link, same hash."""
    payload = entry.payload()
    db = default_connection()
    fields = [AuditEntry._meta.get_field(name) for name in _APPEND_ONE_FIELDS]
    params = [f.get_db_prep_save(getattr(entry, f.attname), db) for f in fields]

    def stored(row):
        entry.pk, entry.prev_hash, entry.hash = row
        entry._state.adding, entry._state.db = False, db.alias

    with transaction.atomic(savepoint=False):
        # inside ``rencai.bulk.combined`` (a submission): with the block's other writes
        returning(_APPEND_ONE_SQL, [_CHAIN_LOCK, payload, *params], stored)
    return entry


@functools.cache
def _last_hash_sql() -> str:
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    column = connection.ops.quote_name(AuditEntry._meta.get_field("hash").column)
    return f"SELECT {column} FROM {table} ORDER BY id DESC LIMIT 1"  # noqa: S608 (model names)


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
    """Walk the chain in id order and name the first row whose hash or link is wrong.
    After a purge (``audit_purge``) the chain starts at the first row kept: its link must
    be the last purged hash that a later ``audit.purge`` row of the chain itself records."""
    prev = GENESIS
    checked = 0
    last_id = 0
    first = AuditEntry.objects.order_by("id").values("id", "prev_hash").first()
    if first is not None and first["prev_hash"] != GENESIS:
        for summary in AuditEntry.objects.filter(action=PURGE_ACTION).values_list(
            "summary", flat=True
        ):
            if summary.get("last_purged_hash") == first["prev_hash"]:
                prev = first["prev_hash"]
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


# --- Retention and off-site shipping (issue 8, part 7) -------------------------------------

PURGE_ACTION = "audit.purge"
EXPORT_FIELDS = (
    "id",
    "at",
    "actor",
    "actor_repr",
    "role",
    "action",
    "object_type",
    "object_id",
    "summary",
    "ip",
    "prev_hash",
    "hash",
)


def _export_row(row: AuditEntry) -> dict:
    return {
        "id": row.id,
        "at": row.at.isoformat(timespec="microseconds"),
        "actor": row.actor_id,
        "actor_repr": row.actor_repr,
        "role": row.role,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "summary": row.summary,
        "ip": row.ip,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def _row_from_export(data: dict) -> AuditEntry:
    return AuditEntry(
        id=data["id"],
        at=datetime.datetime.fromisoformat(data["at"]),
        actor_id=data["actor"],
        actor_repr=data["actor_repr"],
        role=data["role"],
        action=data["action"],
        object_type=data["object_type"],
        object_id=data["object_id"],
        summary=data["summary"],
        ip=data["ip"],
        prev_hash=data["prev_hash"],
        hash=data["hash"],
    )


def audit_export(out, *, after_id: int = 0, chunk: int = 2000) -> dict:
    """Write the chain from row ``after_id + 1`` on to ``out`` (text), one JSON object per
    line in id order with its hashes, then a manifest line. The file can be shipped
    off-site and checked there with ``verify_audit_chain --file`` (no database needed)."""
    count, first_id, last_id, last_hash = 0, None, after_id, None
    while True:
        rows = list(AuditEntry.objects.filter(id__gt=last_id).order_by("id")[:chunk])
        if not rows:
            break
        for row in rows:
            out.write(json.dumps(_export_row(row), ensure_ascii=False, sort_keys=True) + "\n")
            first_id = first_id or row.id
            last_id, last_hash = row.id, row.hash
            count += 1
    manifest = {
        "rows": count,
        "first_id": first_id,
        "last_id": last_id if count else None,
        "last_hash": last_hash,
        "exported_at": timezone.now().isoformat(timespec="seconds"),
    }
    out.write(json.dumps({"manifest": manifest}, sort_keys=True) + "\n")
    return manifest


@dataclass
class FileReport:
    rows: dict[int, str]  # id → hash of every row in the file
    first_prev_hash: str | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def audit_verify_file(lines) -> FileReport:
    """Check an exported file on its own: each row's hash covers its content and its link
    to the row before it; the manifest's count and last hash match the rows."""
    rows: dict[int, str] = {}
    prev = first_prev = manifest = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError:
            return FileReport(rows, first_prev, f"line {number} is not JSON")
        if "manifest" in data:
            manifest = data["manifest"]
            continue
        if manifest is not None:
            return FileReport(rows, first_prev, f"line {number} comes after the manifest")
        try:
            row = _row_from_export(data)
        except (KeyError, TypeError, ValueError):
            return FileReport(rows, first_prev, f"line {number} is not an audit row")
        if prev is None:
            first_prev = row.prev_hash
        elif row.prev_hash != prev:
            return FileReport(rows, first_prev, f"row {row.id}: link to the previous row broken")
        if row.compute_hash() != row.hash:
            return FileReport(rows, first_prev, f"row {row.id}: content does not match its hash")
        rows[row.id] = prev = row.hash
    if manifest is None:
        return FileReport(rows, first_prev, "no manifest line: the file is incomplete")
    if manifest.get("rows") != len(rows) or manifest.get("last_hash") != prev:
        return FileReport(rows, first_prev, "the manifest does not match the rows")
    return FileReport(rows, first_prev)


def audit_purge(*, archive_lines, retention_days: int, actor=None) -> dict:
    """Delete the rows older than the retention period, but only those an exported
    archive holds unchanged (same ids, same hashes). The chain then starts at the first
    row kept; an ``audit.purge`` row records the last purged hash so that the verifier
    accepts that start and nothing else. One transaction."""
    from django.conf import settings

    minimum = int(getattr(settings, "RENCAI_AUDIT_RETENTION_MINIMUM_DAYS", 180))
    if retention_days < minimum:
        raise ValueError(f"retention {retention_days} days is below the minimum {minimum}")
    archive = audit_verify_file(archive_lines)
    if not archive.ok:
        raise ValueError(f"the archive does not verify: {archive.error}")
    cutoff = timezone.now() - datetime.timedelta(days=retention_days)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        kept = AuditEntry.objects.filter(at__gte=cutoff).order_by("id").values("id").first()
        old = AuditEntry.objects.filter(at__lt=cutoff)
        if kept is not None:
            old = old.filter(id__lt=kept["id"])
        doomed = dict(old.values_list("id", "hash"))
        if not doomed:
            return {"rows": 0}
        missing = [i for i, h in doomed.items() if archive.rows.get(i) != h]
        if missing:
            raise ValueError(
                f"{len(missing)} rows to purge are not in the archive as stored "
                f"(first: {min(missing)}); export again before purging"
            )
        through = max(doomed)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # The append-only trigger lets a DELETE through only with this flag on,
                # for this transaction only (migration 0003).
                cursor.execute("SET LOCAL rencai.audit_purge = 'on'")
            cursor.execute("DELETE FROM audit_auditentry WHERE id <= %s", [through])
        audit_record(
            action=PURGE_ACTION,
            actor=actor,
            object_type="audit.auditentry",
            object_id=str(through),
            extra={
                "rows": len(doomed),
                "purged_through_id": through,
                "last_purged_hash": doomed[through],
                "retention_days": retention_days,
            },
        )
    return {"rows": len(doomed), "through_id": through}
