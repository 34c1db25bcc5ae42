"""Backup and restore (issue 8): every table of the database and every file of the file
store, in one directory with a manifest, on SQLite and on PostgreSQL alike.

A backup directory holds

- ``db/<app>.<model>.jsonl``: every row of the model's table, one JSON object per line, in
  primary-key order, the columns as stored (foreign keys by id, datetimes to the
  microsecond, JSON fields as they are). Many-to-many tables are tables of their own.
- ``files/``: a copy of the default storage's directory (materials, download-area files,
  housing pictures, templates).
- ``manifest.json``: the format, the database it came from, the migrations applied, and
  for each table its row count, a checksum of its rows (the same on SQLite and PostgreSQL)
  and the sha256 of its file; for each stored file its size and sha256.

Why not Django's dumpdata: its JSON cuts datetimes to the millisecond, which would break
the audit log's hash chain, and it loads one row at a time. Why not only pg_dump: it needs
a client of the server's major version beside the app, does not exist for SQLite, and
says nothing of the files; for a large PostgreSQL database pg_dump with a file-store sync
remains a good second copy (docs/operations.md).

The rows are read in one transaction (REPEATABLE READ on PostgreSQL, a read transaction
on SQLite), so the copy is consistent; the files are copied after the rows, so every file
a copied row names is there (stored files are only ever added, under new names).

A restore writes into a database migrated to the same migrations: it verifies every file
of the backup against the manifest, empties every table (the rows ``migrate`` made, such
as content types, are replaced by the backup's), loads the rows in one transaction with
the foreign keys checked at the end, resets the id sequences, copies the files, then reads
everything back and compares it with the manifest. The audit log's rows are inserted as
they were: its trigger refuses UPDATE and DELETE, not INSERT, and its hash chain verifies
as before."""

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.apps import apps
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management.color import no_style
from django.core.management.sql import sql_flush
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import ExpressionWrapper, F, Value
from django.utils import timezone

FORMAT = "rencai-backup-1"
BATCH = 1000


class BackupError(Exception):
    pass


def table_models() -> list[type[models.Model]]:
    """Every model with a table of its own, many-to-many tables included."""
    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy and not m._meta.swapped
    ]


def _label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.object_name}"


# --- rows ---------------------------------------------------------------------------------


def _stored_as_is(field) -> bool:
    """A field of the project's own that converts what it reads (``EncryptedCharField``):
    copied as stored, so a backup holds ciphertext, never the plain ID or phone numbers,
    and a restore writes back the very same bytes (and blind index)."""
    if not hasattr(field, "from_db_value") or type(field).__module__.startswith("django."):
        return False
    if field.get_internal_type() not in ("CharField", "TextField"):
        raise BackupError(f"{field.model._meta.label}.{field.name}: cannot copy this field")
    return True


def _value(field, obj):
    value = field.value_from_object(obj)
    if value is None or isinstance(field, models.JSONField):
        return value
    if isinstance(value, bool | int | float | str) and not isinstance(field, models.FileField):
        return value
    return field.value_to_string(obj)  # datetimes to the microsecond, decimals, uuids, files


def _rows(model, using) -> Iterator[dict]:
    fields = model._meta.concrete_fields
    stored = {f.attname: f"backup_stored_{f.attname}" for f in fields if _stored_as_is(f)}
    rows = model._base_manager.using(using).order_by("pk")
    if stored:  # the column itself, without the field's conversion (no decryption)
        rows = rows.defer(*stored).annotate(
            **{
                alias: ExpressionWrapper(F(attname), output_field=models.TextField())
                for attname, alias in stored.items()
            }
        )
    for obj in rows.iterator(chunk_size=2000):
        yield {
            f.attname: getattr(obj, stored[f.attname]) if f.attname in stored else _value(f, obj)
            for f in fields
        }


def _line(row: dict) -> str:
    # JSON values keep their key order: on SQLite the stored text comes back the same
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def _canonical(row: dict) -> bytes:
    # keys sorted: PostgreSQL's jsonb keeps its own order, so a row compares alike anywhere
    return json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class _Table:
    """Row count and checksum of a table's rows (the same on SQLite and PostgreSQL)."""

    def __init__(self):
        self.rows, self.digest = 0, hashlib.sha256()

    def add(self, row: dict) -> None:
        self.rows += 1
        self.digest.update(_canonical(row) + b"\n")

    def summary(self) -> dict:
        return {"rows": self.rows, "checksum": self.digest.hexdigest()}


