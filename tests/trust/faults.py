"""Fault injection for the trust proofs: end the database connection under a running
operation, and read the whole database to compare before and after.

``lose_connection(at, nth, after)`` ends the connection of this thread at a chosen
statement: the ``nth`` statement matching a regular expression, or the ``nth``
``COMMIT``, counted once a statement matching ``after`` ran (when given). On
PostgreSQL a second connection ends the backend with ``pg_terminate_backend`` (as a
crashed server process or a cut network would); on SQLite the connection is closed under
SQLAlchemy's feet. Either way the statement then fails as on a lost connection.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from builder.extensions import db

COMMIT = "COMMIT"


@dataclass
class Fault:
    """Where to cut: the ``nth`` statement matching ``pattern`` (or ``COMMIT``) once a
    statement matching ``after`` ran."""

    pattern: str
    nth: int = 1
    after: str | None = None
    seen: int = 0
    fired_at: str | None = None
    thread: int = field(default_factory=threading.get_ident)

    @property
    def fired(self) -> bool:
        return self.fired_at is not None

    def matches(self, statement: str) -> bool:
        if self.fired or threading.get_ident() != self.thread:
            return False
        if self.after is not None:
            if re.search(self.after, statement, re.IGNORECASE):
                self.after = None
            return False
        if not re.search(self.pattern, statement, re.IGNORECASE):
            return False
        self.seen += 1
        return self.seen == self.nth


def _terminate(engine: Engine, dbapi_connection: Any) -> None:
    if engine.dialect.name == "sqlite":
        dbapi_connection.close()
        return
    pid = dbapi_connection.info.backend_pid
    killer = sa.create_engine(engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with killer.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
                                ).scalar(), f"backend {pid} not found"
            for _ in range(200):  # the backend is gone once pg_stat_activity forgets it
                if conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity "
                                        "WHERE pid = :pid"), {"pid": pid}).scalar() == 0:
                    break
                time.sleep(0.05)
    finally:
        killer.dispose()


@contextmanager
def lose_connection(at: str, nth: int = 1, after: str | None = None) -> Iterator[Fault]:
    """End this thread's database connection at the ``nth`` statement matching ``at`` (a
    regular expression, or ``COMMIT`` for the ``nth`` commit) counted once a statement
    matching ``after`` ran, while the block runs."""
    engine = db.engine
    fault = Fault(at, nth, after)

    def before_statement(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if at == COMMIT:
            if fault.after is not None:
                fault.matches(statement)  # arms the fault
        elif fault.matches(statement):
            fault.fired_at = statement[:200]
            _terminate(engine, conn.connection.dbapi_connection)

    def before_commit(conn: Any) -> None:
        if at == COMMIT and fault.matches(COMMIT):
            fault.fired_at = COMMIT
            _terminate(engine, conn.connection.dbapi_connection)

    event.listen(engine, "before_cursor_execute", before_statement)
    event.listen(engine, "commit", before_commit)
    try:
        yield fault
    finally:
        event.remove(engine, "before_cursor_execute", before_statement)
        event.remove(engine, "commit", before_commit)


def _ours(column: str) -> str:
    """SQL: the schema in ``column`` is the platform's or a tenant's."""
    return f"({column} = 'public' OR {column} LIKE 'tenant\\_%')"


def _key(schema: str | None, table: str) -> str:
    return f"{'' if schema in (None, 'public') else schema}.{table}"


def _structure(conn: Any) -> tuple[list[tuple[str | None, str]], dict[str, list[Any]]]:
    """The tables (schema, name) and, per table, its columns and indexes as the catalogue
    describes them (one query each, not per table: this runs often)."""
    structure: dict[str, list[Any]] = {}
    if conn.dialect.name == "sqlite":
        names: list[tuple[str | None, str]] = []
        for kind, name, table, sql in conn.execute(sa.text(
                "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")):
            if kind == "table" and not name.startswith("sqlite_"):
                names.append((None, name))
            structure.setdefault(f".{table}", []).append((kind, name, sql))
        return names, structure
    names = [tuple(row) for row in conn.execute(sa.text(  # type: ignore[misc]
        "SELECT table_schema AS s, table_name FROM information_schema.tables "
        f"WHERE table_type = 'BASE TABLE' AND {_ours('table_schema')} "
        "ORDER BY 1, 2"))]
    for schema, table, *column in conn.execute(sa.text(
            "SELECT table_schema, table_name, column_name, data_type, is_nullable, "
            "column_default FROM information_schema.columns "
            f"WHERE {_ours('table_schema')} ORDER BY 1, 2, ordinal_position")):
        structure.setdefault(_key(schema, table), []).append(("column", *column))
    for schema, table, name, definition in conn.execute(sa.text(
            "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes "
            f"WHERE {_ours('schemaname')} ORDER BY 1, 2, 3")):
        structure.setdefault(_key(schema, table), []).append(("index", name, definition))
    return [(None if s == "public" else s, n) for s, n in names], structure


def database_state(*, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every table of the database (platform and tenants'): its columns, indexes and rows.
    Tables named in ``skip`` are left out (runs an operation is expected to change)."""
    db.session.commit()
    conn = db.session.connection()
    names, structure = _structure(conn)
    quote = conn.dialect.identifier_preparer.quote
    state: dict[str, Any] = {}
    for schema, name in names:
        if name in skip or name == "alembic_version":
            continue
        where = f"{quote(schema)}.{quote(name)}" if schema else quote(name)
        key = _key(schema, name)
        state[key] = {"structure": structure.get(key, []), "rows": sorted(
            tuple(map(repr, row)) for row in conn.execute(sa.text(f"SELECT * FROM {where}")))}
    db.session.commit()
    return state


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed between two ``database_state`` readings, table by table."""
    changed = [f"new table {name}" for name in sorted(set(after) - set(before))]
    changed += [f"table dropped {name}" for name in sorted(set(before) - set(after))]
    for name in sorted(set(before) & set(after)):
        for part in ("structure", "rows"):
            if before[name][part] != after[name][part]:
                changed.append(f"{name}: {part} changed")
    return changed
