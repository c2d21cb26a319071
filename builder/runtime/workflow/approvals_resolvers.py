"""Approver resolvers: who approves a step, worked out when the run reaches the step.

One class per ``approver.type`` of the definition, in ``approver_resolvers``:

- ``user``: the named users (``users``: ids of the tenant's users);
- ``role``: every user holding the platform role ``role`` (``admin``: the tenant admins);
- ``manager_of``: the manager ``levels`` steps up the team tree (``managers_of``) of the
  submitter (``of: "submitter"``, the default), of the record's owner (``"owner"``) or of
  the user in a user field of the record (``of: <field key>``);
- ``field``: the user in a user field of the record.

Resolvers return active users of the tenant only, in a stable order; an empty list means
nobody could be found, which the engine never treats as an approval.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.platform.models import Role, User, user_roles
from builder.platform.service import managers_of
from builder.registry import Registrable, Registry


@dataclass(frozen=True)
class ResolveContext:
    """What a resolver may look at: the tenant, the record and who submitted it."""

    tenant_id: int
    record: Mapping[str, Any]
    submitter: User | None


class ApproverResolver(Registrable):
    """Turns an ``approver`` object of a step into the users who may decide it."""

    def resolve(self, spec: Mapping[str, Any], ctx: ResolveContext) -> list[User]:
        raise NotImplementedError


approver_resolvers: Registry[ApproverResolver] = Registry("approver resolver")


def users_by_id(tenant_id: int, ids: Iterable[Any]) -> list[User]:
    """The active users of the tenant with these ids, in the order given."""
    wanted = [i for i in dict.fromkeys(ids) if isinstance(i, int) and not isinstance(i, bool)]
    if not wanted:
        return []
    found = {u.id: u for u in db.session.scalars(sa.select(User).where(
        User.tenant_id == tenant_id, User.id.in_(wanted), User.is_active.is_(True)))}
    return [found[i] for i in wanted if i in found]


def _field_user_ids(record: Mapping[str, Any], key: Any) -> list[Any]:
    value = record.get(key) if isinstance(key, str) else None
    values = value if isinstance(value, list) else [value]
    return [v.get("id") if isinstance(v, Mapping) else v for v in values if v is not None]


@approver_resolvers.register
class NamedUsers(ApproverResolver):
    type = "user"

    def resolve(self, spec: Mapping[str, Any], ctx: ResolveContext) -> list[User]:
        return users_by_id(ctx.tenant_id, spec.get("users") or [])


@approver_resolvers.register
class RoleHolders(ApproverResolver):
    type = "role"

    def resolve(self, spec: Mapping[str, Any], ctx: ResolveContext) -> list[User]:
        role = spec.get("role")
        holders = sa.select(user_roles.c.user_id).join(Role, Role.id == user_roles.c.role_id) \
            .where(Role.tenant_id == ctx.tenant_id, Role.key == role)
        condition: sa.ColumnElement[bool] = User.id.in_(holders)
        if role == "admin":
            condition = sa.or_(condition, User.is_tenant_admin.is_(True))
        return list(db.session.scalars(sa.select(User).where(
            User.tenant_id == ctx.tenant_id, User.is_active.is_(True), condition)
            .order_by(User.id)))


@approver_resolvers.register
class ManagerOf(ApproverResolver):
    type = "manager_of"

    def resolve(self, spec: Mapping[str, Any], ctx: ResolveContext) -> list[User]:
        whose = spec.get("of") or "submitter"
        if whose == "submitter":
            people = [ctx.submitter] if ctx.submitter is not None else []
        elif whose == "owner":
            people = users_by_id(ctx.tenant_id, [ctx.record.get("owner")])
        else:
            people = users_by_id(ctx.tenant_id, _field_user_ids(ctx.record, whose))
        levels = spec.get("levels") or 1
        found: list[User] = []
        for person in people:
            found.extend(m for m in managers_of(person, levels) if m not in found)
        return found


@approver_resolvers.register
class FieldUser(ApproverResolver):
    type = "field"

    def resolve(self, spec: Mapping[str, Any], ctx: ResolveContext) -> list[User]:
        return users_by_id(ctx.tenant_id, _field_user_ids(ctx.record, spec.get("field")))


def resolve_approvers(spec: Mapping[str, Any], ctx: ResolveContext) -> list[User]:
    """The users an ``approver`` object names for this record, via its type's resolver."""
    return approver_resolvers.get(str(spec.get("type"))).resolve(spec, ctx)
