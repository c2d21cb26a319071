"""marshmallow schemas of the auth and admin API: one per resource, per audience."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from builder.i18n import LANGUAGES


class LoginIn(Schema):
    tenant = fields.String(required=True, validate=validate.Length(min=1, max=64))
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=1024))


class UserOut(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    email = fields.String(allow_none=True)
    language = fields.String()
    is_active = fields.Boolean()
    is_tenant_admin = fields.Boolean()
    is_available = fields.Boolean()
    roles = fields.Method("_role_keys")
    teams = fields.Method("_team_keys")
    created_at = fields.DateTime()

    def _role_keys(self, user: Any) -> list[str]:
        return [role.key for role in user.roles]

    def _team_keys(self, user: Any) -> list[str]:
        return [team.key for team in user.teams]


class MeOut(UserOut):
    tenant = fields.Function(lambda user: {"id": user.tenant.id, "slug": user.tenant.slug,
                                           "name": user.tenant.name})


class LoginOut(Schema):
    token = fields.String()
    user = fields.Nested(MeOut)


class AvailabilityIn(Schema):
    available = fields.Boolean(required=True, metadata={
        "description": "Whether you are ready to receive work (records assigned to you)"})


class TokenIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenOut(Schema):
    id = fields.Integer()
    name = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class TokenCreatedOut(TokenOut):
    token = fields.String(metadata={"description": "The bearer value; shown only once."})


class UserCreateIn(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(load_only=True, validate=validate.Length(max=1024))
    display_name = fields.String(validate=validate.Length(max=200))
    email = fields.Email(allow_none=True)
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    is_active = fields.Boolean()
    is_tenant_admin = fields.Boolean()
    is_available = fields.Boolean()
    roles = fields.List(fields.String())


class UserPatchIn(Schema):
    password = fields.String(load_only=True, validate=validate.Length(max=1024))
    display_name = fields.String(validate=validate.Length(max=200))
    email = fields.Email(allow_none=True)
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    is_active = fields.Boolean()
    is_tenant_admin = fields.Boolean()
    is_available = fields.Boolean()
    roles = fields.List(fields.String())


class RoleIn(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    title = fields.Dict(keys=fields.String(validate=validate.OneOf(LANGUAGES)),
                        values=fields.String(validate=validate.Length(min=1, max=200)))


class RoleOut(Schema):
    id = fields.Integer()
    key = fields.String()
    title = fields.Dict()


class TeamPatchIn(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    parent_id = fields.Integer(allow_none=True)
    manager_id = fields.Integer(allow_none=True)
    members = fields.List(fields.Integer(), metadata={"description": "User ids; replaces all."})


class TeamCreateIn(TeamPatchIn):
    key = fields.String(required=True, validate=validate.Length(min=1, max=64))


class TeamOut(Schema):
    id = fields.Integer()
    key = fields.String()
    name = fields.String()
    parent_id = fields.Integer(allow_none=True)
    manager_id = fields.Integer(allow_none=True)
    members = fields.Function(lambda team: [user.id for user in team.members])
