"""List queries over an entity's table: filter, sort, keyset pages, field subsets, search.

- ``filter`` is JsonLogic, translated to SQL by ``jsonlogic_sql.to_sql`` against the live
  fields and the system fields; deleted records are left out unless ``deleted`` is
  ``only`` or ``include``.
- ``sort`` is ``"-score,name"`` over any column (fields with a scalar value and system
  fields), always ending with ``id`` so that the order is total. NULLs sort last in both
  directions, on SQLite and PostgreSQL alike (``NULLS LAST``).
- Pages are keyset pages: the cursor is an opaque token holding the last row's sort values
  and id, so a page costs one indexed query however deep it is, and rows inserted or
  deleted meanwhile do not shift what comes next.
- ``q`` searches the searchable text columns (``ILIKE`` on PostgreSQL, ``LIKE`` on SQLite,
  with ``%``, ``_`` and ``\\`` escaped).
- ``total`` is counted only on request: one more query.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from builder.errors import BadRequest, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.query.jsonlogic_sql import ColumnRef, to_sql
from builder.runtime.rules.evaluator import RuleError
from builder.runtime.storage.tables import EntityStore
from builder.schema.field_types import field_type_registry, kind_of

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
DEFAULT_SORT = "-id"
DELETED_MODES = ("exclude", "only", "include")
SYSTEM_KINDS = {"id": "id", "created_at": "datetime", "created_by": "id",
                "updated_at": "datetime", "updated_by": "id", "owner": "id",
                "version": "number", "deleted": "boolean", "parent_id": "id"}
UNSORTABLE_KINDS = ("list", "json")


@dataclass
class ListQuery:
    """What a list request asks for; ``filter`` is parsed JsonLogic, ``fields`` field keys."""

    filter: Any = None
    sort: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    fields: list[str] | None = None
    q: str | None = None
    deleted: str = "exclude"
    count: bool = False


@dataclass
class Page:
    rows: Sequence[Mapping[Any, Any]]
    next_cursor: str | None
    total: int | None = None


def _invalid(path: str, key: str, **params: Any) -> ValidationFailed:
    message = gettext(key, **params)
    return ValidationFailed(message, [Problem(path, message, key.rsplit(".", 1)[-1])])


def column_ref(store: EntityStore, name: str) -> ColumnRef | None:
    """The column and value kind of a field key or system field, for filters and sorts."""
    if name in SYSTEM_KINDS:
        return ColumnRef(store.table.c[name], SYSTEM_KINDS[name])
    column = store.columns.get(name)
    if column is None:
        return None
    return ColumnRef(column, kind_of(dict(store.fields[name])))


def parse_sort(store: EntityStore, sort: str | None) -> list[tuple[str, bool]]:
    """``"-score,name"`` → ``[("score", True), ("name", False), ("id", False)]``."""
    keys: list[tuple[str, bool]] = []
    for raw in (sort or DEFAULT_SORT).split(","):
        token = raw.strip()
        if not token:
            continue
        desc = token.startswith("-")
        name = token.lstrip("+-").strip()
        ref = column_ref(store, name)
        if ref is None or ref.kind in UNSORTABLE_KINDS:
            raise _invalid("sort", "records.error.bad_sort", field=name)
        if name not in (k for k, _ in keys):
            keys.append((name, desc))
    names = [k for k, _ in keys]
    if "id" in names:
        return keys[: names.index("id") + 1]  # id is unique: later keys never decide
    return [*keys, ("id", False)]


# -- cursors -------------------------------------------------------------------------------


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"dt"}:
            return datetime.fromisoformat(value["dt"])
        if set(value) == {"d"}:
            return date.fromisoformat(value["d"])
        if set(value) == {"n"}:
            return Decimal(value["n"])
        raise ValueError("bad cursor value")
    if isinstance(value, list):
        raise ValueError("bad cursor value")
    return value


def encode_cursor(sort: Sequence[tuple[str, bool]], row: Mapping[Any, Any],
                  names: Mapping[str, str]) -> str:
    payload = {"s": [f"{'-' if d else ''}{k}" for k, d in sort],
               "v": [_encode_value(row[names[k]]) for k, _ in sort]}
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sequence[tuple[str, bool]]) -> list[Any]:
    """The last row's sort values; ``BadRequest`` (path ``cursor``) for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
        expected = [f"{'-' if d else ''}{k}" for k, d in sort]
        if not isinstance(payload, dict) or payload.get("s") != expected:
            raise ValueError("cursor of another sort")
        values = payload.get("v")
        if not isinstance(values, list) or len(values) != len(sort):
            raise ValueError("bad cursor values")
        decoded = [_decode_value(v) for v in values]
        if not isinstance(decoded[-1], int) or isinstance(decoded[-1], bool):
            raise ValueError("bad cursor id")
        return decoded
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, OverflowError):
        message = gettext("records.error.bad_cursor")
        raise BadRequest(message, [Problem("cursor", message, "bad_cursor")]) from None


