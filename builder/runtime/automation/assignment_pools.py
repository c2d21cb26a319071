"""Who can receive records, and the shared state that decides who is next.

Everything here is read from (or locked in) the database, never kept in memory between
calls, so any number of web and worker processes assign consistently:

- ``pool_members``: the active users a pool names (users, a team with its sub-teams, a role).
- ``available``: those of them marked available (``User.is_available``).
- ``open_loads``: how many open records each user holds, counted in SQL with the rule's
  ``open`` condition.
- cursors: ``lock_rule`` takes the rule's row lock (held until the transaction ends), which
  serializes every assignment under the rule; ``last_assignee``/``advance`` keep the
  round-robin position of a scope; ``lock_claimer`` serializes one user's claims so that a
  claim limit holds under concurrent requests.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from builder.database import utcnow
from builder.extensions import db
from builder.platform.models import Role, Team, User, team_members, user_roles
from builder.platform.service import team_subtree
from builder.runtime.automation.assignment_models import AssignmentCursor
from builder.runtime.query.jsonlogic_sql import to_sql
from builder.runtime.query.listing import column_ref
from builder.runtime.storage.tables import EntityStore

RULE_SCOPE = ""
cursors = AssignmentCursor.__table__


def assignee_column(store: EntityStore, field: str) -> sa.Column[Any]:
    """The column holding the assignee: the system ``owner`` or a user field's column."""
    return store.table.c.owner if field == "owner" else store.columns[field]


# -- pools ----------------------------------------------------------------------------------


def pool_members(tenant_id: int, pool: Mapping[str, Any] | None) -> list[int]:
    """Ids (ascending) of the active users of ``pool``: the named ``users`` (ids or
    usernames), plus the members of ``team`` and its sub-teams holding ``role`` (either
    one alone: all its members or holders). Unknown names select nobody."""
    if not pool:
        return []
    active = sa.select(User.id).where(User.tenant_id == tenant_id, User.is_active == sa.true())
    found: set[int] = set()
    named = pool.get("users") or []
    if named:
        ids = [u for u in named if isinstance(u, int) and not isinstance(u, bool)]
        names = [u for u in named if isinstance(u, str)]
        found.update(db.session.scalars(active.where(
            sa.or_(User.id.in_(ids), User.username.in_(names)))))
    team_key, role_key = pool.get("team"), pool.get("role")
    if team_key or role_key:
        selection = active
        if team_key:
            team = db.session.scalar(sa.select(Team).where(Team.tenant_id == tenant_id,
                                                           Team.key == team_key))
            team_ids = [t.id for t in team_subtree(team)] if team is not None else []
            selection = selection.where(User.id.in_(
                sa.select(team_members.c.user_id).where(team_members.c.team_id.in_(team_ids))))
        if role_key:
            selection = selection.where(User.id.in_(
                sa.select(user_roles.c.user_id).join(Role, Role.id == user_roles.c.role_id)
                .where(Role.tenant_id == tenant_id, Role.key == role_key)))
        found.update(db.session.scalars(selection))
    return sorted(found)


def available(tenant_id: int, user_ids: Iterable[int]) -> list[int]:
    """The users among ``user_ids`` who are active and marked available, ascending."""
    ids = list(user_ids)
    if not ids:
        return []
    return sorted(db.session.scalars(sa.select(User.id).where(
        User.tenant_id == tenant_id, User.id.in_(ids), User.is_active == sa.true(),
        User.is_available == sa.true())))


def open_loads(store: EntityStore, field: str, user_ids: Sequence[int], open_logic: Any,
               context: Mapping[str, Any]) -> dict[int, int]:
    """User id → how many live records matching ``open_logic`` (all when ``None``) hold
    that user in ``field``; one GROUP BY in the database."""
    if not user_ids:
        return {}
    column = assignee_column(store, field)
    query = sa.select(column, sa.func.count()).where(
        store.table.c.deleted == sa.false(), column.in_(list(user_ids)))
    if open_logic is not None:
        query = query.where(to_sql(open_logic, lambda name: column_ref(store, name), context))
    loads = {int(user): int(count) for user, count in db.session.execute(query.group_by(column))}
    return {user: loads.get(user, 0) for user in user_ids}


def in_rotation(candidates: Sequence[int], last: int | None) -> list[int]:
    """``candidates`` (ascending ids) starting with the first after ``last``, wrapping."""
    if last is None:
        return list(candidates)
    after = [c for c in candidates if c > last]
    return after + [c for c in candidates if c <= last]


# -- cursors --------------------------------------------------------------------------------


def _where(tenant_id: int, app_key: str, rule_key: str, scope: str) -> Any:
    return sa.and_(cursors.c.tenant_id == tenant_id, cursors.c.app_key == app_key,
                   cursors.c.rule_key == rule_key, cursors.c.scope == scope)


def _cursor(tenant_id: int, app_key: str, rule_key: str, scope: str) -> Mapping[Any, Any]:
    """The cursor row, created if missing, locked until the transaction ends."""
    where = _where(tenant_id, app_key, rule_key, scope)
    locked = sa.select(cursors).where(where).with_for_update()
    row = db.session.execute(locked).mappings().first()
    if row is not None:
        return row
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(cursors).values(
        tenant_id=tenant_id, app_key=app_key, rule_key=rule_key, scope=scope, turns=0,
        updated_at=utcnow()).on_conflict_do_nothing(
        index_elements=["tenant_id", "app_key", "rule_key", "scope"]))
    return db.session.execute(locked).mappings().one()


def lock_rule(tenant_id: int, app_key: str, rule_key: str) -> None:
    """Serialize the assignments of one rule: held until the caller's transaction ends."""
    _cursor(tenant_id, app_key, rule_key, RULE_SCOPE)


def lock_claimer(tenant_id: int, app_key: str, rule_key: str, user_id: int) -> None:
    """Serialize one user's claims under a rule, so that a claim limit cannot be overrun."""
    _cursor(tenant_id, app_key, rule_key, f"claim:{user_id}")


def last_assignee(tenant_id: int, app_key: str, rule_key: str, scope: str) -> int | None:
    """Who got the previous record in this scope (round-robin position)."""
    last: int | None = _cursor(tenant_id, app_key, rule_key, scope)["last_user_id"]
    return last


def advance(tenant_id: int, app_key: str, rule_key: str, scope: str, user_id: int) -> None:
    """Record that ``user_id`` got the latest record in this scope."""
    db.session.execute(sa.update(cursors).where(_where(tenant_id, app_key, rule_key, scope))
                       .values(last_user_id=user_id, turns=cursors.c.turns + 1,
                               updated_at=utcnow()))
