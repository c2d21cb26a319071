"""HTTP for app definitions: list, import, draft, plan, publish, versions, rollback, export."""

from __future__ import annotations

from typing import Any

from flask import Response, json
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from builder.designer import service
from builder.designer.models import App
from builder.errors import Forbidden
from builder.extensions import db
from builder.i18n import current_language, gettext
from builder.platform.auth import require_user
from builder.runtime import access

blp = Blueprint("apps", __name__, url_prefix="/api/apps",
                description="App definitions: import, draft, plan, publish, versions")


class AppSummarySchema(Schema):
    key = fields.String()
    title = fields.Dict()
    live_version = fields.Integer(allow_none=True)
    has_draft = fields.Boolean()
    draft_updated_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class AppDetailSchema(AppSummarySchema):
    definition = fields.Dict(allow_none=True)


class DefinitionBodySchema(Schema):
    definition = fields.Raw(required=True, metadata={"description": "An app definition"})


class DraftSchema(Schema):
    key = fields.String()
    definition = fields.Dict()
    updated_at = fields.DateTime(allow_none=True)


class VersionSchema(Schema):
    number = fields.Integer()
    published_at = fields.DateTime()
    published_by = fields.Integer(allow_none=True)
    summary = fields.List(fields.String())


class VersionDetailSchema(VersionSchema):
    definition = fields.Dict()


class RollbackBodySchema(Schema):
    version = fields.Integer(required=True, validate=validate.Range(min=1))


class PurgeBodySchema(Schema):
    entity = fields.String(required=True)
    field = fields.String(load_default=None)


class PurgeResultSchema(Schema):
    dropped = fields.Integer()


def _summary(app: App, with_definition: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": app.key, "title": app.title, "live_version": app.live_version,
        "has_draft": app.draft is not None, "draft_updated_at": app.draft_updated_at,
        "created_at": app.created_at,
    }
    if with_definition:
        data["definition"] = service.live_definition(app)
    return data


def _require_designer(app_key: str | None = None) -> Any:
    """Tenant admins change definitions; so do, for a published app, its app admins: the
    holders of a role of it granting ``configure`` on ``*`` (or on every entity)."""
    user = require_user()
    if user.is_tenant_admin:
        return user
    if app_key is not None:
        app = service.get_app(user.tenant_id, app_key)
        definition = service.live_definition(app)
        if definition is not None and access.can_configure(user, definition):
            return user
    raise Forbidden(gettext("designer.error.not_allowed"))


@blp.route("")
class Apps(MethodView):
    @blp.response(200, AppSummarySchema(many=True))
    def get(self) -> Any:
        """Apps of the current tenant."""
        user = require_user()
        return [_summary(a) for a in service.list_apps(user.tenant_id)]

    @blp.arguments(DefinitionBodySchema)
    @blp.response(201, AppSummarySchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Import a definition as a new app's draft (422 lists every problem with its path)."""
        user = _require_designer()
        app = service.import_app(user.tenant_id, body["definition"], user.id)
        db.session.commit()
        return _summary(app)


@blp.route("/<app_key>")
class AppDetail(MethodView):
    @blp.response(200, AppDetailSchema)
    def get(self, app_key: str) -> Any:
        """One app with its live definition."""
        user = require_user()
        return _summary(service.get_app(user.tenant_id, app_key), with_definition=True)


@blp.route("/<app_key>/draft")
class Draft(MethodView):
    @blp.response(200, DraftSchema)
    def get(self, app_key: str) -> Any:
        """The draft (or the live definition when there is no draft)."""
        user = _require_designer(app_key)
        app = service.get_app(user.tenant_id, app_key)
        return {"key": app.key, "definition": service.current_draft(app),
                "updated_at": app.draft_updated_at}

    @blp.arguments(DefinitionBodySchema)
    @blp.response(200, DraftSchema)
    def put(self, body: dict[str, Any], app_key: str) -> Any:
        """Replace the draft; it is validated but nothing is published."""
        user = _require_designer(app_key)
        app = service.save_draft(user.tenant_id, app_key, body["definition"], user.id)
        db.session.commit()
        return {"key": app.key, "definition": app.draft, "updated_at": app.draft_updated_at}


@blp.route("/<app_key>/plan", methods=["POST"])
@blp.response(200)
def plan(app_key: str) -> Any:
    """What publishing the draft would change, in words, with any data that cannot convert."""
    user = _require_designer(app_key)
    result = service.plan(user.tenant_id, app_key, current_language())
    db.session.rollback()
    return result


@blp.route("/<app_key>/publish", methods=["POST"])
@blp.response(200, VersionSchema)
def publish(app_key: str) -> Any:
    """Apply the draft all-or-nothing and make it the live version."""
    user = _require_designer(app_key)
    version = service.publish(user.tenant_id, app_key, user.id)
    db.session.commit()
    return version


@blp.route("/<app_key>/versions", methods=["GET"])
@blp.response(200, VersionSchema(many=True))
def versions(app_key: str) -> Any:
    """Published versions, newest first."""
    user = _require_designer(app_key)
    return service.versions(user.tenant_id, app_key)


@blp.route("/<app_key>/versions/<int:number>", methods=["GET"])
@blp.response(200, VersionDetailSchema)
def version_detail(app_key: str, number: int) -> Any:
    user = _require_designer(app_key)
    return service.get_version(user.tenant_id, app_key, number)


@blp.route("/<app_key>/rollback", methods=["POST"])
@blp.arguments(RollbackBodySchema)
@blp.response(200, VersionSchema)
def rollback(body: dict[str, Any], app_key: str) -> Any:
    """Publish an earlier version again as a new version."""
    user = _require_designer(app_key)
    version = service.rollback(user.tenant_id, app_key, body["version"], user.id)
    db.session.commit()
    return version


@blp.route("/<app_key>/purge", methods=["POST"])
@blp.arguments(PurgeBodySchema)
@blp.response(200, PurgeResultSchema)
def purge(body: dict[str, Any], app_key: str) -> Any:
    """Drop the data of hidden fields for good (all of an entity's, or one field's)."""
    user = _require_designer(app_key)
    dropped = service.purge_hidden(user.tenant_id, app_key, body["entity"], body["field"])
    db.session.commit()
    return {"dropped": dropped}


@blp.route("/<app_key>/export", methods=["GET"])
@blp.response(200)
def export(app_key: str) -> Any:
    """The live definition as a JSON file."""
    user = _require_designer(app_key)
    definition = service.export_definition(user.tenant_id, app_key)
    body = json.dumps(definition, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{app_key}.json"'})
