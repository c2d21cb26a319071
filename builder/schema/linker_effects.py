"""Linker pass over ``effects[]`` and ``thresholds[]``: every entity, field, relation and
flag they name exists and has the right type; rules read fields of the right records."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from builder.schema.linker import EntityInfo, items

if TYPE_CHECKING:
    from builder.schema.linker import Linker

NUMBER_TYPES = ("number", "money", "percent")
PARENT = "$parent"


def _var_names(logic: Any, path: str) -> Iterator[tuple[str, str]]:
    """``(name, path)`` of every ``var`` in a rule."""
    if isinstance(logic, Mapping):
        for op, args in logic.items():
            here = f"{path}.{op}"
            if op == "var":
                name = args[0] if isinstance(args, list) and args else args
                if isinstance(name, str):
                    yield name, here
                continue
            yield from _var_names(args, here)
    elif isinstance(logic, list):
        for index, item in enumerate(logic):
            yield from _var_names(item, f"{path}[{index}]")


def _logic(linker: Linker, logic: Any, path: str, info: EntityInfo | None) -> None:
    """A rule over a source record: its fields, and ``$parent.<field>`` of the record it
    belongs to when it is a sub-table row."""
    if logic is None:
        return
    linker.logic(logic, path, info)
    if info is None:
        return
    parent = linker.entities.get(info.parent) if info.parent else None
    for name, where in _var_names(logic, path):
        if name != PARENT and not name.startswith(f"{PARENT}."):
            continue
        if parent is None:
            linker.add(where, "effect_no_parent", entity=info.key)
            continue
        head = name[len(PARENT) + 1:].split(".", 1)[0]
        if head and not parent.has(head):
            linker.add(where, "unknown_field", field=head, entity=parent.key)


def _target(linker: Linker, path: str, effect: Mapping[str, Any],
            source: EntityInfo | None) -> EntityInfo | None:
    target = effect.get("target")
    if not isinstance(target, Mapping):
        return None
    relation = target.get("relation")
    if relation is not None:
        linker.field(source, relation, f"{path}.target.relation", types=("relation",),
                     system=False)
        if source is None or source.type_of(str(relation)) != "relation":
            return None
        return linker.entities.get(str(source.fields[str(relation)].get("entity")))
    info = linker.entity(target.get("entity"), f"{path}.target.entity")
    match = target.get("match")
    for key, logic in (match.items() if isinstance(match, Mapping) else []):
        linker.field(info, key, f"{path}.target.match.{key}")
        _logic(linker, logic, f"{path}.target.match.{key}", source)
    return info


def _override(linker: Linker, path: str, target: EntityInfo | None, value: Any) -> None:
    if target is None or not isinstance(value, str):
        return
    head, _, rest = value.partition(".")
    if not rest:
        linker.field(target, head, path, types=("boolean",), system=False)
        return
    linker.field(target, head, path, types=("relation",), system=False)
    if target.type_of(head) == "relation":
        related = linker.entities.get(str(target.fields[head].get("entity")))
        linker.field(related, rest, path, types=("boolean",), system=False)


def link_effects(linker: Linker) -> None:
    linker.unique_keys(linker.app, "effects", "")
    for path, effect in items(linker.app, "effects", ""):
        source = linker.entity(effect.get("entity"), f"{path}.entity")
        _logic(linker, effect.get("when"), f"{path}.when", source)
        _logic(linker, effect.get("delta"), f"{path}.delta", source)
        target = _target(linker, path, effect, source)
        linker.field(target, effect.get("field"), f"{path}.field", types=NUMBER_TYPES,
                     system=False)
        for name in ("min", "max"):
            if isinstance(effect.get(name), str):
                linker.field(target, effect[name], f"{path}.{name}", types=NUMBER_TYPES,
                             system=False)
        _override(linker, f"{path}.override", target, effect.get("override"))
        linker.field(source, effect.get("source_field"), f"{path}.source_field",
                     system=False)
    link_thresholds(linker)


def link_thresholds(linker: Linker) -> None:
    linker.unique_keys(linker.app, "thresholds", "")
    for path, threshold in items(linker.app, "thresholds", ""):
        info = linker.entity(threshold.get("entity"), f"{path}.entity")
        linker.field(info, threshold.get("field"), f"{path}.field", kinds=("number",),
                     system=False)
        below = threshold.get("below")
        if isinstance(below, (Mapping, list)):
            linker.logic(below, f"{path}.below", info)
        linker.field(info, threshold.get("flag"), f"{path}.flag", types=("boolean",),
                     system=False)
        alert = threshold.get("alert")
        if not isinstance(alert, Mapping):
            continue
        target = linker.entity(alert.get("entity"), f"{path}.alert.entity")
        values = alert.get("set")
        for key, logic in (values.items() if isinstance(values, Mapping) else []):
            linker.field(target, key, f"{path}.alert.set.{key}", system=False)
            linker.logic(logic, f"{path}.alert.set.{key}", info)
