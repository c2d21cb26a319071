"""``effects[]``: a record adjusts a number field of another record, in its transaction.

An effect names a source entity (a record, or a sub-table row such as a sales line), the
target (through a relation field of the source, or by matching target fields to values
computed from the source: ``{"sku": {"var": "sku"}, "store": {"var": "$parent.store"}}``),
the target's number field and the delta (JsonLogic over the source). What the source
contributes is worked out for the record as it was and as it is:

- created: the new contribution; deleted: the old one taken back; restored: given again;
- changed: the difference (a line going from 2 to 3 units takes one more; a line moved to
  another SKU gives back to the old stock and takes from the new one; an order whose
  ``when`` stops holding, such as a cancelled sale, gives everything back).

Contributions are summed per target and applied through ``RecordService.adjust`` in one
conditional UPDATE each, in a fixed order (entity, id) so that concurrent writers cannot
deadlock. A bound (``min``/``max``: a number or a field of the target) refuses the whole
write with a 422 at the source field that asked for too much (``lines[2].qty``), unless
the ``override`` flag of the target (or of a record it relates to) is set. Unchanged
contributions touch nothing, so editing an order's note never reads the stock.

Rules see the source record, ``$parent`` (the record a sub-table row belongs to) and
``$now``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext, localized
from builder.runtime.records import events, rows
from builder.runtime.records.formulas import rule_data
from builder.runtime.rules.evaluator import RuleError, evaluate, truthy
from builder.runtime.storage.tables import EntityStore
from builder.schema.field_types import FieldValueError, field_type_registry

log = logging.getLogger(__name__)

ENGINE = "effects"
LISTENER = "effects.apply"
ACTIONS = (events.CREATE, events.UPDATE, events.DELETE, events.RESTORE)
#: the part of a target key naming how it was found
BY_ID, BY_MATCH = "id", "match"


@dataclass(frozen=True)
class Source:
    """One image an effect reads: a record, or a sub-table row with its ``parent``;
    ``path`` is where it sits in the request (``lines[2].``)."""

    path: str
    record: Mapping[str, Any]
    parent: Mapping[str, Any] | None


@dataclass
class Net:
    """What one effect does to one target over a change: the summed delta, and the
    sources that asked for it (the new ones first, to name in a refusal)."""

    effect: Mapping[str, Any]
    key: tuple[Any, ...]
    delta: float = 0.0
    wanted: list[tuple[Source, float]] = field(default_factory=list)
    returned: list[tuple[Source, float]] = field(default_factory=list)


# -- which effects concern a change ----------------------------------------------------------


def _effects(app: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [e for e in app.get("effects") or [] if isinstance(e, Mapping)]


def _child_fields(store: EntityStore, entity_key: str) -> list[str]:
    return [k for k, f in rows.subtable_fields(store).items() if f.get("entity") == entity_key]


def concerning(store: EntityStore) -> list[Mapping[str, Any]]:
    """The effects whose source is the entity or one of its sub-table entities."""
    children = {str(f.get("entity")) for f in rows.subtable_fields(store).values()}
    return [e for e in _effects(store.app)
            if e.get("entity") == store.key or e.get("entity") in children]


def target_entity(app: Mapping[str, Any], effect: Mapping[str, Any]) -> str | None:
    """The target entity: the one the relation points at, or ``target.entity``."""
    target = effect.get("target") or {}
    relation = target.get("relation")
    if relation:
        for entity in app.get("entities") or []:
            if entity.get("key") == effect.get("entity"):
                for field_def in entity.get("fields") or []:
                    if field_def.get("key") == relation:
                        return str(field_def.get("entity"))
        return None
    return str(target.get("entity")) if target.get("entity") else None


# -- sources and contributions ---------------------------------------------------------------


def _owner(change: events.RecordChange, record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The parent record of a sub-table row changed on its own."""
    parent_id = record.get("parent_id")
    if not isinstance(parent_id, int):
        return None
    for store in change.stores.values():
        if _child_fields(store, change.entity):
            return rows.read_records(store, change.stores, [parent_id]).get(parent_id)
    return None


