"""Three-way merge of app definitions: the installed package version (base), the tenant's
current definition (ours) and the new package version (theirs).

Everything is matched by stable keys, never by position: lists of keyed objects (entities,
fields, options, stages, steps, widgets...) merge item by item; lists of plain keys (view
columns, form section fields) merge as ordered sets; objects merge property by property.
A change made on one side only is taken. A value changed on both sides differently is a
**conflict**: the tenant's value is kept and the conflict is reported with its path
(``entities.customer.fields.level.title.en``). So are an item the tenant changed but the
package removed (kept) and an item the package changed but the tenant removed (left out).
JsonLogic rules and ``default`` values merge as whole values: half of each side's rule
would be neither side's rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from marshmallow import Schema, fields

from builder.i18n import gettext
from builder.schema.common import JsonLogic
from builder.schema.definition import AppSchema

_MISSING: Any = object()
#: conflict reasons
BOTH_CHANGED, REMOVED_THERE, REMOVED_HERE = "both_changed", "removed_by_package", \
    "removed_by_tenant"


@dataclass(frozen=True)
class Conflict:
    """A place where the tenant and the new package version disagree."""

    path: str
    reason: str
    base: Any
    ours: Any
    theirs: Any

    def as_dict(self, language: str | None = None) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason,
                "message": gettext(f"market.conflict.{self.reason}", language, path=self.path),
                "base": _shown(self.base), "ours": _shown(self.ours),
                "theirs": _shown(self.theirs)}


def _shown(value: Any) -> Any:
    return None if value is _MISSING else value


@cache
def atomic_properties() -> frozenset[str]:
    """Names of the definition's JsonLogic properties (and ``default``), found by walking
    the definition schemas, so a rule added to the format later merges whole too."""
    names = {"default"}
    seen: set[type] = set()

    def walk(schema: Schema | type[Schema]) -> None:
        cls = schema if isinstance(schema, type) else type(schema)
        if cls in seen:
            return
        seen.add(cls)
        instance = schema() if isinstance(schema, type) else schema
        for name, field in instance.fields.items():
            visit(name, field)

    def visit(name: str, field: fields.Field) -> None:
        if isinstance(field, JsonLogic):
            names.add(field.data_key or name)
        elif isinstance(field, fields.Nested):
            walk(field.nested)  # type: ignore[arg-type]
        elif isinstance(field, fields.List):
            visit(name, field.inner)

    walk(AppSchema)
    return frozenset(names)


def _keyed(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, Mapping) and isinstance(v.get("key"), str) for v in value)


def _key_set(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value) \
        and len(set(value)) == len(value)


class _Merger:
    def __init__(self) -> None:
        self.conflicts: list[Conflict] = []
        self.atomic = atomic_properties()

    def value(self, base: Any, ours: Any, theirs: Any, path: str, name: str) -> Any:
        if ours == theirs:
            return ours
        if ours == base:
            return theirs
        if theirs == base:
            return ours
        if name not in self.atomic:
            if all(isinstance(v, Mapping) or v is _MISSING for v in (base, ours, theirs)) \
                    and ours is not _MISSING and theirs is not _MISSING:
                return self.mapping({} if base is _MISSING else base, ours, theirs, path)
            lists = [v for v in (base, ours, theirs) if v is not _MISSING]
            if all(isinstance(v, list) for v in lists) and ours is not _MISSING \
                    and theirs is not _MISSING:
                base_list = [] if base is _MISSING else base
                if all(_keyed(v) or v == [] for v in lists) and any(_keyed(v) for v in lists):
                    return self.keyed(base_list, ours, theirs, path)
                if all(_key_set(v) for v in lists):
                    return _ordered_set(base_list, ours, theirs)
        reason = REMOVED_THERE if theirs is _MISSING else \
            REMOVED_HERE if ours is _MISSING else BOTH_CHANGED
        self.conflicts.append(Conflict(path, reason, base, ours, theirs))
        return ours

    def mapping(self, base: Mapping[str, Any], ours: Mapping[str, Any],
                theirs: Mapping[str, Any], path: str) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key in [*ours, *(k for k in theirs if k not in ours)]:
            merged = self.value(base.get(key, _MISSING), ours.get(key, _MISSING),
                                theirs.get(key, _MISSING), _join(path, key), key)
            if merged is not _MISSING:
                result[key] = merged
        return result

    def keyed(self, base: list[Any], ours: list[Any], theirs: list[Any],
              path: str) -> list[Any]:
        b, o, t = _by_key(base), _by_key(ours), _by_key(theirs)
        order = _merged_order(list(o), list(t), set(b))
        result: list[Any] = []
        # keys the tenant removed are visited too: a change of theirs to one is a conflict
        for key in [*order, *(k for k in t if k not in order)]:
            here = _join(path, key)
            bi, oi, ti = b.get(key, _MISSING), o.get(key, _MISSING), t.get(key, _MISSING)
            if oi is not _MISSING and ti is not _MISSING:
                result.append(self.mapping({} if bi is _MISSING else bi, oi, ti, here))
            elif oi is not _MISSING:  # the package removed it (or never had it)
                if bi is _MISSING:
                    result.append(oi)
                elif oi != bi:
                    self.conflicts.append(Conflict(here, REMOVED_THERE, bi, oi, _MISSING))
                    result.append(oi)
            elif ti is not _MISSING:  # the tenant removed it (or the package added it)
                if bi is _MISSING:
                    result.append(ti)
                elif ti != bi:
                    self.conflicts.append(Conflict(here, REMOVED_HERE, bi, _MISSING, ti))
        return result


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _by_key(items: list[Any]) -> dict[str, Any]:
    return {item["key"]: item for item in items if isinstance(item, Mapping)}


def _merged_order(ours: list[str], theirs: list[str], base: set[str]) -> list[str]:
    """The tenant's order, with what the package added placed after its predecessor there."""
    order = list(ours)
    for index, key in enumerate(theirs):
        if key in order or key in base:
            continue
        before = next((k for k in reversed(theirs[:index]) if k in order), None)
        order.insert(order.index(before) + 1 if before is not None else 0, key)
    return order


def _ordered_set(base: list[str], ours: list[str], theirs: list[str]) -> list[str]:
    removed = set(base) - set(theirs)
    kept = [k for k in ours if k not in removed]
    return _merged_order(kept, theirs, set(base) | set(ours))


def merge(base: Mapping[str, Any] | None, ours: Mapping[str, Any],
          theirs: Mapping[str, Any]) -> tuple[dict[str, Any], list[Conflict]]:
    """The merged definition and every conflict (where the tenant's value was kept)."""
    merger = _Merger()
    merged = merger.mapping(base or {}, ours, theirs, "")
    return merged, merger.conflicts
