"""Seed and demo data written by package authors, stored through the records service.

Authored records are validated like any input (types, required fields, rules, unique
values), get autonumber codes and formulas, and are audited as created by the installing
admin, who also owns them. They are written inside ``events.loading("market")``: process
guards and listeners (approvals, automations, assignment, stage rules) leave them alone.

A record may carry ``$key`` (a package-local name); others point at it with
``{"$ref": "entity:key"}``, and later package versions find it again by that key, so a
seed record is never created twice. Relations to records created later in the same load
(or in a cycle) are filled in once those exist. Users are ``{"$user": "username"}``;
files ``{"$file": "path in the package"}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from builder.errors import Problem, ValidationFailed
from builder.i18n import gettext
from builder.market.demo_org import OWNER, is_relative, relative
from builder.market.refs import (
    FILE,
    REF,
    USER,
    FileLoader,
    RecordKeys,
    UserMap,
    child_entities,
    entity_order,
    is_marker,
)
from builder.runtime.records import RecordService, events
from builder.runtime.storage.tables import EntityStore

KEY = "$key"
CHUNK = 500
Progress = Callable[[str], None]


class SeedLoader:
    """Loads the authored records of one app of a package."""

    def __init__(self, app_key: str, stores: Mapping[str, EntityStore], user: Any,
                 users: UserMap, keys: RecordKeys, files: FileLoader) -> None:
        self.app = app_key
        self.stores = stores
        self.user = user
        self.users = users
        self.keys = keys
        self.files = files
        self.children = child_entities(stores)
        self.problems: list[Problem] = []
        #: (entity, record id, field, "entity:key", place) to fill in once all exist
        self.deferred: list[tuple[str, int, str, str, str]] = []

    def problem(self, place: str, key: str, **params: Any) -> None:
        self.problems.append(Problem(place, gettext(key, **params), key.rsplit(".", 1)[-1]))

    def raise_problems(self) -> None:
        if self.problems:
            raise ValidationFailed(gettext("market.error.invalid_data"), list(self.problems))

    def load(self, content: Mapping[str, Any], where: str, *, keyed_only: bool = False,
             progress: Progress | None = None) -> dict[str, int]:
        """Create the records of ``{entity: [records]}``; returns how many per entity.

        ``keyed_only`` (upgrades) creates only records with a ``$key`` not seen before."""
        entities = [k for k in content if not k.startswith("$")]
        for entity in entities:
            if entity not in self.stores:
                self.problem(f"{where}#{self.app}.{entity}", "market.error.unknown_entity",
                             entity=entity)
            elif entity in self.children:
                self.problem(f"{where}#{self.app}.{entity}", "market.error.child_entity",
                             entity=entity, parent=self.children[entity])
        self.raise_problems()
        counts: dict[str, int] = {}
        with events.loading("market"):
            for entity in entity_order(entities, self.stores):
                if progress is not None:
                    progress(f"{self.app}.{entity}")
                counts[entity] = self._entity(entity, content[entity], f"{where}#{self.app}",
                                              keyed_only)
            self._fill_deferred()
        return {k: v for k, v in counts.items() if v}

    def _entity(self, entity: str, records: list[Any], where: str, keyed_only: bool) -> int:
        store = self.stores[entity]
        chosen: list[tuple[int, Mapping[str, Any]]] = []
        seen: set[str] = set()
        for index, record in enumerate(records):
            key = record.get(KEY)
            place = f"{where}.{entity}[{index}]"
            if key is not None and (not isinstance(key, str) or key in seen):
                self.problem(f"{place}.{KEY}", "market.error.bad_record_key")
                continue
            if self.keys.has(self.app, entity, key) or (keyed_only and key is None):
                continue
            if key is not None:
                seen.add(key)
            chosen.append((index, record))
        places = [f"{where}.{entity}[{index}]" for index, _ in chosen]
        inputs = [self._convert(store, record, place)
                  for (_, record), place in zip(chosen, places, strict=True)]
        self.raise_problems()
        service = RecordService(store, self.user, stores=self.stores, commit=False)
        for start in range(0, len(inputs), CHUNK):
            batch = inputs[start:start + CHUNK]
            try:
                created = service.bulk_create([data for data, _ in batch])
            except ValidationFailed as error:
                raise _located(error, places[start:start + CHUNK]) from None
            for (_data, later), record, (_, source), place in zip(
                    batch, created, chosen[start:start + CHUNK], places[start:start + CHUNK],
                    strict=True):
                self._remember(store, source, record)
                if source.get(OWNER) is not None:
                    self._owner(service, record, source[OWNER], f"{place}.{OWNER}")
                self.deferred.extend((entity, record["id"], field, ref, f"{place}.{field}")
                                     for field, ref in later)
        return len(inputs)

    @property
    def timezone(self) -> str:
        from builder.runtime.automation.context import tenant_timezone

        return str(tenant_timezone(next(iter(self.stores.values())).tenant_id))

    def _owner(self, service: RecordService, record: Mapping[str, Any], value: Any,
               place: str) -> None:
        """Give a loaded record to the user its ``$owner`` names (when the tenant has them)."""
        if not is_marker(value, USER):
            self.problem(place, "market.error.bad_user")
            return
        user_id = self.users.resolve(value, place)
        if user_id is not None:
            service.set_owner(int(record["id"]), user_id)

    def _remember(self, store: EntityStore, source: Mapping[str, Any],
                  record: Mapping[str, Any]) -> None:
        self.keys.put(self.app, store.key, source.get(KEY), int(record["id"]))
        for key, field in store.fields.items():
            if field.get("type") != "subtable" or not isinstance(source.get(key), list):
                continue
            child = self.stores[str(field["entity"])]
            for given, stored in zip(source[key], record.get(key) or [], strict=False):
                if isinstance(given, Mapping):
                    self._remember(child, given, stored)

    def _convert(self, store: EntityStore, record: Mapping[str, Any], place: str
                 ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Package values → records-service input, and relations to fill in later."""
        data: dict[str, Any] = {}
        later: list[tuple[str, str]] = []
        for key, value in record.items():
            if key in (KEY, OWNER):
                continue
            field = store.fields.get(key)
            if key.startswith("$") or field is None:
                self.problem(f"{place}.{key}", "market.error.unknown_field", field=key)
                continue
            kind = field.get("type")
            here = f"{place}.{key}"
            if kind == "relation":
                data[key] = self._relation(field, value, here, later, key)
            elif kind == "user":
                data[key] = self._user(value, here)
            elif kind in ("attachment", "image"):
                data[key] = self._files(value, here)
            elif kind in ("date", "datetime") and is_relative(value):
                data[key] = relative(value, str(kind), self.timezone)
                if data[key] is None:
                    self.problem(here, "market.error.bad_relative_date")
            elif kind == "subtable" and isinstance(value, list):
                child = self.stores[str(field["entity"])]
                rows = []
                for index, item in enumerate(value):
                    if not isinstance(item, Mapping):
                        self.problem(f"{here}[{index}]", "market.error.bad_data_shape")
                        continue
                    row, row_later = self._convert(child, item, f"{here}[{index}]")
                    for name, ref in row_later:
                        self.problem(f"{here}[{index}].{name}", "market.error.unknown_ref",
                                     ref=ref)
                    rows.append(row)
                data[key] = rows
            elif _has_marker(value):
                self.problem(here, "market.error.marker_misplaced", field=key)
            else:
                data[key] = value
        return data, later

    def _relation(self, field: Mapping[str, Any], value: Any, place: str,
                  later: list[tuple[str, str]], key: str) -> int | None:
        if value is None:
            return None
        ref = value.get(REF) if is_marker(value, REF) else None
        target = str(field.get("entity"))
        if not isinstance(ref, str) or ref.split(":", 1)[0] != target:
            self.problem(place, "market.error.bad_ref", entity=target)
            return None
        found = self.keys.get(self.app, ref)
        if found is None:
            later.append((key, ref))
        return found

    def _user(self, value: Any, place: str) -> int | None:
        if value is None:
            return None
        if not is_marker(value, USER):
            self.problem(place, "market.error.bad_user")
            return None
        return self.users.resolve(value, place)

    def _files(self, value: Any, place: str) -> list[str] | None:
        if value is None or value == []:
            return None
        items = value if isinstance(value, list) else [value]
        ids = []
        for index, item in enumerate(items):
            if not is_marker(item, FILE):
                self.problem(f"{place}[{index}]", "market.error.bad_file")
                continue
            ids.append(str(self.files.load(item, f"{place}[{index}]")["id"]))
        return ids

    def _fill_deferred(self) -> None:
        """Relations to records that did not exist yet when their record was created."""
        by_record: dict[tuple[str, int], dict[str, int]] = {}
        for entity, record_id, field, ref, place in self.deferred:
            target = self.keys.get(self.app, ref)
            if target is None:
                self.problem(place, "market.error.unknown_ref", ref=ref)
                continue
            by_record.setdefault((entity, record_id), {})[field] = target
        self.deferred = []
        self.raise_problems()
        for (entity, record_id), values in by_record.items():
            service = RecordService(self.stores[entity], self.user, stores=self.stores,
                                    commit=False)
            service.update(record_id, values, service.get(record_id)["version"])


def _has_marker(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(k in value for k in (REF, USER, FILE)) or any(
            _has_marker(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_marker(v) for v in value)
    return False


def _located(error: ValidationFailed, places: list[str]) -> ValidationFailed:
    """The records service's ``rows[i].field`` paths → the package file's own places."""
    details = []
    for problem in error.details:
        path = problem.path
        if path.startswith("rows["):
            index_text, _, rest = path[5:].partition("]")
            if index_text.isdigit() and int(index_text) < len(places):
                path = places[int(index_text)] + rest
        details.append(Problem(path, problem.message, problem.code))
    return ValidationFailed(gettext("market.error.invalid_data"), details)