def sources(change: events.RecordChange, effect: Mapping[str, Any],
            image: Mapping[str, Any] | None) -> Iterator[Source]:
    """The images of ``image`` (the record before or after) that ``effect`` reads; none
    for a deleted record."""
    if image is None or image.get("deleted"):
        return
    if effect.get("entity") == change.entity:
        yield Source(change.path, image, _owner(change, image))
        return
    for key in _child_fields(change.store, str(effect.get("entity"))):
        for index, row in enumerate(image.get(key) or []):
            if isinstance(row, Mapping) and not row.get("deleted"):
                yield Source(f"{change.path}{key}[{index}].", row, image)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def first_field(logic: Any) -> str | None:
    """The first record field a rule reads (not a ``$`` context value)."""
    if isinstance(logic, Mapping):
        for op, args in logic.items():
            if op == "var":
                name = args[0] if isinstance(args, list) and args else args
                if isinstance(name, str) and name and not name.startswith("$"):
                    return name.split(".", 1)[0]
                return None
            found = first_field(args)
            if found:
                return found
    if isinstance(logic, list):
        for item in logic:
            found = first_field(item)
            if found:
                return found
    return None


def source_field(effect: Mapping[str, Any]) -> str:
    return str(effect.get("source_field") or first_field(effect.get("delta")) or "")


class Contributions:
    """The contributions of one change, summed per (effect, target key)."""

    def __init__(self, change: events.RecordChange) -> None:
        self.change = change
        self.nets: dict[tuple[str, tuple[Any, ...]], Net] = {}
        self.problems: list[Problem] = []

    def add(self, effect: Mapping[str, Any], image: Mapping[str, Any] | None,
            sign: int) -> None:
        for source in sources(self.change, effect, image):
            found = self._contribution(effect, source)
            if found is None:
                continue
            key, delta = found
            net = self.nets.setdefault((str(effect.get("key")), key), Net(effect, key))
            net.delta += sign * delta
            (net.wanted if sign > 0 else net.returned).append((source, sign * delta))

    def _contribution(self, effect: Mapping[str, Any], source: Source
                      ) -> tuple[tuple[Any, ...], float] | None:
        data = rule_data(source.record, {"$parent": dict(source.parent or {}),
                                         "$now": self.change.now.isoformat()})
        try:
            when = effect.get("when")
            if when is not None and not truthy(evaluate(when, data)):
                return None
            delta = _number(evaluate(effect.get("delta"), data))
            if not delta:
                return None
            target = effect.get("target") or {}
            if target.get("relation"):
                related = source.record.get(str(target["relation"]))
                return ((BY_ID, related), delta) if isinstance(related, int) else None
            match = target.get("match") or {}
            values = tuple(sorted((str(k), evaluate(v, data)) for k, v in match.items()))
        except RuleError as exc:
            self.problems.append(Problem(f"{source.path}{source_field(effect)}".rstrip("."),
                                         gettext("effects.error.rule", effect=_title(effect),
                                                 reason=exc.message), "effect_rule"))
            return None
        return (BY_MATCH, values), delta


def _title(effect: Mapping[str, Any]) -> str:
    return localized(effect.get("title")) or str(effect.get("key"))


# -- resolving and applying ------------------------------------------------------------------


def _resolve(store: EntityStore, key: tuple[Any, ...]) -> list[int]:
    """Ids of the live target records a key finds (two at most)."""
    table = store.table
    where = [table.c.deleted == sa.false()]
    how, value = key
    if how == BY_ID:
        where.append(table.c.id == value)
    else:
        for name, wanted in value:
            column = store.columns.get(name)
            if column is None:
                return []
            try:
                parsed = field_type_registry.get(store.fields[name]["type"]).parse(
                    wanted, store.fields[name])
            except FieldValueError:
                return []
            if parsed is None:
                return []
            where.append(column == parsed)
    return [int(i) for i in db.session.scalars(
        sa.select(table.c.id).where(*where).order_by(table.c.id).limit(2))]


