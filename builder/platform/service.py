"""Tenants, users, roles, teams and tokens: the platform's business logic.

Functions here never read the HTTP request. They add to and flush ``db.session``; the
caller (an HTTP view, a CLI command, a job) owns the transaction and commits it.
Errors are ``builder.errors`` exceptions with translated messages.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from builder.errors import Conflict, NotFound, Problem, Unauthorized, ValidationFailed
from builder.extensions import db
from builder.i18n import LANGUAGES, gettext
from builder.platform.models import ApiToken, Role, Team, Tenant, User, team_members, utcnow
from builder.runtime.storage import tenancy

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "bld_"
# last_used_at is refreshed at most this often, so reads do not turn into writes.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)

_hasher = PasswordHasher()
# Verified against when the user does not exist, so both failures take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def set_password_hasher(hasher: PasswordHasher) -> None:
    """Swap the argon2 parameters (tests use ``argon2.profiles.CHEAPEST`` for speed).
    Existing hashes keep verifying and are rehashed to the new parameters on login."""
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash(secrets.token_hex(16))


def _invalid(path: str, key: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(gettext("platform.invalid"), [Problem(path, gettext(key, **params))])


# --- tenants -------------------------------------------------------------------------------


def create_tenant(slug: str, name: str | None = None) -> Tenant:
    """Create a tenant and its storage namespace, in the caller's transaction."""
    check_slug(slug)
    if get_tenant(slug) is not None:
        raise Conflict(gettext("platform.tenant_exists", slug=slug),
                       [Problem("slug", gettext("platform.tenant_exists", slug=slug), "duplicate")])
    tenant = Tenant(slug=slug, name=name or slug)
    db.session.add(tenant)
    db.session.flush()
    tenancy.create_namespace(tenant.id)
    return tenant


def check_slug(slug: str) -> None:
    """Refuse a tenant slug that does not have the form of one."""
    if not SLUG_RE.match(slug or ""):
        raise _invalid("slug", "platform.slug_invalid")


def get_tenant(slug: str) -> Tenant | None:
    return db.session.scalar(sa.select(Tenant).where(Tenant.slug == slug))


def list_tenants() -> Sequence[Tenant]:
    return db.session.scalars(sa.select(Tenant).order_by(Tenant.slug)).all()


# --- users ---------------------------------------------------------------------------------


def create_user(
    tenant: Tenant,
    username: str,
    password: str | None = None,
    *,
    display_name: str | None = None,
    email: str | None = None,
    is_tenant_admin: bool = False,
    is_active: bool = True,
    language: str = "zh-CN",
    roles: Iterable[str] = (),
    is_available: bool = True,
) -> User:
    """Create a user of ``tenant``; without a password the user cannot log in until one is set."""
    if not USERNAME_RE.match(username or ""):
        raise _invalid("username", "platform.username_invalid")
    if get_user_by_username(tenant, username) is not None:
        raise Conflict(gettext("platform.user_exists", username=username),
                       [Problem("username", gettext("platform.user_exists", username=username),
                                "duplicate")])
    if language not in LANGUAGES:
        raise _invalid("language", "platform.language_invalid")
    user = User(tenant_id=tenant.id, tenant=tenant, username=username,
                display_name=display_name or username, email=email,
                is_tenant_admin=is_tenant_admin, is_active=is_active, language=language,
                is_available=is_available)
    if password is not None:
        set_password(user, password)
    db.session.add(user)
    set_user_roles(user, roles)
    db.session.flush()
    return user


def update_user(user: User, **changes: Any) -> User:
    """Change a user's profile, flags, language, password (``password``) or roles (``roles``)."""
    if "password" in changes:
        set_password(user, changes.pop("password"))
    if "roles" in changes:
        set_user_roles(user, changes.pop("roles"))
    if "language" in changes and changes["language"] not in LANGUAGES:
        raise _invalid("language", "platform.language_invalid")
    for name in ("display_name", "email", "is_active", "is_tenant_admin", "language",
                 "is_available"):
        if name in changes:
            setattr(user, name, changes.pop(name))
    if changes:
        raise ValueError(f"unknown user attributes: {sorted(changes)}")
    db.session.flush()
    return user