def table_digests(using: str = DEFAULT_DB_ALIAS) -> dict[str, dict]:
    """Row count and checksum of the rows, per table: what a backup's manifest records, and
    what a restore compares with it."""
    out = {}
    with _snapshot(using):
        for model in table_models():
            table = _Table()
            for row in _rows(model, using):
                table.add(row)
            out[_label(model)] = table.summary()
    return out


@contextlib.contextmanager
def _snapshot(using):
    """One consistent view of every table while they are read."""
    connection = connections[using]
    if connection.in_atomic_block:  # already in a transaction (a test): read in it
        yield
        return
    if connection.vendor == "postgresql":
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    if connection.vendor == "sqlite":
        # BEGIN DEFERRED takes no write lock: with WAL, writers go on and we see a snapshot.
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
            try:
                yield
            finally:
                cursor.execute("COMMIT")
        return
    yield


def _parse(field, value):
    if value is None or isinstance(field, models.JSONField):
        return value
    if _stored_as_is(field):  # written as it is, past the field's own conversion
        return Value(value, output_field=models.TextField())
    return field.to_python(value)


# --- files --------------------------------------------------------------------------------


def media_root() -> Path | None:
    """The default storage's directory, or None when the storage is not a local directory
    (an object store is backed up with its own tools: docs/operations.md)."""
    if isinstance(default_storage, FileSystemStorage):
        return Path(default_storage.location)
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path.relative_to(root).as_posix(), path


def file_digests(root: Path | None = None) -> dict[str, dict] | None:
    root = root or media_root()
    if root is None:
        return None
    if not root.exists():
        return {}
    return {rel: {"size": p.stat().st_size, "sha256": _sha256(p)} for rel, p in _walk(root)}


# --- backup -------------------------------------------------------------------------------


def _applied(using) -> list[list[str]]:
    recorder = MigrationRecorder(connections[using])
    return sorted([app, name] for app, name in recorder.applied_migrations())


def backup(target: Path, *, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Write the database's rows and the file store into ``target`` (a new or empty
    directory). Returns the manifest."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new directory")
    (target / "db").mkdir(parents=True, exist_ok=True)
    connection = connections[using]
    tables = {}
    with _snapshot(using):
        for model in table_models():
            label = _label(model)
            table, path = _Table(), target / "db" / f"{label}.jsonl"
            with open(path, "w", encoding="utf-8") as fh:
                for row in _rows(model, using):
                    fh.write(_line(row) + "\n")
                    table.add(row)
            tables[label] = {**table.summary(), "sha256": _sha256(path)}
        migrations = _applied(using)
    root = media_root()
    files = None
    if root is not None:
        files = {}
        for rel, path in _walk(root) if root.exists() else ():
            copy = target / "files" / rel
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
            files[rel] = {"size": copy.stat().st_size, "sha256": _sha256(copy)}
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "database": connection.vendor,
        "migrations": migrations,
        "tables": tables,
        "files": files,
    }
    (target / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8"
    )
    return manifest