def after_row(columns: Sequence[tuple[ColumnElement[Any], bool]],
              values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in ``ORDER BY col [DESC] NULLS LAST, ...``."""
    alternatives = []
    for index, (column, desc) in enumerate(columns):
        value = values[index]
        if value is None:
            continue  # nothing sorts after NULL in this column: NULLs come last
        same = [c.is_(None) if v is None else c == v
                for (c, _), v in zip(columns[:index], values[:index], strict=True)]
        beyond = column < value if desc else column > value
        alternatives.append(sa.and_(*same, sa.or_(beyond, column.is_(None))))
    return sa.or_(*alternatives) if alternatives else sa.false()


# -- the query -----------------------------------------------------------------------------


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def conditions(store: EntityStore, query: ListQuery, context: Mapping[Any, Any],
               scope: ColumnElement[bool] | None = None) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a list, without the page's cursor. ``scope`` (the rows the
    user may see) is ANDed with everything else, so no filter reaches beyond it."""
    table = store.table
    where: list[ColumnElement[bool]] = [] if scope is None else [scope]
    if query.deleted not in DELETED_MODES:
        raise _invalid("deleted", "records.error.bad_deleted", modes=", ".join(DELETED_MODES))
    if query.deleted == "exclude":
        where.append(table.c.deleted == sa.false())
    elif query.deleted == "only":
        where.append(table.c.deleted == sa.true())
    if query.filter is not None:
        try:
            where.append(to_sql(query.filter, lambda name: column_ref(store, name), context))
        except RuleError as exc:
            details = [Problem(f"filter.{p.path}" if p.path else "filter", p.message, p.code)
                       for p in exc.details] or [Problem("filter", exc.message, "rule")]
            raise ValidationFailed(gettext("records.error.bad_filter"), details) from None
    if query.q:
        pattern = f"%{_escape_like(query.q.strip())}%"
        searchable = [column.ilike(pattern, escape="\\") for key, column in store.columns.items()
                      if field_type_registry.get(store.fields[key]["type"]).searchable]
        where.append(sa.or_(*searchable) if searchable else sa.false())
    return where


def list_rows(store: EntityStore, query: ListQuery, context: Mapping[Any, Any],
              scope: ColumnElement[bool] | None = None) -> Page:
    """One page of rows (plus the total when ``query.count``): one query, two with count.
    ``scope`` limits the rows whatever the query asks (see ``conditions``)."""
    if not 1 <= query.limit <= MAX_LIMIT:
        raise _invalid("limit", "records.error.bad_limit", max=MAX_LIMIT)
    table = store.table
    if query.fields is not None:
        unknown = [f for f in query.fields if f not in store.fields]
        if unknown:
            raise _invalid("fields", "records.error.bad_fields", fields=", ".join(unknown))
    sort = parse_sort(store, query.sort)
    where = conditions(store, query, context, scope)
    sort_columns = [(column_ref(store, name).expr, desc)  # type: ignore[union-attr]
                    for name, desc in sort]
    names = {name: col.name for (name, _), (col, _) in zip(sort, sort_columns, strict=True)}
    selected: list[Any] = [c for c in table.c if c.name in SYSTEM_KINDS]
    for key, column in store.columns.items():
        if query.fields is None or key in query.fields or key in names:
            selected.append(column)
    statement = sa.select(*selected)
    if where:
        statement = statement.where(*where)
    if query.cursor:
        statement = statement.where(after_row(sort_columns, decode_cursor(query.cursor, sort)))
    order = [(c.desc() if d else c.asc()).nulls_last() for c, d in sort_columns]
    statement = statement.order_by(*order).limit(query.limit + 1)
    found = list(db.session.execute(statement).mappings())
    next_cursor = None
    if len(found) > query.limit:
        found = found[: query.limit]
        next_cursor = encode_cursor(sort, found[-1], names)
    total = None
    if query.count:
        count = sa.select(sa.func.count()).select_from(table)
        if where:
            count = count.where(*where)
        total = int(db.session.execute(count).scalar_one())
    return Page(found, next_cursor, total)