def set_availability(user: User, available: bool) -> User:
    """Mark the user as ready (or not) to receive work: assignment rules that give records
    to available users only skip those who are away."""
    user.is_available = bool(available)
    db.session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Store an argon2 hash of ``password``; refuses passwords that are too short."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise _invalid("password", "platform.password_too_short", min=MIN_PASSWORD_LENGTH)
    user.password_hash = _hasher.hash(password)


def get_user(tenant_id: int, user_id: int) -> User:
    """The user ``user_id`` of the tenant; users of other tenants are simply not found."""
    user = db.session.scalar(
        sa.select(User).where(User.id == user_id, User.tenant_id == tenant_id))
    if user is None:
        raise NotFound(gettext("platform.user_not_found"))
    return user


def get_user_by_username(tenant: Tenant, username: str) -> User | None:
    return db.session.scalar(
        sa.select(User).where(User.tenant_id == tenant.id, User.username == username))


def list_users(tenant_id: int) -> Sequence[User]:
    return db.session.scalars(
        sa.select(User).where(User.tenant_id == tenant_id).order_by(User.username)).all()


def search_people(tenant_id: int, query: str | None = None, limit: int = 50,
                  ids: Sequence[int] | None = None) -> Sequence[User]:
    """Active users of a tenant whose username or display name contains ``query``, by
    username: what a person sees when choosing a colleague. With ``ids``, those users of
    the tenant whether active or not (names of people a record mentions)."""
    statement = sa.select(User).where(User.tenant_id == tenant_id)
    if ids is not None:
        return db.session.scalars(statement.where(User.id.in_(ids)).order_by(User.id)).all()
    statement = statement.where(User.is_active == sa.true())
    if query:
        pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(sa.or_(User.username.ilike(pattern, escape="\\"),
                                           User.display_name.ilike(pattern, escape="\\")))
    return db.session.scalars(statement.order_by(User.username).limit(limit)).all()


def authenticate(tenant_slug: str, username: str, password: str) -> User:
    """The active user with these credentials, or ``Unauthorized`` with one generic message.

    The message never says which part was wrong, and an unknown user costs the same hash
    verification as a wrong password.
    """
    tenant = get_tenant(tenant_slug)
    user = get_user_by_username(tenant, username) if tenant and tenant.is_active else None
    stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
    ok: bool
    try:
        ok = _hasher.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.is_active:
        raise Unauthorized(gettext("platform.login_failed"))
    if user.password_hash and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def is_active_user(user: User | None) -> bool:
    return bool(user and user.is_active and user.tenant.is_active)


# --- tokens --------------------------------------------------------------------------------


def _token_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def issue_token(user: User, name: str = "api") -> tuple[ApiToken, str]:
    """A new bearer token for ``user``: the row and the plaintext, which is never stored."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(tenant_id=user.tenant_id, user_id=user.id, user=user, name=name,
                     token_hash=_token_digest(plaintext))
    db.session.add(token)
    db.session.flush()
    return token, plaintext


def revoke_token(token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()


def is_live_token(user: User, token_id: int) -> bool:
    """Whether ``token_id`` is one of ``user``'s tokens and not revoked."""
    return db.session.scalar(sa.select(ApiToken.id).where(
        ApiToken.id == token_id, ApiToken.user_id == user.id,
        ApiToken.revoked_at.is_(None))) is not None


def list_tokens(user: User) -> Sequence[ApiToken]:
    return db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()


def get_token(user: User, token_id: int) -> ApiToken:
    """One of ``user``'s own tokens; anyone else's is not found."""
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if token is None:
        raise NotFound(gettext("platform.token_not_found"))
    return token


