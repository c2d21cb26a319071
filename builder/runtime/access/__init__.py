"""Role-based access to records, driven by the app definition's ``roles``.

What a user may do with an entity (``create``, ``read``, ``update``, ``delete``,
``export``, ``import``, ``approve``, ``configure``), which rows they reach (a scope:
JsonLogic over the record and ``$user``) and which fields they may read and write. The
rules are in ``policy``, their SQL in ``scopes``; ``Gate`` applies them inside
``RecordService``; ``guard`` refuses writes to locked fields; ``reach`` decides downloads.

The functions here are the contract other parts call. They answer for a person: engines
that write on their own account do so inside ``events.acting(...)`` or without a user,
and the records service lets those writes through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.sql import ColumnElement

from builder.errors import Problem, ValidationFailed
from builder.i18n import gettext
from builder.runtime.access import gate, guard, policy
from builder.runtime.access.gate import Gate, forbidden
from builder.runtime.access.policy import ACTIONS, Rights
from builder.runtime.access.reach import can_read_file
from builder.runtime.access.scopes import scope_condition
from builder.runtime.storage.tables import EntityStore, sibling_stores


def rights(store: EntityStore, user: Any) -> Rights:
    """Everything ``user`` may do with ``store``'s entity (see ``policy.Rights``)."""
    return policy.rights(store, user)


def can(user: Any, store: EntityStore, action: str) -> bool:
    """Whether the user's roles allow ``action`` (one of ``ACTIONS``) on the entity."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return policy.rights(store, user).allows(action)


def require(user: Any, store: EntityStore, action: str) -> None:
    """``Forbidden`` (403, saying which action on which entity) unless ``can``."""
    if not can(user, store, action):
        raise forbidden(store, action)


def row_scope(store: EntityStore, user: Any, action: str = "read",
              context: Mapping[str, Any] | None = None) -> Any:
    """The rows the user reaches for ``action``, as JsonLogic that stands alone (``$user``
    is already replaced by its values): ``None`` means every row, ``False`` none.

    Apply it with ``to_sql(scope, resolve)`` and AND it with anything else, as lists,
    counts and dashboards do. ``context`` is the user's ``$user`` when the caller has it.
    """
    scope = policy.rights(store, user).scope(action)
    if policy.needs_context(scope):
        if context is None:
            from builder.platform.service import user_context

            context = user_context(user)
        scope = policy.bind(scope, {"$user": context})
    return scope


def row_condition(store: EntityStore, user: Any, action: str = "read"
                  ) -> ColumnElement[bool] | None:
    """``row_scope`` as a WHERE condition on the entity's table (``None``: every row)."""
    return scope_condition(store, row_scope(store, user, action))


def require_record(user: Any, store: EntityStore, record_id: int, action: str = "read") -> None:
    """Refuse ``action`` on one record as the records API does: 403 for an action the role
    does not allow, 404 for a record outside the user's read scope, 403 for a record they
    may read but not act on."""
    from builder.platform.service import user_context

    Gate(store, user, sibling_stores(store), lambda: user_context(user)).require_record(
        record_id, action)


def readable_fields(store: EntityStore, user: Any) -> set[str]:
    """Keys of the entity's fields the user may read."""
    return set(store.fields) - policy.rights(store, user).hidden()


def writable_fields(store: EntityStore, user: Any) -> set[str]:
    """Keys of the entity's fields the user may write."""
    return set(store.fields) - policy.rights(store, user).locked()


def require_writable(user: Any, store: EntityStore, keys: Mapping[str, Any]) -> None:
    """Refuse (403, one problem per path) field keys the user may not write; ``keys`` maps
    where each key was given (``mapping.成本``) to the key. Other values are ignored."""
    rights_ = policy.rights(store, user)
    locked, hidden = rights_.locked(), rights_.hidden()
    problems = [Problem(path, gettext("access.error.field_hidden"), "hidden") if key in hidden
                else Problem(path, gettext("access.error.field_read_only"), "read_only")
                for path, key in keys.items() if isinstance(key, str) and key in locked]
    if problems:
        raise guard.FieldsForbidden(gettext("access.error.fields"), problems)


def require_readable(user: Any, store: EntityStore, keys: Mapping[str, Any]) -> None:
    """Refuse (422, as unknown fields) field keys the user may not read, so that no sum,
    group or filter reveals them; ``keys`` maps where each key was given to the key."""
    hidden = policy.rights(store, user).hidden()
    problems = [Problem(path, gettext("records.error.unknown_field", field=key), "unknown")
                for path, key in keys.items() if isinstance(key, str) and key in hidden]
    if problems:
        raise ValidationFailed(gettext("records.error.invalid"), problems)


def scoped_filter(user: Any, store: EntityStore, record_filter: Any, path: str = "filter",
                  action: str = "read") -> Any:
    """A record filter the user may run, for aggregates and drill-downs that take one:
    fields they may not read are refused (422 at ``path``) and the result is ANDed with
    their scope for ``action`` (``None`` when nothing limits it)."""
    require_readable(user, store, {f"{path}.{name}": name.split(".", 1)[0]
                                   for name in _var_names(record_filter)})
    scope = row_scope(store, user, action)
    if scope is None:
        return record_filter
    return scope if record_filter is None else {"and": [scope, record_filter]}


def _var_names(logic: Any) -> set[str]:
    if isinstance(logic, list):
        return {name for item in logic for name in _var_names(item)}
    if not isinstance(logic, Mapping):
        return set()
    names = set()
    for op, args in logic.items():
        name = args[0] if op == "var" and isinstance(args, list) and args else args
        if op == "var" and isinstance(name, str):
            names.add(name)
        else:
            names |= _var_names(args)
    return names


def redact(store: EntityStore, user: Any, record: Any) -> Any:
    """A copy of ``record`` without the fields the user may not read (sub-table rows too)."""
    return gate.redact(store, sibling_stores(store), user, record)


def can_configure(user: Any, definition: Mapping[str, Any]) -> bool:
    """Whether the user may change the app: tenant admins, or a role granting
    ``configure`` on ``*`` or on every entity of the app."""
    return policy.can_configure(user, definition)


__all__ = [
    "ACTIONS", "Gate", "Rights", "can", "can_configure", "can_read_file", "guard",
    "readable_fields", "redact", "require", "require_readable", "require_record",
    "require_writable", "rights", "row_condition", "row_scope", "scoped_filter",
    "writable_fields",
]