def _blame(net: Net) -> Source:
    """The source to name when ``net`` is refused: a new one asking in its direction."""
    for source, delta in net.wanted:
        if delta * net.delta > 0:
            return source
    return (net.wanted or net.returned)[0][0]


def _precision(store: EntityStore, key: str) -> int:
    field_def = store.fields[key]
    field_type = field_type_registry.get(field_def["type"])
    precision = getattr(field_type, "precision", None)
    return int(precision(field_def)) if callable(precision) else 8


class _Formatter(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _plain(value: Any) -> Any:
    """A number as a person writes it: ``3``, not ``3.0``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _refusal(net: Net, store: EntityStore, available: Any, limit: Any) -> str:
    params = {"available": _plain(available), "needed": _plain(abs(net.delta)),
              "limit": _plain(limit),
              "field": localized(store.fields[str(net.effect["field"])].get("title")),
              "entity": localized(store.entity.get("title")) or store.key}
    custom = localized(net.effect.get("message"))
    if custom:
        return custom.format_map(_Formatter(params))
    key = "effects.error.below" if net.delta < 0 else "effects.error.above"
    return gettext(key, **params)


def _limit(effect: Mapping[str, Any], before: Mapping[str, Any] | None, delta: float) -> Any:
    bound = effect.get("min") if delta < 0 else effect.get("max")
    if isinstance(bound, str):
        return (before or {}).get(bound)
    return bound


def _missing(net: Net, store: EntityStore, ambiguous: bool) -> list[Problem]:
    """No target (or several) for a net: a problem when the source asks something of it,
    nothing when it only gives back (or the effect skips missing targets)."""
    if not net.wanted or (not ambiguous and net.effect.get("if_missing") == "skip"):
        return []
    source = _blame(net)
    code, key = (("effect_ambiguous", "effects.error.ambiguous") if ambiguous
                 else ("effect_no_target", "effects.error.no_target"))
    return [Problem(f"{source.path}{source_field(net.effect)}".rstrip("."),
                    gettext(key, entity=localized(store.entity.get("title")) or store.key),
                    code)]


def apply(change: events.RecordChange) -> None:
    """The listener: apply the net contributions of a change, or refuse it."""
    if change.action not in ACTIONS:
        return
    effects = concerning(change.store)
    if not effects:
        return
    from builder.runtime.records.service import RecordService

    found = Contributions(change)
    for effect in effects:
        found.add(effect, change.before, -1)
        found.add(effect, change.after, +1)
    problems = list(found.problems)
    plan: list[tuple[str, int, str, Net, EntityStore]] = []
    for (effect_key, _), net in found.nets.items():
        entity = target_entity(change.store.app, net.effect)
        store = change.stores.get(entity or "")
        field_key = str(net.effect.get("field"))
        if store is None or field_key not in store.columns:
            continue
        net.delta = round(net.delta, _precision(store, field_key))
        if not net.delta:
            continue
        # a relation names its target; a match is looked up (the adjustment locks it)
        ids = [net.key[1]] if net.key[0] == BY_ID else _resolve(store, net.key)
        if len(ids) == 1:
            plan.append((store.key, ids[0], effect_key, net, store))
        else:
            problems += _missing(net, store, ambiguous=bool(ids))
    for _, record_id, _, net, store in sorted(plan, key=lambda p: p[:3]):
        with events.acting(ENGINE):
            result = RecordService(store, change.user, stores=change.stores,
                                   commit=False).adjust(
                record_id, str(net.effect["field"]), net.delta, low=net.effect.get("min"),
                high=net.effect.get("max"), override=net.effect.get("override"))
        if result.missing:
            problems += _missing(net, store, ambiguous=False)
        elif not result.applied:
            source = _blame(net)
            problems.append(Problem(
                f"{source.path}{source_field(net.effect)}".rstrip("."),
                _refusal(net, store, result.available,
                         _limit(net.effect, result.before, net.delta)), "effect_bound"))
    if problems:
        raise ValidationFailed(gettext("effects.error.refused"), problems)


def register() -> None:
    # derived numbers follow loaded data too (market seeds, imports, clones)
    events.record_hooks.listener(LISTENER, priority=20, on_load=True)(apply)
