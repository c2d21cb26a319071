"""HTTP views of the platform: log in, tokens, and the tenant admin's users, roles and teams.

Views parse input, check who is calling, call ``service`` and commit. Everything is
scoped to the caller's tenant: ids of other tenants are answered like unknown ids.
"""

from __future__ import annotations

from typing import Any

from flask import session
from flask_login import login_user, logout_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from builder.errors import NotFound, Problem, Unauthorized, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.platform import service, sessions
from builder.platform.auth import (
    current_tenant_id,
    current_token,
    current_user_or_none,
    login_required_api,
    require_user,
    tenant_admin_required,
)
from builder.platform.models import Team, User
from builder.platform.schemas import (
    AvailabilityIn,
    LoginIn,
    LoginOut,
    MeOut,
    RoleIn,
    RoleOut,
    TeamCreateIn,
    TeamOut,
    TeamPatchIn,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UserCreateIn,
    UserOut,
    UserPatchIn,
)

auth_blp = Blueprint("auth", __name__, url_prefix="/api/auth",
                     description="Log in and out, the current user, API tokens.")
admin_blp = Blueprint("admin", __name__, url_prefix="/api/admin",
                      description="Users, roles and teams of the caller's tenant (tenant admins).")


# --- auth ----------------------------------------------------------------------------------


@auth_blp.route("/login", methods=["POST"])
@auth_blp.arguments(LoginIn)
@auth_blp.response(200, LoginOut)
def login(data: dict[str, Any]) -> dict[str, Any]:
    """Log in with tenant, username and password: returns a bearer token and starts a session.

    Too many failures for the user or from the client's address: 429 with ``Retry-After``."""
    tenant, username = data["tenant"], data["username"]
    sessions.refuse_throttled_login(tenant, username)
    try:
        user = service.authenticate(tenant, username, data["password"])
    except Unauthorized:
        db.session.rollback()
        sessions.count_failed_login(tenant, username)
        raise
    sessions.forget_failed_logins(tenant, username)
    token, plaintext = service.issue_token(user, "login")
    db.session.commit()
    login_user(user)
    sessions.start(token.id)
    return {"token": plaintext, "user": user}


@auth_blp.route("/logout", methods=["POST"])
@auth_blp.response(204)
def logout() -> None:
    """End the session; a bearer token used for this call is revoked, and so is the token
    the session was bound to, so the session cookie is dead everywhere at once."""
    token = current_token()
    if token is not None:
        service.revoke_token(token)
    user = current_user_or_none()
    session_token = sessions.session_token_id()
    if user is not None and session_token is not None and token is None:
        service.revoke_token(service.get_token(user, session_token))
    db.session.commit()
    logout_user()
    session.clear()


@auth_blp.route("/me", methods=["GET"])
@login_required_api
@auth_blp.response(200, MeOut)
def me() -> User:
    return require_user()


class PersonOut(Schema):
    id = fields.Integer()
    username = fields.String()
    name = fields.Function(lambda user: user.display_name or user.username)


class PeopleArgs(Schema):
    q = fields.String(load_default=None, validate=validate.Length(max=100),
                      metadata={"description": "Part of a username or display name"})
    ids = fields.String(load_default=None, validate=validate.Regexp(r"^\d{1,10}(,\d{1,10}){0,99}$"),
                        metadata={"description": "Comma-separated user ids (at most 100)"})


@auth_blp.route("/people", methods=["GET"])
@login_required_api
@auth_blp.arguments(PeopleArgs, location="query")
@auth_blp.response(200, PersonOut(many=True))
def people(args: dict[str, Any]) -> Any:
    """Active users of my tenant (id, username, name), for choosing a colleague: a
    delegate, a user field's value (at most 50, by username); with ``ids``, those users
    (active or not), to show the names behind user fields."""
    ids = [int(i) for i in args["ids"].split(",")] if args.get("ids") else None
    return service.search_people(current_tenant_id(), args.get("q"), ids=ids)


@auth_blp.route("/me/availability", methods=["PUT"])
@login_required_api
@auth_blp.arguments(AvailabilityIn)
@auth_blp.response(200, MeOut)
def set_availability(data: dict[str, Any]) -> User:
    """Say whether you are available to receive work (records assigned to you)."""
    user = service.set_availability(require_user(), data["available"])
    db.session.commit()
    return user


@auth_blp.route("/tokens", methods=["GET"])
@login_required_api
@auth_blp.response(200, TokenOut(many=True))
def list_tokens() -> Any:
    return service.list_tokens(require_user())


