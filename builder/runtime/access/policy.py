"""Who may do what with an entity's records, as the app definition's ``roles`` say.

A role of the definition applies to the users holding the tenant role of the same key.
Each of its permissions grants ``actions`` on one entity (or ``*``: every entity), over
the rows its ``scope`` reaches, with some fields ``hidden`` or ``readonly``. Rights are the
union of every grant the user holds:

- an action is allowed when some grant allows it;
- a row is reached for an action when the scope of some grant allowing the action holds
  (a grant without scope reaches every row);
- a field is readable when some grant allowing ``read`` does not hide it, writable when
  some grant allowing ``create`` or ``update`` neither hides it nor makes it read-only.

Tenant admins may do everything. An app whose roles grant no permissions (it may have
none, or use them only to name approvers) is open: everyone in the tenant may do
everything but configure it (only tenant admins do that). Sub-table rows belong to their
parent record: the parent's rights decide what may be done with them, and the child
entity's own permissions only hide fields or make them read-only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem
from builder.runtime.query.jsonlogic_sql import ColumnRef, to_sql
from builder.runtime.query.listing import SYSTEM_KINDS
from builder.runtime.rules.evaluator import RuleError, evaluate
from builder.runtime.storage.tables import EntityStore, system_columns
from builder.schema.definition import ALL_ENTITIES, PERMISSION_ACTIONS, SCOPE_PRESETS
from builder.schema.field_types import field_type_registry, kind_of

ACTIONS = PERMISSION_ACTIONS
WRITE_ACTIONS = frozenset({"create", "update"})
#: the named scopes: ``None`` reaches every row
PRESETS: dict[str, Any] = {
    "all": None,
    "own": {"==": [{"var": "owner"}, {"var": "$user.id"}]},
    "team": {"in": [{"var": "owner"}, {"var": "$user.team_member_ids"}]},
    "managed": {"in": [{"var": "owner"}, {"var": "$user.managed_user_ids"}]},
}
assert set(PRESETS) == set(SCOPE_PRESETS)
#: the scope of an action no grant allows: no row
NO_ROWS = False

FULL, OPEN, GRANTED = "full", "open", "granted"


@dataclass(frozen=True)
class Grant:
    """One permission of one role the user holds, presets expanded."""

    actions: frozenset[str]
    scope: Any
    hidden: frozenset[str]
    readonly: frozenset[str]


def expand_scope(scope: Any) -> Any:
    """A permission's scope as JsonLogic (``None``: every row)."""
    if isinstance(scope, str):
        return PRESETS[scope]
    if scope is True:
        return None
    return scope


def _grant(permission: Mapping[str, Any]) -> Grant:
    access = permission.get("fields") or {}
    return Grant(frozenset(permission.get("actions") or ()),
                 expand_scope(permission.get("scope")),
                 frozenset(access.get("hidden") or ()), frozenset(access.get("readonly") or ()))


@dataclass(frozen=True)
class Rights:
    """What one user may do with the records of one entity."""

    kind: str
    fields: frozenset[str]
    grants: tuple[Grant, ...] = ()

    @property
    def restricted(self) -> bool:
        return self.kind == GRANTED

    def allows(self, action: str) -> bool:
        if self.kind == FULL:
            return True
        if self.kind == OPEN:
            return action != "configure"
        return any(action in g.actions for g in self.grants)

    def scope(self, action: str = "read") -> Any:
        """The rows reached for ``action``: ``None`` (all), ``False`` (none) or JsonLogic,
        still naming ``$user`` (see :func:`bind`)."""
        if not self.restricted:
            return None
        scopes = [g.scope for g in self.grants if action in g.actions]
        if not scopes:
            return NO_ROWS
        if any(s is None for s in scopes):
            return None
        unique = list({json.dumps(s, sort_keys=True): s for s in scopes}.values())
        return unique[0] if len(unique) == 1 else {"or": unique}

    def hidden(self) -> frozenset[str]:
        """Fields the user may not read."""
        if not self.restricted:
            return frozenset()
        sets = [g.hidden for g in self.grants if "read" in g.actions]
        return frozenset.intersection(*sets) & self.fields if sets else self.fields

    def locked(self) -> frozenset[str]:
        """Fields the user may not write."""
        if not self.restricted:
            return frozenset()
        sets = [g.hidden | g.readonly for g in self.grants if g.actions & WRITE_ACTIONS]
        return frozenset.intersection(*sets) & self.fields if sets else self.fields


def _role_keys(user: Any) -> set[str]:
    return {role.key for role in getattr(user, "roles", None) or ()}


