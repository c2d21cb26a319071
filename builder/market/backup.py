"""Backup and restore of a whole tenant: configuration and data, exactly as stored.

Where an export (``builder.market.transfer``) moves apps between tenants and maps what
differs (users by name, records to new ids), a backup keeps everything with its ids so
that a restore brings the tenant back as it was: the tenant, its users (with their
password hashes), roles, teams, API tokens, apps and every version of their definitions,
storage metadata, market installs, process state (stage histories, approval instances,
tasks and actions, timers, clocks, runs) and, from the tenant's namespace, every entity
table, the audit trail, the counters, the file list, plus the files' bytes.

The shared tables are found from the model metadata: rows with the tenant's
``tenant_id``, and rows of tables without one that point at those (``user_roles``,
``field_columns``, ``app_versions``...), so a table added later is backed up without
changes here. Entity tables are rebuilt in the target from the restored storage
metadata, so a backup taken on SQLite restores on PostgreSQL and back.

A restore needs the tenant's ids free in the target: it is meant for a fresh (or a
different) database, e.g. after losing a server; ``--as`` gives the tenant another
slug. To copy a tenant inside one database use ``builder tenant clone``. A restore works
in one transaction: it lands whole or not at all.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from builder.database import utcnow
from builder.errors import Conflict, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.platform.models import Tenant
from builder.runtime.records.files import files_root
from builder.runtime.storage.models import EntityTable, FieldColumn
from builder.runtime.storage.schema_editor import create_tenant_tables
from builder.runtime.storage.tables import build_table
from builder.runtime.storage.tenancy import create_namespace, system_tables

FORMAT = "builder-tenant-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000
Progress = Callable[[int, int, str], None]


def _quiet(_done: int, _total: int, _message: str) -> None:
    pass


# -- which rows belong to the tenant ----------------------------------------------------------


def shared_selection(tenant_id: int) -> dict[str, sa.Select[Any]]:
    """For each shared table holding rows of the tenant, the query of those rows, in an
    order where every table comes after the tables it refers to."""
    wheres: dict[str, Any] = {}
    selects: dict[str, sa.Select[Any]] = {}
    for table in db.metadata.sorted_tables:
        if table.schema is not None:
            continue
        if table.name == "tenants":
            where = table.c.id == tenant_id
        elif "tenant_id" in table.c:
            where = table.c.tenant_id == tenant_id
        else:
            links = [fk.parent.in_(sa.select(fk.column).where(wheres[fk.column.table.name]))
                     for fk in table.foreign_keys
                     if fk.column.table.name in wheres and fk.column.table is not table]
            if not links:
                continue  # a table of the installation, not of a tenant
            where = sa.or_(*links)
        wheres[table.name] = where
        order = list(table.primary_key.columns) or list(table.c)
        selects[table.name] = sa.select(table).where(where).order_by(*order)
    return selects


def namespace_tables(tenant_id: int, dialect: str) -> dict[str, sa.Table]:
    """The tenant's own tables by local name: the system tables and every entity table."""
    audit, counters, files = system_tables(tenant_id, dialect)
    found = {"audit": audit, "counters": counters, "files": files}
    for entity_table in db.session.scalars(sa.select(EntityTable).where(
            EntityTable.tenant_id == tenant_id).order_by(EntityTable.id)):
        columns = list(db.session.scalars(sa.select(FieldColumn).where(
            FieldColumn.entity_table_id == entity_table.id).order_by(FieldColumn.id)))
        found[entity_table.local_name] = build_table(tenant_id, entity_table, columns, dialect)
    return found


# -- values -----------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _base_type(column: sa.Column[Any]) -> Any:
    kind = column.type
    while isinstance(kind, sa.TypeDecorator):
        kind = kind.impl_instance
    return kind