# --- restore ------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict:
    try:
        manifest = json.loads((Path(source) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source}: no readable manifest.json ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: not a backup of this format ({manifest.get('format')!r})")
    return manifest


def verify_backup(source: Path, manifest: dict) -> None:
    """Every table file and stored file of the backup is there, unchanged."""
    source = Path(source)
    problems = []
    for label, info in manifest["tables"].items():
        path = source / "db" / f"{label}.jsonl"
        if not path.exists():
            problems.append(f"missing db/{label}.jsonl")
        elif _sha256(path) != info["sha256"]:
            problems.append(f"db/{label}.jsonl differs from the manifest")
    for rel, info in (manifest["files"] or {}).items():
        path = source / "files" / rel
        if not path.is_file():
            problems.append(f"missing files/{rel}")
        elif path.stat().st_size != info["size"] or _sha256(path) != info["sha256"]:
            problems.append(f"files/{rel} differs from the manifest")
    if problems:
        raise BackupError("the backup is damaged: " + "; ".join(problems[:20]))


def _check_target(manifest: dict, using: str, replace: bool) -> None:
    here = {_label(m) for m in table_models()}
    missing = sorted(set(manifest["tables"]) - here)
    if missing:
        raise BackupError(f"this code has no table for {', '.join(missing)}")
    applied = _applied(using)
    if applied != manifest["migrations"]:
        theirs = {tuple(m) for m in manifest["migrations"]}
        ours = {tuple(m) for m in applied}
        only_backup = sorted(f"{a}.{n}" for a, n in theirs - ours)[:10]
        only_here = sorted(f"{a}.{n}" for a, n in ours - theirs)[:10]
        raise BackupError(
            "the database is not at the backup's migrations: restore with the code the backup "
            "was made with, after `manage.py migrate` (then migrate to the newer code). "
            f"Only in the backup: {only_backup or '-'}; only here: {only_here or '-'}"
        )
    user = apps.get_model("accounts", "User")
    if not replace and user._base_manager.using(using).exists():
        raise BackupError(
            "the database has accounts in it: restore into an empty (migrated) database, "
            "or give --replace to throw its content away"
        )
    root = media_root()
    if manifest["files"] is not None and root is None:
        raise BackupError("the backup has files but the file store here is not a directory")
    if not replace and root is not None and root.exists() and any(_walk(root)):
        raise BackupError(f"the file store {root} is not empty: give --replace to empty it")


def restore(source: Path, *, using: str = DEFAULT_DB_ALIAS, replace: bool = False) -> dict:
    """Replace the database's rows and the file store by the backup in ``source``. Returns
    the manifest; raises BackupError (nothing changed) when the backup is damaged or does
    not fit this database."""
    source = Path(source)
    manifest = read_manifest(source)
    verify_backup(source, manifest)
    _check_target(manifest, using, replace)
    connection = connections[using]
    chosen = [m for m in table_models() if _label(m) in manifest["tables"]]
    staging = _stage_files(source / "files", manifest["files"])
    try:
        with transaction.atomic(using=using):
            for sql in sql_flush(no_style(), connection, reset_sequences=False):
                with connection.cursor() as cursor:
                    cursor.execute(sql)
            for model in chosen:
                _load(model, source / "db" / f"{_label(model)}.jsonl", using)
            connection.check_constraints(table_names=[m._meta.db_table for m in chosen])
            for sql in connection.ops.sequence_reset_sql(no_style(), chosen):
                with connection.cursor() as cursor:
                    cursor.execute(sql)
            apps.get_model("contenttypes", "ContentType").objects.clear_cache()
            got = table_digests(using)
            wrong = [
                label
                for label, info in manifest["tables"].items()
                if got.get(label) != {"rows": info["rows"], "checksum": info["checksum"]}
            ]
            if wrong:
                raise BackupError(f"restored rows differ from the backup in {', '.join(wrong)}")
        if staging is not None:
            _swap_in(staging)
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging)
    return manifest


def _load(model, path: Path, using: str) -> None:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    batch = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            batch.append(model(**{k: _parse(fields[k], v) for k, v in row.items()}))
            if len(batch) >= BATCH:
                _insert(model, batch, using)
                batch = []
    if batch:
        _insert(model, batch, using)


def _insert(model, objs, using) -> None:
    """INSERT the rows as they are: raw, as loaddata saves, so that auto_now fields keep
    the backup's values (bulk_create would stamp them with the time of the restore)."""
    connection = connections[using]
    fields = model._meta.concrete_fields
    size = max(connection.ops.bulk_batch_size(fields, objs), 1)
    for start in range(0, len(objs), size):
        model._base_manager.using(using)._insert(
            objs[start : start + size], fields=fields, raw=True, using=using
        )


def _stage_files(source: Path, files: dict | None) -> Path | None:
    """The backup's files copied into a new directory beside the store and checked, before
    the database is touched; swapped in once the rows are in."""
    if files is None:
        return None
    root = media_root()
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-restore-", dir=root.parent))
    for rel in files:
        copy = staging / rel
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, copy)
    if file_digests(staging) != files:
        shutil.rmtree(staging)
        raise BackupError("the files copied from the backup differ from its manifest")
    return staging


def _swap_in(staging: Path) -> None:
    root = media_root()
    old = Path(tempfile.mkdtemp(prefix=f".{root.name}-before-restore-", dir=root.parent))
    try:
        if root.exists():
            root.rename(old / root.name)
        staging.rename(root)
    except OSError:  # the store is a mount point (or on another disk): replace its content
        root.mkdir(parents=True, exist_ok=True)
        for entry in root.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        shutil.copytree(staging, root, dirs_exist_ok=True)
    finally:
        shutil.rmtree(old)
