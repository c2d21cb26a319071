"""The linker: resolves every key reference in a definition and reports every problem at once.

It works on whatever it is given (the raw input when the schema found errors too), skips
what it cannot read, and names each problem by its JSON path (``entities[1].fields[3].entity``).
Processes (flows, approvals, automations...) are linked in ``builder.schema.linker_processes``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from builder.errors import Problem
from builder.i18n import gettext
from builder.schema.common import SYSTEM_VARS
from builder.schema.counts import count_names
from builder.schema.definition import ALL_ENTITIES
from builder.schema.field_types import LintContext, field_type_registry
from builder.schema.logic import check_logic
from builder.schema.related import flow_names, related_names

BUILTIN_ROLES = ("admin",)
DATE_KINDS = ("date", "datetime")


def problem(path: str, code: str, **params: Any) -> Problem:
    """A problem whose message is ``schema.error.<code>``."""
    return Problem(path, gettext(f"schema.error.{code}", **params), code)


def items(container: Any, name: str, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(path, item)`` of each object in ``container[name]`` (other values are skipped)."""
    values = container.get(name) if isinstance(container, Mapping) else None
    if not isinstance(values, list):
        return
    prefix = f"{path}.{name}" if path else name
    for index, value in enumerate(values):
        if isinstance(value, Mapping):
            yield f"{prefix}[{index}]", dict(value)


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass
class EntityInfo:
    key: str
    path: str
    data: dict[str, Any]
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    parent: str | None = None
    #: the ``$count.…`` and ``$rel.…`` names its rules may read (``builder.schema.counts``,
    #: ``builder.schema.related``)
    counts: set[str] = field(default_factory=set)

    def known_vars(self) -> set[str]:
        names = set(self.fields) | set(SYSTEM_VARS) | self.counts
        if self.parent:
            names.add("parent_id")
        return names

    def has(self, key: Any) -> bool:
        return isinstance(key, str) and (key in self.fields or key in SYSTEM_VARS)

    def type_of(self, key: str) -> str | None:
        value = self.fields.get(key, {}).get("type")
        return value if isinstance(value, str) else None

    def kind_of(self, key: str) -> str | None:
        if key in ("created_at", "updated_at"):
            return "datetime"
        if key in ("created_by", "updated_by", "owner"):
            return "id"
        type_name = self.type_of(key)
        if type_name not in field_type_registry:
            return None
        from builder.schema.field_types import kind_of
        return kind_of(self.fields[key])