@auth_blp.route("/tokens", methods=["POST"])
@login_required_api
@auth_blp.arguments(TokenIn)
@auth_blp.response(201, TokenCreatedOut)
def create_token(data: dict[str, Any]) -> dict[str, Any]:
    """A new API token for the caller; its value is in this response only."""
    token, plaintext = service.issue_token(require_user(), data["name"])
    db.session.commit()
    return {"id": token.id, "name": token.name, "created_at": token.created_at,
            "last_used_at": None, "revoked_at": None, "token": plaintext}


@auth_blp.route("/tokens/<int:token_id>", methods=["DELETE"])
@login_required_api
@auth_blp.response(204)
def revoke_token(token_id: int) -> None:
    service.revoke_token(service.get_token(require_user(), token_id))
    db.session.commit()


# --- admin: users --------------------------------------------------------------------------


def _tenant() -> Any:
    return require_user().tenant


@admin_blp.route("/users", methods=["GET"])
@tenant_admin_required
@admin_blp.response(200, UserOut(many=True))
def list_users() -> Any:
    return service.list_users(current_tenant_id())


@admin_blp.route("/users", methods=["POST"])
@tenant_admin_required
@admin_blp.arguments(UserCreateIn)
@admin_blp.response(201, UserOut)
def create_user(data: dict[str, Any]) -> User:
    user = service.create_user(_tenant(), data.pop("username"), data.pop("password", None), **data)
    db.session.commit()
    return user


@admin_blp.route("/users/<int:user_id>", methods=["GET"])
@tenant_admin_required
@admin_blp.response(200, UserOut)
def get_user(user_id: int) -> User:
    return service.get_user(current_tenant_id(), user_id)


@admin_blp.route("/users/<int:user_id>", methods=["PATCH"])
@tenant_admin_required
@admin_blp.arguments(UserPatchIn)
@admin_blp.response(200, UserOut)
def update_user(data: dict[str, Any], user_id: int) -> User:
    user = service.update_user(service.get_user(current_tenant_id(), user_id), **data)
    db.session.commit()
    return user


# --- admin: roles --------------------------------------------------------------------------


@admin_blp.route("/roles", methods=["GET"])
@tenant_admin_required
@admin_blp.response(200, RoleOut(many=True))
def list_roles() -> Any:
    return service.list_roles(current_tenant_id())


@admin_blp.route("/roles", methods=["POST"])
@tenant_admin_required
@admin_blp.arguments(RoleIn)
@admin_blp.response(201, RoleOut)
def create_role(data: dict[str, Any]) -> Any:
    role = service.create_role(_tenant(), data["key"], data.get("title"))
    db.session.commit()
    return role


# --- admin: teams --------------------------------------------------------------------------


def _referenced(kind: str, path: str, ident: int) -> Any:
    """A team or user named in a request body: unknown (or foreign) ids are a 422 at ``path``."""
    lookup = service.get_team if kind == "team" else service.get_user
    try:
        return lookup(current_tenant_id(), ident)
    except NotFound as exc:
        raise ValidationFailed(gettext("platform.invalid"), [Problem(path, exc.message)]) from None


def _team_changes(data: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "name" in data:
        changes["name"] = data["name"]
    if "parent_id" in data:
        parent_id = data["parent_id"]
        changes["parent"] = None if parent_id is None else _referenced("team", "parent_id",
                                                                       parent_id)
    if "manager_id" in data:
        manager_id = data["manager_id"]
        changes["manager"] = None if manager_id is None else _referenced("user", "manager_id",
                                                                         manager_id)
    if "members" in data:
        changes["members"] = [_referenced("user", f"members[{i}]", user_id)
                              for i, user_id in enumerate(data["members"])]
    return changes


@admin_blp.route("/teams", methods=["GET"])
@tenant_admin_required
@admin_blp.response(200, TeamOut(many=True))
def list_teams() -> Any:
    return service.list_teams(current_tenant_id())


@admin_blp.route("/teams", methods=["POST"])
@tenant_admin_required
@admin_blp.arguments(TeamCreateIn)
@admin_blp.response(201, TeamOut)
def create_team(data: dict[str, Any]) -> Team:
    changes = _team_changes(data)
    team = service.create_team(_tenant(), data["key"], changes.pop("name", None), **changes)
    db.session.commit()
    return team


@admin_blp.route("/teams/<int:team_id>", methods=["GET"])
@tenant_admin_required
@admin_blp.response(200, TeamOut)
def get_team(team_id: int) -> Team:
    return service.get_team(current_tenant_id(), team_id)


@admin_blp.route("/teams/<int:team_id>", methods=["PATCH"])
@tenant_admin_required
@admin_blp.arguments(TeamPatchIn)
@admin_blp.response(200, TeamOut)
def update_team(data: dict[str, Any], team_id: int) -> Team:
    team = service.get_team(current_tenant_id(), team_id)
    team = service.update_team(team, **_team_changes(data))
    db.session.commit()
    return team
