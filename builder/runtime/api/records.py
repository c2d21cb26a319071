"""HTTP for records: list, create, bulk create, read, update, delete, restore, history.

The tenant always comes from the authenticated user: an app, entity or record of another
tenant is a 404, exactly like one that does not exist. Input keys follow
``RecordService``: unknown field keys are refused, system and computed fields ignored.

- ``POST .../records`` body ``{"data": {field: value}}`` → 201 with the record.
- ``POST .../records/bulk`` body ``{"rows": [{...}, ...]}`` → 201 ``{"items": [...]}``;
  all or nothing, problems at ``rows[i].field``.
- ``PATCH .../records/<id>`` body ``{"version": n, "data": {...}}``: only the given fields
  change; a stale ``version`` is a 409 whose error carries ``current_version``.
- ``DELETE .../records/<id>`` (optional ``?version=n``) soft-deletes, returns the record.
- ``GET .../records`` query: ``filter`` (JsonLogic as JSON), ``sort`` (``-amount,name``),
  ``limit`` (1-500, default 50), ``cursor`` (``next_cursor`` of the previous page),
  ``fields`` (comma-separated keys), ``q`` (text search), ``deleted``
  (``exclude``/``only``/``include``), ``count`` (add ``total``).
"""

from __future__ import annotations

import json
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from builder.errors import Problem, ValidationFailed
from builder.i18n import gettext
from builder.platform.auth import require_user
from builder.runtime.query.listing import DELETED_MODES, MAX_LIMIT, ListQuery
from builder.runtime.records import RecordService
from builder.runtime.records.service import MAX_BULK_ROWS
from builder.runtime.storage.tables import entity_store

blp = Blueprint("records", __name__, url_prefix="/api/apps",
                description="Records of published apps: CRUD, lists, history")


class RecordSchema(Schema):
    """A record: these system fields plus one key per live field of the entity.

    Sub-table fields hold a list of child records. Dumping returns the record as built by
    the service (its field keys depend on the app definition).
    """

    id = fields.Integer()
    version = fields.Integer()
    created_at = fields.String(metadata={"format": "date-time"})
    created_by = fields.Integer(allow_none=True)
    updated_at = fields.String(metadata={"format": "date-time"})
    updated_by = fields.Integer(allow_none=True)
    owner = fields.Integer(allow_none=True)
    deleted = fields.Boolean()

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        return obj


class RecordListSchema(Schema):
    items = fields.List(fields.Nested(RecordSchema))
    next_cursor = fields.String(allow_none=True,
                                metadata={"description": "Pass as `cursor` for the next page"})
    total = fields.Integer(metadata={"description": "Only with `count=true`"})

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        return obj


class HistoryEntrySchema(Schema):
    id = fields.Integer()
    action = fields.String(metadata={"description": "create, update, delete or restore"})
    at = fields.String(metadata={"format": "date-time"})
    user = fields.Dict(allow_none=True, metadata={"description": "{id, username, name}"})
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    changes = fields.Dict(metadata={"description": "field → [old, new]"})


class HistorySchema(Schema):
    items = fields.List(fields.Nested(HistoryEntrySchema))

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        return obj