class Linker:
    """One pass over a definition; ``problems`` collects everything found."""

    def __init__(self, app: Mapping[str, Any]) -> None:
        self.app = app
        self.problems: list[Problem] = []
        self.entities: dict[str, EntityInfo] = {}
        #: every entity object in order, duplicates included
        self.entity_list: list[EntityInfo] = []
        self.roles: set[str] = set()
        self.metrics: dict[str, dict[str, Any]] = {}

    # -- helpers --------------------------------------------------------------------------

    def add(self, path: str, code: str, **params: Any) -> None:
        self.problems.append(problem(path, code, **params))

    def unique_keys(self, container: Any, name: str, path: str,
                    key_name: str = "key") -> dict[str, tuple[str, dict[str, Any]]]:
        """Items of a list by key; a key seen before is reported at the later item."""
        seen: dict[str, tuple[str, dict[str, Any]]] = {}
        for item_path, item in items(container, name, path):
            key = item.get(key_name)
            if not isinstance(key, str):
                continue
            if key in seen:
                self.add(f"{item_path}.{key_name}", "duplicate_key", value=key)
            else:
                seen[key] = (item_path, item)
        return seen

    def logic(self, value: Any, path: str, entity: EntityInfo | None) -> None:
        if value is None:
            return
        known = entity.known_vars() if entity else None
        self.problems.extend(check_logic(value, path, known))

    def entity(self, key: Any, path: str) -> EntityInfo | None:
        """The entity named at ``path``, reporting it when it does not exist."""
        if not isinstance(key, str):
            return None
        info = self.entities.get(key)
        if info is None:
            self.add(path, "unknown_entity", entity=key)
        return info

    def field(self, entity: EntityInfo | None, key: Any, path: str,
              kinds: tuple[str, ...] | None = None, types: tuple[str, ...] | None = None,
              system: bool = True) -> None:
        """Report a field key that the entity lacks or whose type does not fit."""
        if entity is None or not isinstance(key, str):
            return
        if not (entity.has(key) if system else key in entity.fields):
            self.add(path, "unknown_field", field=key, entity=entity.key)
            return
        if types is not None and entity.type_of(key) not in types:
            self.add(path, "field_type", field=key, types=", ".join(types))
        elif kinds is not None and entity.kind_of(key) not in kinds and (
                key not in entity.fields or entity.type_of(key) in field_type_registry):
            self.add(path, "field_kind", field=key, kinds=", ".join(kinds))

    def fields(self, entity: EntityInfo | None, keys: Any, path: str) -> None:
        if isinstance(keys, list):
            for index, key in enumerate(keys):
                self.field(entity, key, f"{path}[{index}]")

    # -- the passes -----------------------------------------------------------------------

    def run(self) -> list[Problem]:
        from builder.schema import (
            linker_documents,
            linker_effects,
            linker_intake,
            linker_processes,
            linker_reports,
        )

        self.collect()
        self.link_entities()
        self.link_subtables()
        linker_processes.link_processes(self)
        linker_intake.link_intake(self)
        self.link_metrics()
        self.link_dashboards()
        self.link_roles()
        linker_documents.link_documents(self)
        linker_effects.link_effects(self)
        linker_reports.link_reports(self)
        return self.problems

    def collect(self) -> None:
        self.unique_keys(self.app, "entities", "")
        for path, data in items(self.app, "entities", ""):
            info = EntityInfo(str(data.get("key")), path, data)
            info.fields = {k: item for k, (_, item) in
                           self.unique_keys(data, "fields", path).items()}
            self.entity_list.append(info)
            if isinstance(data.get("key"), str):
                self.entities.setdefault(info.key, info)
                info.counts = (count_names(self.app, info.key, info.fields)
                               | related_names(self.app, info.fields)
                               | flow_names(self.app, info.key))
        for info in self.entities.values():
            for field_data in info.fields.values():
                target = field_data.get("entity")
                if field_data.get("type") == "subtable" and target in self.entities:
                    self.entities[target].parent = self.entities[target].parent or info.key
        self.roles = set(self.unique_keys(self.app, "roles", ""))
        self.metrics = {k: item for k, (_, item) in
                        self.unique_keys(self.app, "metrics", "").items()}

    def link_entities(self) -> None:
        entity_keys = set(self.entities)
        for info in self.entity_list:
            path, data = info.path, info.data
            for field_path, field_data in items(data, "fields", path):
                self.link_field(info, field_path, field_data, entity_keys)
            self.field(info, data.get("title_field"), f"{path}.title_field", system=False)
            for rule_path, rule in items(data, "validations", path):
                self.logic(rule.get("rule"), f"{rule_path}.rule", info)
                self.fields(info, rule.get("fields"), f"{rule_path}.fields")
            self.unique_keys(data, "validations", path)
            self.unique_keys(data, "forms", path)
            for form_path, form in items(data, "forms", path):
                self.unique_keys(form, "sections", form_path)
                for section_path, section in items(form, "sections", form_path):
                    self.fields(info, section.get("fields"), f"{section_path}.fields")
            self.unique_keys(data, "views", path)
            for view_path, view in items(data, "views", path):
                self.link_view(info, view_path, view)

    def link_field(self, info: EntityInfo, path: str, data: dict[str, Any],
                   entity_keys: set[str]) -> None:
        type_name = data.get("type")
        if isinstance(type_name, str):
            if type_name not in field_type_registry:
                self.add(f"{path}.type", "unknown_field_type", type=type_name)
            else:
                ctx = LintContext(self.app, info.data, path, entity_keys)
                self.problems.extend(field_type_registry.get(type_name).lint(data, ctx))
        self.unique_keys(data, "options", path)
        for name in ("required_when", "visible_when", "readonly_when", "expression"):
            self.logic(data.get(name), f"{path}.{name}", info)
        default = data.get("default")
        if isinstance(default, Mapping) and "logic" in default:
            self.logic(default["logic"], f"{path}.default.logic", info)

    def link_view(self, info: EntityInfo, path: str, view: dict[str, Any]) -> None:
        self.fields(info, view.get("columns"), f"{path}.columns")
        self.logic(view.get("filter"), f"{path}.filter", info)
        for sort_path, sort in items(view, "sort", path):
            self.field(info, sort.get("field"), f"{sort_path}.field")
        self.field(info, view.get("group_by"), f"{path}.group_by")
        self.field(info, view.get("date_field"), f"{path}.date_field", kinds=DATE_KINDS)
        if view.get("type") == "kanban" and not view.get("group_by"):
            self.add(f"{path}.group_by", "required")
        if view.get("type") == "calendar" and not view.get("date_field"):
            self.add(f"{path}.date_field", "required")

    def link_subtables(self) -> None:
        """Each child entity has one owner, and no entity owns itself through others."""
        owners: dict[str, str] = {}
        edges: dict[str, list[tuple[str, str]]] = {}
        for info in self.entity_list:
            for field_path, data in items(info.data, "fields", info.path):
                target = data.get("entity")
                if data.get("type") != "subtable" or target not in self.entities:
                    continue
                if target == info.key:
                    continue  # reported by the sub-table type itself
                if target in owners:
                    self.add(f"{field_path}.entity", "subtable_owned_twice", entity=target,
                             owner=owners[target])
                else:
                    owners[target] = info.key
                edges.setdefault(info.key, []).append((target, f"{field_path}.entity"))
        done: set[str] = set()

        def visit(key: str, stack: list[str]) -> None:
            stack.append(key)
            for target, path in edges.get(key, []):
                if target in stack:
                    cycle = [*stack[stack.index(target):], target]
                    self.add(path, "subtable_cycle", cycle=" → ".join(cycle))
                elif target not in done:
                    visit(target, stack)
            stack.pop()
            done.add(key)

        for key in self.entities:
            if key not in done:
                visit(key, [])

    def link_metrics(self) -> None:
        for path, metric in items(self.app, "metrics", ""):
            if metric.get("aggregate") == "ratio":
                for name in ("numerator", "denominator"):
                    key = metric.get(name)
                    if isinstance(key, str) and (key not in self.metrics or
                                                 key == metric.get("key")):
                        self.add(f"{path}.{name}", "unknown_metric", metric=key)
                continue
            info = self.entity(metric.get("entity"), f"{path}.entity")
            numeric = metric.get("aggregate") in ("sum", "avg", "median")
            kinds = DATE_KINDS if metric.get("age") else ("number",) if numeric else None
            self.field(info, metric.get("field"), f"{path}.field", kinds=kinds)
            self.field(info, metric.get("time_field"), f"{path}.time_field", kinds=DATE_KINDS)
            self.logic(metric.get("filter"), f"{path}.filter", info)

    def link_dashboards(self) -> None:
        self.unique_keys(self.app, "dashboards", "")
        for path, dashboard in items(self.app, "dashboards", ""):
            self.unique_keys(dashboard, "widgets", path)
            for widget_path, widget in items(dashboard, "widgets", path):
                metrics = widget.get("metrics")
                for index, key in enumerate(metrics if isinstance(metrics, list) else []):
                    if isinstance(key, str) and key not in self.metrics:
                        self.add(f"{widget_path}.metrics[{index}]", "unknown_metric",
                                 metric=key)

    def link_roles(self) -> None:
        """Permissions name entities (or ``*``) and their fields; a scope condition must
        translate to SQL over each entity it applies to."""
        from builder.runtime.access.policy import scope_problems

        for path, role in items(self.app, "roles", ""):
            for perm_path, permission in items(role, "permissions", path):
                key = permission.get("entity")
                every = key == ALL_ENTITIES
                info = None if every else self.entity(key, f"{perm_path}.entity")
                targets = list(self.entities.values()) if every else [info] if info else []
                scope = permission.get("scope")
                if isinstance(scope, Mapping):
                    before = len(self.problems)
                    if every:  # only the system fields are sure to exist everywhere
                        self.problems.extend(check_logic(scope, f"{perm_path}.scope",
                                                         set(SYSTEM_VARS)))
                    else:
                        self.logic(scope, f"{perm_path}.scope", info)
                    if len(self.problems) == before:
                        for target in targets:
                            self.problems.extend(scope_problems(
                                target.key, target.fields, scope, f"{perm_path}.scope"))
                access = permission.get("fields")
                if not isinstance(access, Mapping):
                    continue
                for name in ("hidden", "readonly"):
                    if not every:
                        self.fields(info, access.get(name), f"{perm_path}.fields.{name}")
                        continue
                    keys = access.get(name)
                    for index, field_key in enumerate(keys if isinstance(keys, list) else []):
                        if isinstance(field_key, str) and not any(
                                field_key in e.fields for e in self.entities.values()):
                            self.add(f"{perm_path}.fields.{name}[{index}]",
                                     "unknown_field", field=field_key, entity=ALL_ENTITIES)


def link(definition: Any) -> list[Problem]:
    """Every unresolved reference and inconsistency in ``definition``, with its JSON path."""
    if not isinstance(definition, Mapping):
        return []
    return Linker(definition).run()