def token_from_plaintext(plaintext: str) -> ApiToken | None:
    """The live token row for a bearer value, touching ``last_used_at``; None if unusable."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(
        sa.select(ApiToken).where(ApiToken.token_hash == _token_digest(plaintext)))
    if token is None or token.revoked_at is not None or not is_active_user(token.user):
        return None
    now = utcnow()
    last = token.last_used_at
    if last is None or now - last > TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
    return token


def user_from_token(plaintext: str) -> User | None:
    """The active user a bearer token belongs to, or None (unknown, revoked, deactivated)."""
    token = token_from_plaintext(plaintext)
    return token.user if token else None


# --- roles ---------------------------------------------------------------------------------


def create_role(tenant: Tenant, key: str, title: dict[str, str] | None = None) -> Role:
    if not KEY_RE.match(key or ""):
        raise _invalid("key", "platform.key_invalid")
    if get_role(tenant.id, key) is not None:
        raise Conflict(gettext("platform.role_exists", code=key),
                       [Problem("key", gettext("platform.role_exists", code=key), "duplicate")])
    role = Role(tenant_id=tenant.id, key=key, title=dict(title or {"zh-CN": key, "en": key}))
    db.session.add(role)
    db.session.flush()
    return role


def get_role(tenant_id: int, key: str) -> Role | None:
    return db.session.scalar(sa.select(Role).where(Role.tenant_id == tenant_id, Role.key == key))


def list_roles(tenant_id: int) -> Sequence[Role]:
    return db.session.scalars(
        sa.select(Role).where(Role.tenant_id == tenant_id).order_by(Role.key)).all()


def set_user_roles(user: User, role_keys: Iterable[str]) -> None:
    """Replace the user's roles by the roles with these keys; every key must exist."""
    keys = list(dict.fromkeys(role_keys))
    found: Iterable[Role] = db.session.scalars(
        sa.select(Role).where(Role.tenant_id == user.tenant_id, Role.key.in_(keys))) if keys else []
    roles = {role.key: role for role in found}
    missing = [k for k in keys if k not in roles]
    if missing:
        raise ValidationFailed(gettext("platform.invalid"), [
            Problem(f"roles[{keys.index(k)}]", gettext("platform.role_not_found", code=k))
            for k in missing])
    user.roles = [roles[k] for k in keys]


# --- teams ---------------------------------------------------------------------------------

_UNSET: Any = object()


def create_team(
    tenant: Tenant,
    key: str,
    name: str | None = None,
    *,
    parent: Team | None = None,
    manager: User | None = None,
    members: Iterable[User] = (),
) -> Team:
    if not KEY_RE.match(key or ""):
        raise _invalid("key", "platform.key_invalid")
    if db.session.scalar(sa.select(Team.id).where(Team.tenant_id == tenant.id,
                                                  Team.key == key)) is not None:
        raise Conflict(gettext("platform.team_exists", code=key),
                       [Problem("key", gettext("platform.team_exists", code=key), "duplicate")])
    team = Team(tenant_id=tenant.id, key=key, name=name or key)
    db.session.add(team)
    update_team(team, parent=parent, manager=manager, members=list(members))
    return team


def update_team(
    team: Team,
    *,
    name: str | None = None,
    parent: Team | None = _UNSET,
    manager: User | None = _UNSET,
    members: Iterable[User] | None = None,
) -> Team:
    """Rename, move under another parent (never under itself or its own sub-teams),
    change the manager or replace the members. Arguments left out stay as they are."""
    for other in (parent, manager, *(members or ())):
        if other not in (None, _UNSET) and other.tenant_id != team.tenant_id:
            raise ValueError("team, parent, manager and members must share one tenant")
    if name is not None:
        team.name = name
    if parent is not _UNSET:
        ancestor = parent
        while ancestor is not None:
            if ancestor is team:
                raise _invalid("parent_id", "platform.team_cycle")
            ancestor = ancestor.parent
        team.parent = parent
    if manager is not _UNSET:
        team.manager = manager
    if members is not None:
        team.members = list(dict.fromkeys(members))
    db.session.flush()
    return team


def get_team(tenant_id: int, team_id: int) -> Team:
    team = db.session.scalar(
        sa.select(Team).where(Team.id == team_id, Team.tenant_id == tenant_id))
    if team is None:
        raise NotFound(gettext("platform.team_not_found"))
    return team


def list_teams(tenant_id: int) -> Sequence[Team]:
    return db.session.scalars(
        sa.select(Team).where(Team.tenant_id == tenant_id).order_by(Team.key)).all()