class ListArgsSchema(Schema):
    filter = fields.String(metadata={"description": "JsonLogic condition, as JSON"})
    sort = fields.String(metadata={"description": "Comma-separated keys, `-` for descending"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = fields.String()
    fields_ = fields.String(data_key="fields",
                            metadata={"description": "Comma-separated field keys"})
    q = fields.String(validate=validate.Length(max=200),
                      metadata={"description": "Text search"})
    deleted = fields.String(load_default="exclude", validate=validate.OneOf(DELETED_MODES))
    count = fields.Boolean(load_default=False)


class CreateBodySchema(Schema):
    data = fields.Dict(required=True, metadata={"description": "Field key → value"})


class BulkBodySchema(Schema):
    rows = fields.List(fields.Raw(), required=True,
                       validate=validate.Length(min=1, max=MAX_BULK_ROWS))


class BulkResultSchema(Schema):
    items = fields.List(fields.Nested(RecordSchema))

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        return obj


class UpdateBodySchema(Schema):
    version = fields.Integer(required=True, strict=True,
                             metadata={"description": "The version the change is based on"})
    data = fields.Dict(required=True, metadata={"description": "Field key → new value"})


class VersionArgsSchema(Schema):
    version = fields.Integer(metadata={"description": "Refuse (409) unless at this version"})


def _service(app_key: str, entity_key: str) -> RecordService:
    user = require_user()
    return RecordService(entity_store(user.tenant_id, app_key, entity_key), user)


def _filter(raw: str | None) -> Any:
    if raw is None or raw.strip() == "":
        return None
    try:
        return json.loads(raw)
    except ValueError:
        message = gettext("records.error.bad_filter")
        raise ValidationFailed(message, [Problem("filter", message, "invalid_json")]) from None


def _field_list(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    return [f.strip() for f in raw.split(",") if f.strip()]


@blp.route("/<app_key>/<entity_key>/records")
class Records(MethodView):
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, RecordListSchema)
    def get(self, args: dict[str, Any], app_key: str, entity_key: str) -> Any:
        """A page of records, filtered, sorted and searched; keyset pagination."""
        service = _service(app_key, entity_key)
        query = ListQuery(filter=_filter(args.get("filter")), sort=args.get("sort"),
                          limit=args["limit"], cursor=args.get("cursor"),
                          fields=_field_list(args.get("fields_")), q=args.get("q"),
                          deleted=args["deleted"], count=args["count"])
        return service.list(query)

    @blp.arguments(CreateBodySchema)
    @blp.response(201, RecordSchema)
    def post(self, body: dict[str, Any], app_key: str, entity_key: str) -> Any:
        """Create a record (with its sub-table rows); 422 lists every problem."""
        return _service(app_key, entity_key).create(body["data"])


@blp.route("/<app_key>/<entity_key>/records/bulk", methods=["POST"])
@blp.arguments(BulkBodySchema)
@blp.response(201, BulkResultSchema)
def bulk_create(body: dict[str, Any], app_key: str, entity_key: str) -> Any:
    """Create many records at once, all or none; problems at ``rows[i].field``."""
    return {"items": _service(app_key, entity_key).bulk_create(body["rows"])}


@blp.route("/<app_key>/<entity_key>/records/<int:record_id>")
class Record(MethodView):
    @blp.response(200, RecordSchema)
    def get(self, app_key: str, entity_key: str, record_id: int) -> Any:
        """One record, with its sub-table rows (deleted records too, marked ``deleted``)."""
        return _service(app_key, entity_key).open(record_id)

    @blp.arguments(UpdateBodySchema)
    @blp.response(200, RecordSchema)
    def patch(self, body: dict[str, Any], app_key: str, entity_key: str,
              record_id: int) -> Any:
        """Change some fields; 409 with ``current_version`` if ``version`` is stale."""
        return _service(app_key, entity_key).update(record_id, body["data"], body["version"])

    @blp.arguments(VersionArgsSchema, location="query")
    @blp.response(200, RecordSchema)
    def delete(self, args: dict[str, Any], app_key: str, entity_key: str,
               record_id: int) -> Any:
        """Soft-delete a record and its sub-table rows."""
        return _service(app_key, entity_key).delete(record_id, args.get("version"))


@blp.route("/<app_key>/<entity_key>/records/<int:record_id>/restore", methods=["POST"])
@blp.arguments(VersionArgsSchema, location="query")
@blp.response(200, RecordSchema)
def restore(args: dict[str, Any], app_key: str, entity_key: str, record_id: int) -> Any:
    """Bring back a deleted record and the sub-table rows deleted with it."""
    return _service(app_key, entity_key).restore(record_id, args.get("version"))


@blp.route("/<app_key>/<entity_key>/records/<int:record_id>/history", methods=["GET"])
@blp.response(200, HistorySchema)
def history(app_key: str, entity_key: str, record_id: int) -> Any:
    """Every change of the record, newest first: who, when, before, after, changes."""
    return {"items": _service(app_key, entity_key).history(record_id)}
