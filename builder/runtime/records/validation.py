"""Input → stored values, with every problem of a request found at once.

``Validator.prepare`` parses one record's input (and, recursively, its sub-table rows)
against the field types, applies defaults on create, computes formulas, and checks
``required``, ``required_when``, ``unique``, ``min``/``max``, ``min_length``/``max_length``,
``pattern``, the entity's ``validations`` and that users, related records and files exist
in the caller's tenant. Problems carry the field key as path (``lines[2].qty`` for a
child row, ``rows[3].name`` in a bulk create); the caller raises them together.

Field rules: a field whose ``visible_when`` is false for the record as proposed is hidden:
never required, and it keeps its stored value (a new value sent for it is refused, as a
form would never send one). A field whose ``readonly_when`` is true for the record as it
was (as proposed, on create) cannot be changed. Sending a field's current value (its
default, on create) back is no change. Engines writing inside ``events.acting`` pass both.
Rules see ``$user``, ``$now``, ``$old`` and ``$count`` (``builder.runtime.records.counts``).

Input rules: a key that names no live field is a problem; system fields (``id``,
``version``, ``created_at``...) and computed fields (formulas, autonumber codes) are
ignored, so a client may send back a record it has read.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext, localized
from builder.platform.models import User
from builder.runtime.records import events, files, linkage, rows
from builder.runtime.records.counts import with_counts
from builder.runtime.records.formulas import compute_formulas, default_value, rule_data
from builder.runtime.records.rollups import compute_rollups
from builder.runtime.rules.evaluator import RuleError, evaluate, truthy
from builder.runtime.storage.tables import SYSTEM_FIELDS, EntityStore
from builder.schema.field_types import FieldValueError, field_type_registry

log = logging.getLogger(__name__)
MAX_USER_ID = 2**31 - 1


@dataclass
class Prepared:
    """One record ready to be written: stored values, children, and what changed."""

    store: EntityStore
    path: str
    existing: Mapping[str, Any] | None
    before: dict[str, Any] | None
    values: dict[str, Any]
    record: dict[str, Any]
    dirty: set[str] = field(default_factory=set)
    children: dict[str, ChildPlan] = field(default_factory=dict)
    #: defaults computed on create (JSON form), for the fields they apply to
    defaults: dict[str, Any] = field(default_factory=dict)

    def field_changed(self, key: str) -> bool:
        """Whether the input changes ``key``: from the stored value on update, from the
        default (or nothing) on create."""
        if key in self.children:
            plan = self.children[key]
            return plan.changed if self.existing is not None else bool(plan.items)
        if self.existing is not None:
            return key in self.dirty
        value = self.record.get(key)
        return value not in (None, "", []) and value != self.defaults.get(key)

    @property
    def changed(self) -> bool:
        return (self.existing is None or bool(self.dirty)
                or any(plan.changed for plan in self.children.values()))


@dataclass
class ChildPlan:
    store: EntityStore
    items: list[Prepared]
    removed: list[Mapping[str, Any]]

    @property
    def changed(self) -> bool:
        return bool(self.removed) or any(item.changed for item in self.items)


def _is_empty(field_def: Mapping[str, Any], value: Any) -> bool:
    return field_type_registry.get(field_def["type"]).is_empty(value)


def _has_access_rule(field_def: Mapping[str, Any]) -> bool:
    return field_def.get("visible_when") is not None or field_def.get("readonly_when") is not None


class Validator:
    """Collects problems over one request (one record, its children, or a bulk batch)."""

    def __init__(self, stores: Mapping[str, EntityStore], context: Mapping[str, Any],
                 reveals: Callable[[EntityStore, str, int], bool] | None = None) -> None:
        self.stores = stores
        self.context = dict(context)
        #: whether the writer may learn which record holds a unique value (by default a
        #: signed-in user may, a public form's visitor may not)
        self.reveals = reveals or (lambda _store, _key, _holder: bool(self.context.get("$user")))
        self.problems: list[Problem] = []
        self._batch_values: dict[tuple[str, str], dict[Any, str]] = {}

    # -- problems ---------------------------------------------------------------------------

    def add(self, path: str, key: str, code: str | None = None, **params: Any) -> None:
        self.problems.append(Problem(path, gettext(key, **params),
                                     code or key.rsplit(".", 1)[-1]))

    def raise_if_problems(self) -> None:
        if self.problems:
            raise ValidationFailed(gettext("records.error.invalid"), list(self.problems))

    # -- one record -------------------------------------------------------------------------

    def prepare(self, store: EntityStore, data: Any, *, existing: Mapping[str, Any] | None = None,
                before: dict[str, Any] | None = None, path: str = "",
                trusted: frozenset[str] = frozenset()) -> Prepared | None:
        """Parse and check one record's input; ``existing`` is the current row on update.

        ``trusted`` are keys an engine sets itself (the stage a transition moves to): the
        ``visible_when``/``readonly_when`` rules do not refuse them, as for any write made
        inside ``events.acting``."""
        here = path.rstrip(".") or "$"
        if not isinstance(data, Mapping):
            self.add(here, "records.error.not_an_object")
            return None
        given: dict[str, Any] = {}
        subtable_input: dict[str, list[Any]] = {}
        for key, raw in data.items():
            if key in SYSTEM_FIELDS:
                continue
            field_def = store.fields.get(key)
            if field_def is None or (field_def["type"] != "subtable" and key not in store.columns):
                self.add(f"{path}{key}", "records.error.unknown_field", "unknown", field=key)
                continue
            field_type = field_type_registry.get(field_def["type"])
            if field_type.computed:
                continue
            try:
                if field_def["type"] == "relation":
                    raw = linkage.resolve_reference(self.stores, field_def, raw)
                parsed = field_type.parse(raw, field_def)
            except FieldValueError as exc:
                self.problems.append(Problem(f"{path}{key}", exc.message(),
                                             exc.key.rsplit(".", 1)[-1]))
                continue
            if field_def["type"] == "subtable":
                subtable_input[key] = parsed or []
            else:
                given[key] = parsed
        sent = frozenset(given) | frozenset(subtable_input)
        values = {k: (existing.get(c.name) if existing is not None else None)
                  for k, c in store.columns.items()}
        record = dict(before) if before is not None else {}
        record.update({k: rows.field_json(store, k, v) for k, v in values.items()})
        record_id = int(existing["id"]) if existing is not None else None
        context = with_counts(dict(self.context, **{"$old": before}), store, self.stores,
                              record, record_id)
        defaults: dict[str, Any] = {}
        if existing is None:
            defaults = self._apply_defaults(store, data, given, record, context)
        for key, value in given.items():
            if store.fields[key]["type"] in ("attachment", "image"):
                value = self._files(store.fields[key], value, f"{path}{key}")
                given[key] = value
            values[key] = value
            record[key] = rows.field_json(store, key, value)
        for problem in linkage.link(self.stores, store, data, given, values, record, existing,
                                    path):
            self.problems.append(problem)
        prepared = Prepared(store, path, existing, before, values, record, defaults=defaults)
        self._prepare_children(prepared, subtable_input, context)
        compute_rollups(store, self.stores, values, record, record_id, context)
        compute_formulas(store.fields, values, record, context)
        if existing is None:
            prepared.dirty = {k for k in values if values[k] is not None}
        else:
            assert before is not None
            prepared.dirty = {k for k in values
                              if rows.field_json(store, k, values[k]) != before.get(k)}
        self._check(prepared, given, context)
        self._check_access(prepared, sent - trusted, context)
        return prepared

    def _apply_defaults(self, store: EntityStore, data: Mapping[str, Any], given: dict[str, Any],
                        record: dict[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
        """Fill in the defaults of the fields not sent; returns every default (as JSON) of
        the fields with a rule, so that sending a field's default back counts as no change."""
        defaults: dict[str, Any] = {}
        for key, field_def in store.fields.items():
            if "default" not in field_def or key not in store.columns:
                continue
            if key in data and not _has_access_rule(field_def):
                continue
            if field_type_registry.get(field_def["type"]).computed:
                continue
            try:
                value = default_value(field_def, rule_data(record, context))
            except (FieldValueError, RuleError) as exc:
                log.warning("default of %s.%s not applied: %s", store.key, key, exc)
                continue
            defaults[key] = rows.field_json(store, key, value)
            if key not in data:
                given[key] = value
        return defaults

    def _files(self, field_def: Mapping[str, Any], ids: Any, path: str) -> Any:
        if not ids:
            return None
        found = files.describe_files(self.stores_tenant, ids)
        result = []
        for index, file_id in enumerate(ids):
            desc = found.get(str(file_id).lower())
            if desc is None:
                self.add(f"{path}[{index}]", "records.error.file_missing", "not_found")
                continue
            if field_def["type"] == "image" and not files.is_image(desc):
                self.add(f"{path}[{index}]", "records.error.not_an_image", "not_image")
                continue
            if not files.accepts(field_def, desc):
                self.add(f"{path}[{index}]", "records.error.file_not_accepted", "not_accepted",
                         name=desc["name"])
                continue
            result.append(desc)
        return result

    @property
    def stores_tenant(self) -> int:
        return next(iter(self.stores.values())).tenant_id

    # -- sub-tables -------------------------------------------------------------------------

    def _prepare_children(self, parent: Prepared, subtable_input: dict[str, list[Any]],
                          context: Mapping[str, Any]) -> None:
        store = parent.store
        for key, field_def in rows.subtable_fields(store).items():
            child = self.stores.get(str(field_def.get("entity")))
            if child is None:
                continue
            current: list[Mapping[str, Any]] = []
            if parent.existing is not None:
                current = rows.fetch_children(child, [parent.existing["id"]]).get(
                    parent.existing["id"], [])
            inherited = linkage.inherited(parent.store, child, field_def, parent.values)
            if key not in subtable_input:
                if not current or not linkage.inheritance_changed(
                        parent.store, field_def, parent.values, parent.existing):
                    parent.record[key] = (parent.before or {}).get(key, [])
                    continue
                # the rows carry fields of their record: keep them in step
                subtable_input = {**subtable_input, key: [{"id": r["id"]} for r in current]}
            by_id = {row["id"]: row for row in current}
            before_by_id = {r["id"]: r for r in (parent.before or {}).get(key, [])}
            items: list[Prepared] = []
            kept: set[int] = set()
            for index, item in enumerate(subtable_input[key]):
                item_path = f"{parent.path}{key}[{index}]."
                item_id = item.get("id") if isinstance(item, Mapping) else None
                existing = None
                if item_id is not None:
                    existing = by_id.get(item_id) if isinstance(item_id, int) else None
                    if existing is None or item_id in kept:
                        self.add(f"{item_path}id", "records.error.child_not_found", "not_found")
                        continue
                    kept.add(item_id)
                if inherited and isinstance(item, Mapping):
                    item = {**item, **inherited}
                prepared = self.prepare(child, item, existing=existing,
                                        before=before_by_id.get(item_id) if existing else None,
                                        path=item_path, trusted=frozenset(inherited))
                if prepared is not None:
                    items.append(prepared)
            removed = [row for row in current if row["id"] not in kept]
            parent.children[key] = ChildPlan(child, items, removed)
            parent.record[key] = [item.record for item in items]

    # -- checks -----------------------------------------------------------------------------

    def _check(self, prepared: Prepared, given: Mapping[str, Any],
               context: Mapping[str, Any]) -> None:
        store, path, values = prepared.store, prepared.path, prepared.values
        data = rule_data(prepared.record, context)
        for key, field_def in store.fields.items():
            field_type = field_type_registry.get(field_def["type"])
            if field_type.computed:
                if field_def.get("unique") and values.get(key) is not None and \
                        key in store.columns:  # a unique formula (a composite key)
                    self._check_unique(store, key, values[key], prepared, f"{path}{key}")
                continue
            if self.hidden(store, key, data):
                continue
            required = bool(field_def.get("required"))
            if not required and field_def.get("required_when") is not None:
                required = self._holds(field_def["required_when"], data, f"{store.key}.{key}")
            if required:
                value = prepared.record.get(key) if field_def["type"] == "subtable" \
                    else values.get(key)
                if _is_empty(field_def, value):
                    self.add(f"{path}{key}", "records.error.required", "required")
                    continue
            if key in given and key in store.columns and values.get(key) is not None:
                self._check_value(store, key, field_def, values[key], prepared, f"{path}{key}")
        for rule in store.entity.get("validations") or []:
            if self._holds(rule.get("rule"), data, f"{store.key}.{rule.get('key')}",
                           broken=True):
                continue
            message = localized(rule.get("message")) or gettext(
                "records.error.rule_failed", rule=rule.get("key", ""))
            targets = [f for f in rule.get("fields") or [] if isinstance(f, str)]
            for target in targets or [""]:
                self.problems.append(Problem(f"{path}{target}" if target else
                                             (path.rstrip(".") or "$"), message,
                                             str(rule.get("key") or "rule")))

    def hidden(self, store: EntityStore, key: str, data: Mapping[str, Any]) -> bool:
        """Whether the field's ``visible_when`` is false for ``data`` (a rule that cannot
        be evaluated shows the field)."""
        rule = store.fields[key].get("visible_when")
        return rule is not None and not self._holds(rule, data, f"{store.key}.{key}",
                                                    broken=True)

    def _check_access(self, prepared: Prepared, sent: frozenset[str],
                      context: Mapping[str, Any]) -> None:
        """Refuse changes of hidden fields (rule over the record as proposed) and of
        read-only ones (rule over the record as it was; as proposed on create)."""
        if events.acting_engine() is not None:
            return
        store, path = prepared.store, prepared.path
        data = rule_data(prepared.record, context)
        before_data: dict[str, Any] | None = None
        for key, field_def in store.fields.items():
            if key not in sent or not _has_access_rule(field_def):
                continue
            if not prepared.field_changed(key):
                continue
            if self.hidden(store, key, data):
                self.add(f"{path}{key}", "records.error.hidden", "hidden")
                continue
            rule = field_def.get("readonly_when")
            if rule is None:
                continue
            if before_data is None:
                before_data = data if prepared.before is None else rule_data(
                    prepared.before, with_counts(
                        dict(self.context, **{"$old": prepared.before}), store, self.stores,
                        prepared.before, int(prepared.before["id"])))
            if self._holds(rule, before_data, f"{store.key}.{key}"):
                self.add(f"{path}{key}", "records.error.readonly", "readonly")

    def _holds(self, logic: Any, data: Mapping[str, Any], where: str,
               broken: bool = False) -> bool:
        """Evaluate a rule; a rule that cannot be evaluated counts as ``broken``."""
        try:
            return truthy(evaluate(logic, data))
        except RuleError as exc:
            log.warning("rule %s could not be evaluated: %s", where, exc)
            return broken

    def _check_value(self, store: EntityStore, key: str, field_def: Mapping[str, Any],
                     value: Any, prepared: Prepared, path: str) -> None:
        field_type = field_type_registry.get(field_def["type"])
        kind = field_type.kind
        if kind in ("number", "date", "datetime"):
            for bound, error, op in (("min", "records.error.too_small", "lt"),
                                     ("max", "records.error.too_large", "gt")):
                limit = field_def.get(bound)
                if limit is None:
                    continue
                try:
                    parsed = field_type.parse(limit, field_def)
                    outside = value < parsed if op == "lt" else value > parsed
                except (FieldValueError, TypeError):
                    continue
                if outside:
                    self.add(path, error, bound, **{bound: limit})
        if isinstance(value, (str, list)):
            size = len(value)
            low, high = field_def.get("min_length"), field_def.get("max_length")
            if isinstance(low, int) and size < low:
                self.add(path, "records.error.too_short", "min_length", min=low)
            if isinstance(high, int) and size > high:
                self.add(path, "records.error.too_long", "max_length", max=high)
        if isinstance(value, str) and field_def.get("pattern"):
            try:
                matched = re.search(str(field_def["pattern"]), value) is not None
            except re.error:
                matched = True
            if not matched:
                message = localized(field_def.get("pattern_message")) or gettext(
                    "records.error.pattern")
                self.problems.append(Problem(path, message, "pattern"))
        if field_def.get("unique") and kind != "list":
            self._check_unique(store, key, value, prepared, path)
        if field_def["type"] == "user":
            self._check_user(value, path)
        elif field_def["type"] == "relation":
            self._check_relation(field_def, value, path)

    def _check_unique(self, store: EntityStore, key: str, value: Any, prepared: Prepared,
                      path: str) -> None:
        seen = self._batch_values.setdefault((store.key, key), {})
        marker = repr(rows.field_json(store, key, value))
        if marker in seen:
            self.add(path, "records.error.not_unique", "unique", other=seen[marker])
            return
        seen[marker] = path
        column = store.columns[key]
        query = sa.select(store.table.c.id).where(column == value,
                                                  store.table.c.deleted == sa.false())
        if prepared.existing is not None:
            query = query.where(store.table.c.id != prepared.existing["id"])
        holder = db.session.execute(query.limit(1)).first()
        if holder is not None:
            # only who may read the holder learns which record it is
            self.problems.append(linkage.unique_clash(store, int(holder.id), path)
                                 if self.reveals(store, key, int(holder.id)) else
                                 Problem(path, gettext("records.error.not_unique"), "unique"))

    def _check_user(self, value: Any, path: str) -> None:
        found = isinstance(value, int) and 0 < value <= MAX_USER_ID and db.session.execute(
            sa.select(User.id).where(User.id == value, User.tenant_id == self.stores_tenant)
        ).first() is not None
        if not found:
            self.add(path, "records.error.user_not_found", "not_found")

    def _check_relation(self, field_def: Mapping[str, Any], value: Any, path: str) -> None:
        target = self.stores.get(str(field_def.get("entity")))
        found = False
        if target is not None and isinstance(value, int) and 0 < value <= rows.MAX_ID:
            found = db.session.execute(sa.select(target.table.c.id).where(
                target.table.c.id == value, target.table.c.deleted == sa.false())
            ).first() is not None
        if not found:
            self.add(path, "records.error.related_not_found", "not_found")