def team_subtree(team: Team) -> list[Team]:
    """The team and every team below it, parents before children.

    Used for team-scoped visibility: a manager sees the records of the whole subtree.
    """
    teams = list_teams(team.tenant_id)
    children: dict[int | None, list[Team]] = {}
    for t in teams:
        children.setdefault(t.parent_id, []).append(t)
    result: list[Team] = []
    queue = [team]
    seen: set[int] = set()
    while queue:
        current = queue.pop(0)
        if current.id in seen:
            continue
        seen.add(current.id)
        result.append(current)
        queue.extend(children.get(current.id, []))
    return result


def teams_of(user: User) -> list[Team]:
    """The teams a user belongs to: those they are a member of and those they manage."""
    managed = db.session.scalars(
        sa.select(Team).where(Team.tenant_id == user.tenant_id, Team.manager_id == user.id)).all()
    return sorted({t.id: t for t in [*user.teams, *managed]}.values(), key=lambda t: t.key)


def _direct_managers(user: User) -> list[User]:
    """One step up: for each team of the user, the nearest manager who is not the user,
    walking to the parent team when a team has no manager or is managed by the user."""
    found: list[User] = []
    for team in teams_of(user):
        current: Team | None = team
        seen: set[int] = set()
        while current is not None and current.id not in seen:
            seen.add(current.id)
            manager = current.manager
            if manager is not None and manager.id != user.id:
                if manager.is_active and manager not in found:
                    found.append(manager)
                break
            current = current.parent
    return found


def managers_of(user: User, levels: int = 1) -> list[User]:
    """The managers ``levels`` steps above ``user`` in the team hierarchy.

    ``levels=1`` is the manager of the user's team (or, for the team's own manager, the
    parent team's manager); ``levels=2`` is their manager, and so on. A user in several
    teams can have several managers. Empty when the hierarchy ends before.
    Used by "manager of the submitter" approvers.
    """
    if levels < 1:
        raise ValueError("levels must be at least 1")
    current = [user]
    for _ in range(levels):
        step: list[User] = []
        for person in current:
            step.extend(m for m in _direct_managers(person) if m not in step and m is not user)
        current = step
        if not current:
            break
    return current


def user_context(user: User) -> dict[str, Any]:
    """What rules see as ``$user``: identity, role keys, team keys/ids, and the people
    whose records team scopes reach.

    ``team_member_ids`` are the members and managers of the user's teams (those they
    belong to or manage) and of every team below them; ``managed_user_ids`` the same for
    the teams the user manages only. Both include the user. Three queries at most: the
    tenant's teams, the user's memberships and the members of the teams concerned.
    """
    teams = list_teams(user.tenant_id)
    managed = [t for t in teams if t.manager_id == user.id]
    mine = sorted({t.id: t for t in [*user.teams, *managed]}.values(), key=lambda t: t.key)
    children: dict[int | None, list[Team]] = {}
    for team in teams:
        children.setdefault(team.parent_id, []).append(team)

    def below(roots: Iterable[Team]) -> set[int]:
        found: set[int] = set()
        queue = [t.id for t in roots]
        while queue:
            current = queue.pop()
            if current not in found:
                found.add(current)
                queue.extend(child.id for child in children.get(current, []))
        return found

    reach, managed_reach = below(mine), below(managed)
    people: dict[int, set[int]] = {}
    if reach:
        for team_id, user_id in db.session.execute(
                sa.select(team_members.c.team_id, team_members.c.user_id)
                .where(team_members.c.team_id.in_(sorted(reach)))):
            people.setdefault(team_id, set()).add(user_id)
    managers = {t.id: t.manager_id for t in teams if t.manager_id is not None}

    def users_of(team_ids: set[int]) -> list[int]:
        found = {user.id}
        for team_id in team_ids:
            found |= people.get(team_id, set())
            if team_id in managers:
                found.add(managers[team_id])
        return sorted(found)

    return {
        "id": user.id,
        "username": user.username,
        "roles": [role.key for role in user.roles],
        "teams": [team.key for team in mine],
        "team_ids": [team.id for team in mine],
        "team_member_ids": users_of(reach),
        "managed_user_ids": users_of(managed_reach),
        "is_tenant_admin": user.is_tenant_admin,
    }
