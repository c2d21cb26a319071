"""Autonumber codes such as ``KH-2026-00001``: one counter row per field and period.

The counter lives in the tenant's ``counters`` table and is advanced by a single atomic
``UPDATE ... SET value = value + 1 ... RETURNING value`` inside the record's transaction,
so concurrent creates on any number of processes never share a code: the row lock (or
SQLite's writer lock) holds the next caller until the first one commits or rolls back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from builder.extensions import db
from builder.runtime.storage.tables import EntityStore
from builder.runtime.storage.tenancy import system_tables
from builder.schema.field_types.computed import code_period, render_code

DEFAULT_TEMPLATE = "{seq:5}"


def counter_name(store: EntityStore, field_key: str, period: str) -> str:
    name = f"{store.app_key}.{store.key}.{field_key}.{period}"
    if len(name) > 200:
        digest = hashlib.sha256(name.encode()).hexdigest()[:16]
        name = f"{name[:150]}~{digest}"
    return name


def next_value(tenant_id: int, name: str) -> int:
    """Advance the named counter by one and return the new value (first value: 1)."""
    dialect = db.session.get_bind().dialect.name
    counters = system_tables(tenant_id, dialect)[1]
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(counters).values(name=name, value=0)
                       .on_conflict_do_nothing(index_elements=["name"]))
    value = db.session.execute(
        sa.update(counters).where(counters.c.name == name)
        .values(value=counters.c.value + 1).returning(counters.c.value)).scalar_one()
    return int(value)


def next_code(store: EntityStore, field: Mapping[str, Any], moment: datetime) -> str:
    """The next code of an autonumber field, e.g. ``KH-2026-00042``."""
    template = str(field.get("template") or DEFAULT_TEMPLATE)
    name = counter_name(store, str(field["key"]), code_period(template, moment))
    return render_code(template, moment, next_value(store.tenant_id, name))