def _decode(column: sa.Column[Any], value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value
    kind = _base_type(column)
    if isinstance(kind, sa.DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, sa.Date):
        return date.fromisoformat(value)
    if isinstance(kind, sa.Time):
        return time.fromisoformat(value)
    if isinstance(kind, sa.Numeric) and kind.asdecimal and not isinstance(kind, sa.Float):
        return Decimal(value)
    if isinstance(kind, sa.LargeBinary):
        return base64.b64decode(value)
    return value


def dump_rows(select: sa.Select[Any]) -> list[dict[str, Any]]:
    return [{key: _encode(value) for key, value in row.items()}
            for row in db.session.execute(select).mappings()]


def table_rows(table: sa.Table) -> list[dict[str, Any]]:
    order = list(table.primary_key.columns) or list(table.c)
    return dump_rows(sa.select(table).order_by(*order))


# -- backup -----------------------------------------------------------------------------------


def backup(tenant: Tenant, progress: Progress = _quiet) -> bytes:
    """The whole tenant as a zip: ``manifest.json``, ``shared/<table>.json``,
    ``tenant/<table>.json`` and ``files/<path>``."""
    dialect = db.session.get_bind().dialect.name
    shared = shared_selection(tenant.id)
    own = namespace_tables(tenant.id, dialect)
    total = len(shared) + len(own) + 1
    done = 0
    counts: dict[str, int] = {}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, select in shared.items():
            rows = dump_rows(select)
            archive.writestr(f"shared/{name}.json", _json(rows))
            counts[f"shared/{name}"] = len(rows)
            done += 1
            progress(done, total, gettext("market.backup.progress", table=name, count=len(rows)))
        file_paths: list[str] = []
        for local, table in own.items():
            rows = table_rows(table)
            archive.writestr(f"tenant/{local}.json", _json(rows))
            counts[f"tenant/{local}"] = len(rows)
            if local == "files":
                file_paths = [row["path"] for row in rows]
            done += 1
            progress(done, total, gettext("market.backup.progress", table=local, count=len(rows)))
        root = files_root()
        for relative in file_paths:
            path = root / relative
            if path.is_file():
                archive.write(path, f"files/{relative}")
        done += 1
        progress(done, total, gettext("market.backup.progress_files", count=len(file_paths)))
        archive.writestr(MANIFEST, _json({
            "format": FORMAT, "version": FORMAT_VERSION, "tenant": tenant.slug,
            "tenant_id": tenant.id, "dialect": dialect, "at": utcnow().isoformat(),
            "shared": list(shared), "tenant_tables": list(own), "counts": counts}))
    return buffer.getvalue()


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- restore ----------------------------------------------------------------------------------


def _invalid(key: str, **params: Any) -> ValidationFailed:
    message = gettext(key, **params)
    return ValidationFailed(message, [Problem("backup", message, "invalid_backup")])


def read_backup(content: bytes) -> tuple[zipfile.ZipFile, dict[str, Any]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        manifest = json.loads(archive.read(MANIFEST))
    except (zipfile.BadZipFile, KeyError, ValueError):
        raise _invalid("market.backup.invalid") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or manifest.get("version") != FORMAT_VERSION:
        raise _invalid("market.backup.invalid")
    return archive, manifest


def _insert(table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows keeping their ids; columns pointing at the same table are filled after
    every row is there, so the rows' order does not matter."""
    self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    known = set(table.c.keys())
    decoded = [{k: _decode(table.c[k], v) for k, v in row.items() if k in known} for row in rows]
    for start in range(0, len(decoded), BATCH):
        batch = [{**row, **dict.fromkeys(self_refs)} for row in decoded[start:start + BATCH]]
        db.session.execute(sa.insert(table), batch)
    if self_refs:
        key = table.c.id
        for row in decoded:
            values = {name: row.get(name) for name in self_refs if row.get(name) is not None}
            if values:
                db.session.execute(sa.update(table).where(key == row["id"]).values(**values))


def _reset_sequences(tables: list[sa.Table]) -> None:
    """PostgreSQL: the next generated id follows the restored ones."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        if "id" not in table.c or not table.c.id.primary_key \
                or not isinstance(_base_type(table.c.id), sa.Integer):
            continue
        qualified = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
        db.session.execute(sa.text(
            "SELECT setval(pg_get_serial_sequence(:name, 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {qualified}), 0) + 1, false)"
            ), {"name": qualified})


def restore(content: bytes, *, slug: str | None = None,
            progress: Progress = _quiet) -> Tenant:
    """Bring a backed-up tenant back (see the module doc), in the caller's transaction.
    Files are written to the file store; if the transaction fails they are removed."""
    archive, manifest = read_backup(content)
    tenant_id = int(manifest["tenant_id"])
    new_slug = slug or manifest["tenant"]
    if db.session.get(Tenant, tenant_id) is not None or db.session.scalar(
            sa.select(Tenant.id).where(Tenant.slug == new_slug)) is not None:
        raise Conflict(gettext("market.backup.taken", slug=new_slug, id=tenant_id),
                       [Problem("tenant", gettext("market.backup.taken", slug=new_slug,
                                                  id=tenant_id), "duplicate")])
    shared_tables = {t.name: t for t in db.metadata.sorted_tables if t.schema is None}
    names = [n for n in manifest["shared"] if n in shared_tables]
    local_names = list(manifest["tenant_tables"])
    total = len(names) + len(local_names) + 1
    done = 0
    inserted: list[sa.Table] = []
    for name in names:
        rows = json.loads(archive.read(f"shared/{name}.json"))
        if name == "tenants":
            rows = [{**row, "slug": new_slug} for row in rows]
        _insert(shared_tables[name], rows)
        inserted.append(shared_tables[name])
        done += 1
        progress(done, total, gettext("market.backup.progress", table=name, count=len(rows)))
    db.session.flush()
    create_namespace(tenant_id)
    create_tenant_tables(tenant_id)
    own = namespace_tables(tenant_id, db.session.get_bind().dialect.name)
    for local in local_names:
        rows = json.loads(archive.read(f"tenant/{local}.json"))
        if local not in own:
            raise _invalid("market.backup.invalid")
        _insert(own[local], rows)
        inserted.append(own[local])
        done += 1
        progress(done, total, gettext("market.backup.progress", table=local, count=len(rows)))
    _reset_sequences(inserted)
    written = _write_files(archive)
    _remove_on_rollback(written)
    progress(total, total, gettext("market.backup.progress_files", count=len(written)))
    return db.session.get_one(Tenant, tenant_id)


def _write_files(archive: zipfile.ZipFile) -> list[Path]:
    root = files_root().resolve()
    written: list[Path] = []
    for member in _members(archive, "files/"):
        target = (root / member[len("files/"):]).resolve()
        if root not in target.parents:
            raise _invalid("market.backup.invalid")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.write_bytes(archive.read(member))
            written.append(target)
    return written


def _members(archive: zipfile.ZipFile, prefix: str) -> Iterator[str]:
    return (name for name in archive.namelist() if name.startswith(prefix)
            and not name.endswith("/"))


def _remove_on_rollback(paths: list[Path]) -> None:
    if not paths:
        return

    @sa.event.listens_for(db.session(), "after_soft_rollback", once=True)
    def _remove(_session: Any, _previous: Any) -> None:
        for path in paths:
            path.unlink(missing_ok=True)


def compare(left: Mapping[str, list[dict[str, Any]]],
            right: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """Differences between two dumps (``snapshot``), one sentence each; empty when equal."""
    problems: list[str] = []
    for name in sorted(set(left) | set(right)):
        a, b = left.get(name, []), right.get(name, [])
        if len(a) != len(b):
            problems.append(f"{name}: {len(a)} rows against {len(b)}")
        for one, other in zip(a, b, strict=False):
            if one != other:
                problems.append(f"{name}: {one} != {other}")
    return problems


def snapshot(tenant_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tenant, table by table (what a backup holds), for comparisons."""
    dialect = db.session.get_bind().dialect.name
    found = {f"shared/{name}": dump_rows(select)
             for name, select in shared_selection(tenant_id).items()}
    for local, table in namespace_tables(tenant_id, dialect).items():
        found[f"tenant/{local}"] = table_rows(table)
    return found

