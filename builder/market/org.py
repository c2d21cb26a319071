"""Roles and teams carried by packages: created by key in the target tenant, with their
members mapped by username.

A package names roles its apps rely on (approvers, permissions); an export also carries
the tenant's teams (assignment pools, "manager of" approvals). What already exists in the
target keeps its title and members; missing members are added when the target has a
user of that name, and reported otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.market.refs import UserMap, UserNames
from builder.platform import service as platform
from builder.platform.models import Role, Team, Tenant, User


def wanted_roles(manifest_roles: Iterable[Mapping[str, Any]],
                 definitions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The manifest's roles, then the roles the apps define, each key once."""
    roles: dict[str, dict[str, Any]] = {}
    for role in manifest_roles:
        roles.setdefault(role["key"], dict(role))
    for definition in definitions:
        for role in definition.get("roles") or []:
            roles.setdefault(role["key"], {"key": role["key"], "title": role.get("title"),
                                           "members": []})
    return list(roles.values())


def _users(tenant_id: int, ids: Iterable[int]) -> list[User]:
    wanted = list(ids)
    if not wanted:
        return []
    return list(db.session.scalars(sa.select(User).where(User.tenant_id == tenant_id,
                                                         User.id.in_(wanted))))


def apply_roles(tenant: Tenant, roles: Sequence[Mapping[str, Any]], users: UserMap
                ) -> dict[str, list[str]]:
    """Create missing roles and add mapped members; ``{"created", "existing"}`` keys."""
    created, existing = [], []
    for role in roles:
        found = platform.get_role(tenant.id, role["key"])
        if found is None:
            found = platform.create_role(tenant, role["key"], role.get("title") or None)
            created.append(role["key"])
        else:
            existing.append(role["key"])
        ids = [users.id_of(name, f"roles.{role['key']}.members")
               for name in role.get("members") or []]
        for user in _users(tenant.id, [i for i in ids if i is not None]):
            if found not in user.roles:
                user.roles.append(found)
    db.session.flush()
    return {"created": created, "existing": existing}


def apply_teams(tenant: Tenant, teams: Sequence[Mapping[str, Any]], users: UserMap
                ) -> dict[str, list[str]]:
    """Create missing teams (parents first), set managers and add mapped members."""
    created, existing = [], []
    by_key = {t.key: t for t in db.session.scalars(
        sa.select(Team).where(Team.tenant_id == tenant.id))}
    pending = list(teams)
    while pending:
        team = next((t for t in pending if not t.get("parent") or t["parent"] in by_key
                     or t["parent"] not in {p["key"] for p in pending}), pending[0])
        pending.remove(team)
        place = f"teams.{team['key']}"
        manager_id = users.id_of(team.get("manager"), f"{place}.manager")
        manager = db.session.get(User, manager_id) if manager_id else None
        members = _users(tenant.id, [i for i in (users.id_of(n, f"{place}.members")
                                                 for n in team.get("members") or [])
                                     if i is not None])
        found = by_key.get(team["key"])
        if found is None:
            found = platform.create_team(tenant, team["key"], team.get("name"),
                                         parent=by_key.get(team.get("parent") or ""),
                                         manager=manager, members=members)
            by_key[found.key] = found
            created.append(found.key)
        else:
            existing.append(found.key)
            platform.update_team(found, members=[*found.members, *members])
    return {"created": created, "existing": existing}


def export_roles(tenant_id: int, names: UserNames, keys: set[str] | None = None
                 ) -> list[dict[str, Any]]:
    """The tenant's roles (or those with ``keys``) with their members' usernames."""
    roles = db.session.scalars(sa.select(Role).where(Role.tenant_id == tenant_id)
                               .order_by(Role.key))
    return [{"key": role.key, "title": role.title or {"zh-CN": role.key},
             "members": sorted(n for n in (names.name(u.id) for u in role.users) if n)}
            for role in roles if keys is None or role.key in keys]


def export_teams(tenant_id: int, names: UserNames) -> list[dict[str, Any]]:
    """The tenant's teams with parent keys, and manager and members by username."""
    teams = list(db.session.scalars(sa.select(Team).where(Team.tenant_id == tenant_id)
                                    .order_by(Team.key)))
    return [{"key": team.key, "name": team.name,
             "parent": team.parent.key if team.parent else None,
             "manager": names.name(team.manager_id),
             "members": sorted(n for n in (names.name(u.id) for u in team.members) if n)}
            for team in teams]