def _grants(store: EntityStore, user: Any) -> tuple[Grant, ...]:
    held = _role_keys(user)
    return tuple(_grant(permission)
                 for role in store.app.get("roles") or () if role.get("key") in held
                 for permission in role.get("permissions") or ()
                 if permission.get("entity") in (store.key, ALL_ENTITIES))


def controlled(definition: Mapping[str, Any]) -> bool:
    """Whether the app restricts access: some role of it grants permissions (roles
    without permissions only name approvers or assignment pools)."""
    return any(role.get("permissions") for role in definition.get("roles") or ())


def rights(store: EntityStore, user: Any) -> Rights:
    """The rights of ``user`` (a platform ``User``) on ``store``'s entity."""
    fields = frozenset(store.fields)
    if getattr(user, "is_tenant_admin", False):
        return Rights(FULL, fields)
    if not controlled(store.app):
        return Rights(OPEN, fields)
    return Rights(GRANTED, fields, _grants(store, user))


def embedded_rights(child: EntityStore, user: Any) -> Rights:
    """Field rights over sub-table rows shown inside their parent: the child entity's
    permissions hide fields or make them read-only; without any, nothing is hidden."""
    base = rights(child, user)
    if not base.restricted or not base.grants:
        return Rights(FULL, base.fields)
    every = frozenset(ACTIONS)
    return Rights(GRANTED, base.fields,
                  tuple(Grant(every, None, g.hidden, g.readonly) for g in base.grants))


def can_configure(user: Any, definition: Mapping[str, Any]) -> bool:
    """Whether ``user`` may change the app's definition: tenant admins, and holders of a
    role granting ``configure`` on ``*`` or on every entity of the app."""
    if getattr(user, "is_tenant_admin", False):
        return True
    held = _role_keys(user)
    granted = {permission.get("entity")
               for role in definition.get("roles") or () if role.get("key") in held
               for permission in role.get("permissions") or ()
               if "configure" in (permission.get("actions") or ())}
    if ALL_ENTITIES in granted:
        return True
    entities = {e.get("key") for e in definition.get("entities") or ()}
    return bool(entities) and entities <= granted


# -- $user ----------------------------------------------------------------------------------


def needs_context(logic: Any) -> bool:
    """Whether a rule names a ``$``-value (``$user``...)."""
    return logic is not None and "$" in json.dumps(logic, default=str)


def bind(logic: Any, context: Mapping[str, Any]) -> Any:
    """``logic`` with the ``$``-values of ``context`` (``$user``) replaced by their values,
    so that the result stands alone: ``to_sql(bind(scope, ctx), resolve)`` needs no
    ``$user``. Other ``$``-values (``$now``) stay for the query to bind."""
    if isinstance(logic, list):
        return [bind(item, context) for item in logic]
    if not isinstance(logic, Mapping) or len(logic) != 1:
        return logic
    op, args = next(iter(logic.items()))
    if op == "var":
        name = args[0] if isinstance(args, list) and args else args
        if isinstance(name, str) and name.split(".", 1)[0] in context:
            value = evaluate(logic, context)
            return logic if isinstance(value, Mapping) else value  # no object literals
        return logic
    return {op: bind(args, context)}


# -- checking scopes when a definition is linked --------------------------------------------

_SAMPLE_USER = {"id": 1, "username": "", "roles": [], "teams": [], "team_ids": [],
                "team_member_ids": [1], "managed_user_ids": [1], "is_tenant_admin": False}


def scope_problems(entity_key: str, fields: Mapping[str, Mapping[str, Any]], scope: Any,
                   path: str) -> list[Problem]:
    """Why a scope condition cannot become SQL over the entity (empty when it can)."""
    columns: dict[str, ColumnRef] = {}
    table = sa.Table(f"scope_{entity_key}", sa.MetaData(), *system_columns())
    for name, kind in SYSTEM_KINDS.items():
        columns[name] = ColumnRef(table.c[name], kind)
    for key, field_def in fields.items():
        try:
            field_type = field_type_registry.get(str(field_def.get("type")))
            if field_type.has_column:
                column = sa.Column(key, field_type.column_type(field_def))
                table.append_column(column)
                columns[key] = ColumnRef(column, kind_of(field_def))
        except Exception:  # a broken field is reported elsewhere; skip the check
            return []
    context = {"$user": _SAMPLE_USER, "$now": datetime.now(UTC).isoformat()}
    try:
        to_sql(expand_scope(scope), columns.get, context)
    except RuleError as exc:
        return [Problem(f"{path}.{p.path}", p.message, "scope") for p in exc.details] or [
            Problem(path, exc.message, "scope")]
    return []
