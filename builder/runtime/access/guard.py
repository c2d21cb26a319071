"""Refusing writes to fields a person may not write, as a record guard.

A hidden field may not appear in the input at all (even with its current value: the answer
would tell the value); a read-only field may be sent back unchanged, as read, but not
changed. Sub-table rows are checked against the child entity's field rights. Engines
(``events.acting``) and writes without a user pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.errors import AppError, Problem
from builder.i18n import gettext
from builder.runtime.access import policy
from builder.runtime.records import events, rows
from builder.runtime.storage.tables import EntityStore
from builder.schema.field_types import field_type_registry


class FieldsForbidden(AppError):
    """A 403 listing each field the user may not write, at its path."""

    def __init__(self, message: str, details: list[Problem]) -> None:
        super().__init__(message, details, "forbidden", 403, {})


def _changed(before: Mapping[str, Any] | None, after: Mapping[str, Any],
             keys: frozenset[str]) -> set[str]:
    old = before or {}
    return {k for k in keys if after.get(k) != old.get(k) and
            (before is not None or after.get(k) not in (None, []))}


def field_problems(store: EntityStore, stores: Mapping[str, EntityStore],
                   rights: policy.Rights, user: Any, data: Mapping[str, Any] | None,
                   before: Mapping[str, Any] | None, after: Mapping[str, Any],
                   changed: set[str] | frozenset[str], path: str) -> list[Problem]:
    """Every field of one record (and its sub-table rows) written against ``rights``."""
    problems: list[Problem] = []
    locked, hidden = rights.locked(), rights.hidden()
    for key in sorted(locked):
        field_def = store.fields[key]
        if field_type_registry.get(field_def["type"]).computed:
            continue
        given = data is None or key in data
        if key in hidden and data is not None and key in data:
            problems.append(Problem(f"{path}{key}", gettext("access.error.field_hidden"),
                                    "hidden"))
        elif given and key in changed:
            problems.append(Problem(f"{path}{key}", gettext("access.error.field_read_only"),
                                    "read_only"))
    if data is None:
        return problems
    for key, field_def in rows.subtable_fields(store).items():
        child = stores.get(str(field_def.get("entity")))
        items = data.get(key)
        if key in locked or child is None or not isinstance(items, list):
            continue
        child_rights = policy.embedded_rights(child, user)
        if not child_rights.restricted:
            continue
        olds = {r.get("id"): r for r in (before or {}).get(key) or []}
        news = after.get(key) or []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping) or index >= len(news):
                continue
            old = olds.get(item.get("id")) if item.get("id") is not None else None
            new = news[index]
            problems += field_problems(child, stores, child_rights, user, item, old, new,
                                       _changed(old, new, frozenset(child.fields)),
                                       f"{path}{key}[{index}].")
    return problems


@events.record_hooks.guard("access.fields", priority=10)
def refuse_locked_fields(change: events.RecordChange) -> None:
    """The guard: a person's create or update touching fields they may not write."""
    if change.engine is not None or change.user is None or \
            change.action not in (events.CREATE, events.UPDATE):
        return
    rights = policy.rights(change.store, change.user)
    if not rights.restricted:
        return
    problems = field_problems(change.store, change.stores, rights, change.user, change.input,
                              change.before, change.after, change.changed, change.path)
    if problems:
        raise FieldsForbidden(gettext("access.error.fields"), problems)
