"""Queries over tenant tables: JsonLogic conditions translated to SQL."""

from builder.runtime.query.jsonlogic_sql import ColumnRef, to_sql

__all__ = ["ColumnRef", "to_sql"]
