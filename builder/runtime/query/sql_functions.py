"""SQL functions the JsonLogic translator needs, compiled per dialect.

Substring tests, JSON array length and strict membership in a JSON array stored as text,
written once for SQLite and once for PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class contains(FunctionElement[bool]):
    """Case-sensitive substring test: (haystack, needle, LIKE pattern of the needle)."""

    type = sa.Boolean()
    inherit_cache = True
    name = "jl_contains"


@compiles(contains)
def _contains_default(element: contains, compiler: Any, **kw: Any) -> str:
    haystack, needle, _ = list(element.clauses)
    return f"(strpos({compiler.process(haystack, **kw)}, {compiler.process(needle, **kw)}) > 0)"


@compiles(contains, "postgresql")
def _contains_postgresql(element: contains, compiler: Any, **kw: Any) -> str:
    haystack, _, pattern = list(element.clauses)
    if isinstance(pattern, sa.Null):
        return _contains_default(element, compiler, **kw)
    like = f"{compiler.process(haystack, **kw)} LIKE {compiler.process(pattern, **kw)}"
    return f"({like} ESCAPE '\\')"


@compiles(contains, "sqlite")
def _contains_sqlite(element: contains, compiler: Any, **kw: Any) -> str:
    haystack, needle, _ = list(element.clauses)
    return f"(instr({compiler.process(haystack, **kw)}, {compiler.process(needle, **kw)}) > 0)"


class json_array_length(FunctionElement[int]):
    type = sa.Integer()
    inherit_cache = True
    name = "jl_json_array_length"


@compiles(json_array_length)
def _json_array_length_default(element: json_array_length, compiler: Any, **kw: Any) -> str:
    # an empty JSON column holds the scalar ``null``, whose length PostgreSQL refuses to take
    value = f"CAST({compiler.process(element.clauses, **kw)} AS json)"
    return (f"(CASE WHEN json_typeof({value}) = 'array' "
            f"THEN json_array_length({value}) ELSE 0 END)")


@compiles(json_array_length, "sqlite")
def _json_array_length_sqlite(element: json_array_length, compiler: Any, **kw: Any) -> str:
    return f"json_array_length({compiler.process(element.clauses, **kw)})"


class json_has(FunctionElement[bool]):
    """Strict membership of a scalar in a JSON array stored as text.

    Clauses: the array, the value, SQLite's ``json_each`` types that may match it (as
    ``,text,``) and the value as a one-item JSON array (for PostgreSQL's ``@>``).
    """

    type = sa.Boolean()
    inherit_cache = True
    name = "jl_json_has"


SQLITE_JSON_TYPES = {"string": ",text,", "number": ",integer,real,", "null": ",null,"}


@compiles(json_has)
def _json_has_default(element: json_has, compiler: Any, **kw: Any) -> str:
    array, _, _, as_json = list(element.clauses)
    return (
        f"(CAST({compiler.process(array, **kw)} AS jsonb) @> "
        f"CAST({compiler.process(as_json, **kw)} AS jsonb))"
    )


@compiles(json_has, "sqlite")
def _json_has_sqlite(element: json_has, compiler: Any, **kw: Any) -> str:
    array, value, types, _ = list(element.clauses)
    return (
        f"EXISTS (SELECT 1 FROM json_each({compiler.process(array, **kw)}) AS je"
        f" WHERE instr({compiler.process(types, **kw)}, ',' || je.type || ',') > 0"
        f" AND (je.type IN ('true', 'false', 'null')"
        f" OR je.value = {compiler.process(value, **kw)}))"
    )
