"""Applying a user's rights to records: action checks, row scopes, redaction.

``Gate`` is what the records service holds for its user; ``redact`` and ``visible_store``
are the pieces other parts reuse.
A record outside the user's read scope is answered like one that does not exist (404); a
record the user may read but not change is a 403.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from builder.errors import Forbidden, NotFound
from builder.extensions import db
from builder.i18n import gettext, localized
from builder.runtime.access import policy
from builder.runtime.access.scopes import Reacher, scope_condition
from builder.runtime.records import rows
from builder.runtime.records.events import acting_engine
from builder.runtime.storage.tables import EntityStore

Record = dict[str, Any]


def forbidden(store: EntityStore, action: str) -> Forbidden:
    """The 403 of an action the user's roles do not allow on the entity."""
    entity = localized(store.entity.get("title")) or store.key
    return Forbidden(gettext("access.error.forbidden", action=gettext(f"access.action.{action}"),
                             entity=entity), action=action, entity=store.key)


def visible_store(store: EntityStore, hidden: frozenset[str]) -> EntityStore:
    """The store as a user sees it: hidden fields cannot be shown, filtered, sorted or
    searched."""
    if not hidden:
        return store
    return dataclasses.replace(
        store, fields={k: v for k, v in store.fields.items() if k not in hidden},
        columns={k: v for k, v in store.columns.items() if k not in hidden})


def redact(store: EntityStore, stores: Mapping[str, EntityStore], user: Any, record: Any,
           hidden: frozenset[str] | None = None) -> Any:
    """A copy of ``record`` without the fields ``user`` may not read, sub-table rows
    included; other values are returned as they are."""
    if not isinstance(record, Mapping):
        return record
    if hidden is None:
        hidden = policy.rights(store, user).hidden()
    out = {k: v for k, v in record.items() if k not in hidden}
    for key, field_def in rows.subtable_fields(store).items():
        child = stores.get(str(field_def.get("entity")))
        if child is None or not isinstance(out.get(key), list):
            continue
        child_hidden = policy.embedded_rights(child, user).hidden()
        out[key] = [redact(child, stores, user, row, child_hidden) for row in out[key]]
    return out


class Gate:
    """The access checks of one ``RecordService``: its user's rights on its entity.

    Engines pass freely: a service without user, or any call made inside
    ``events.acting(...)``, is not restricted by a person's role.
    """

    def __init__(self, store: EntityStore, user: Any, stores: Mapping[str, EntityStore],
                 user_context: Callable[[], Mapping[str, Any]]) -> None:
        self.store = store
        self.user = user
        self.stores = stores
        self._user_context = user_context

    @property
    def bypassed(self) -> bool:
        return self.user is None or acting_engine() is not None

    @cached_property
    def rights(self) -> policy.Rights:
        return policy.rights(self.store, self.user)

    @property
    def restricted(self) -> bool:
        return not self.bypassed and self.rights.restricted

    def require(self, action: str) -> None:
        """403 unless the user's roles allow ``action`` on the entity."""
        if not self.bypassed and not self.rights.allows(action):
            raise forbidden(self.store, action)

    def scope(self, action: str = "read") -> Any:
        """The rows reached for ``action`` as standalone JsonLogic (``None``: all)."""
        if not self.restricted:
            return None
        scope = self.rights.scope(action)
        if policy.needs_context(scope):
            scope = policy.bind(scope, {"$user": self._user_context()})
        return scope

    def condition(self, action: str = "read") -> ColumnElement[bool] | None:
        """The scope as a WHERE condition; sub-table rows also need a parent the user
        reaches."""
        own = scope_condition(self.store, self.scope(action))
        if not self.restricted:
            return own
        through = Reacher(self.stores, self.user, self._user_context).through_parent(
            self.store)
        if through is None:
            return own
        return through if own is None else sa.and_(own, through)

    def require_record(self, record_id: Any, action: str = "read") -> None:
        """Refuse ``action`` on one record: 403 when the role does not allow the action,
        404 when the record is outside what the user may read, 403 when they may read it
        but the action's scope does not reach it."""
        self.require(action)
        if not self.restricted:
            return
        if not (isinstance(record_id, int) and 0 < record_id <= rows.MAX_ID) or \
                not self._reaches(record_id, "read"):
            raise NotFound(gettext("records.error.not_found"))
        if action != "read" and not self._reaches(record_id, action):
            raise forbidden(self.store, action)

    def _reaches(self, record_id: int, action: str) -> bool:
        condition = self.condition(action)
        if condition is None:
            return True
        table = self.store.table
        return db.session.execute(sa.select(table.c.id).where(
            table.c.id == record_id, condition)).first() is not None

    def reveals(self, key: str, record_id: int) -> bool:
        """Whether naming the record that holds a value of ``key`` (its title) tells the
        user only what they may read: the field and the title are readable and the record
        is within their read scope."""
        if self.bypassed:
            return True
        if not self.rights.allows("read"):
            return False
        title = self.store.entity.get("title_field")
        if key in self.hidden or (isinstance(title, str) and title in self.hidden):
            return False
        return not self.restricted or self._reaches(record_id, "read")

    @cached_property
    def hidden(self) -> frozenset[str]:
        return self.rights.hidden() if self.restricted else frozenset()

    @property
    def view(self) -> EntityStore:
        """The store without the fields the user may not read."""
        return self.store if self.bypassed else visible_store(self.store, self.hidden)

    def redact(self, record: Any) -> Any:
        if self.bypassed:
            return record
        return redact(self.store, self.stores, self.user, record, self.hidden)

    def redact_history(self, entries: list[Record]) -> list[Record]:
        """Audit entries without hidden fields in ``before``, ``after`` and ``changes``."""
        if self.bypassed:
            return entries
        result = []
        for entry in entries:
            changes = {key: [self._value(key, old), self._value(key, new)]
                       for key, (old, new) in (entry.get("changes") or {}).items()
                       if key not in self.hidden}
            result.append(dict(entry, before=self.redact(entry.get("before")),
                               after=self.redact(entry.get("after")), changes=changes))
        return result

    def _value(self, key: str, value: Any) -> Any:
        """One changed value: sub-table rows lose their hidden fields too."""
        if isinstance(value, list) and key in rows.subtable_fields(self.store):
            return self.redact({key: value})[key]
        return value
