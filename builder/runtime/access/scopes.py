"""Scopes as SQL: the rows a user reaches in an entity, sub-table rows through their parent.

A sub-table row is part of its parent record: it is reached when its parent is, and
when the parent's sub-table field is readable, whatever the child entity's own scope says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from builder.errors import Forbidden
from builder.i18n import gettext, localized
from builder.runtime.access import policy
from builder.runtime.query.jsonlogic_sql import to_sql
from builder.runtime.query.listing import column_ref
from builder.runtime.rules.evaluator import RuleError
from builder.runtime.storage.tables import EntityStore


def scope_condition(store: EntityStore, scope: Any) -> ColumnElement[bool] | None:
    """A bound scope (``$user`` already replaced) as a WHERE condition on the store's table;
    ``None`` when it reaches every row. A scope that cannot be applied refuses access."""
    if scope is None:
        return None
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    try:
        return to_sql(scope, lambda name: column_ref(store, name), {"$now": now})
    except RuleError as exc:
        entity = localized(store.entity.get("title")) or store.key
        raise Forbidden(gettext("access.error.broken_scope", entity=entity,
                                reason=exc.message)) from None


#: a store's reachable rows (a condition) and the fields readable in them; None: none
Reach = tuple[ColumnElement[bool], frozenset[str]] | None


def parents(stores: Mapping[str, EntityStore]) -> dict[str, tuple[EntityStore, str]]:
    """Child entity key → (parent store, the parent's sub-table field)."""
    found: dict[str, tuple[EntityStore, str]] = {}
    for store in stores.values():
        for key, field_def in store.fields.items():
            if field_def.get("type") == "subtable":
                found.setdefault(str(field_def.get("entity")), (store, key))
    return found


class Reacher:
    """The rows of every entity of one app that one user may read."""

    def __init__(self, stores: Mapping[str, EntityStore], user: Any,
                 user_context: Callable[[], Mapping[str, Any]]) -> None:
        self.stores = stores
        self.user = user
        self.user_context = user_context
        self.parents = parents(stores)
        self._memo: dict[str, Reach] = {}

    def reach(self, store: EntityStore) -> Reach:
        """Live rows of ``store`` the user may read, and the fields hidden in them."""
        if store.key not in self._memo:
            self._memo[store.key] = None  # a cycle of sub-tables (refused by the linker)
            self._memo[store.key] = self._reach(store)
        return self._memo[store.key]

    def _reach(self, store: EntityStore) -> Reach:
        live = store.table.c.deleted == sa.false()
        through = self.through_parent(store)
        if through is not None:
            return sa.and_(live, through), policy.embedded_rights(store, self.user).hidden()
        rights = policy.rights(store, self.user)
        if not rights.allows("read"):
            return None
        scope = rights.scope("read")
        if policy.needs_context(scope):
            scope = policy.bind(scope, {"$user": self.user_context()})
        condition = scope_condition(store, scope)
        return (live if condition is None else sa.and_(live, condition)), rights.hidden()

    def through_parent(self, store: EntityStore) -> ColumnElement[bool] | None:
        """For sub-table rows: those whose parent the user reaches and whose sub-table
        field they may read (``None`` for an entity that is nobody's sub-table)."""
        parent = self.parents.get(store.key)
        if parent is None:
            return None
        parent_store, field_key = parent
        above = self.reach(parent_store)
        if above is None or field_key in above[1]:
            return sa.false()
        return store.table.c.parent_id.in_(
            sa.select(parent_store.table.c.id).where(above[0]))
