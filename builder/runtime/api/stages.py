"""HTTP for stage flows: move a record, its stage history, dwell and funnel figures.

- ``POST /api/apps/<app>/<entity>/records/<id>/transition`` body ``{"to": stage,
  "version": n, "data": {field: value}, "reason": text, "flow": key}`` (``data``,
  ``reason`` optional; ``flow`` only when the entity has several flows) → the record;
  422 lists every unmet condition, 409 on a stale version.
- ``GET .../records/<id>/stages`` (``?flow=``) → ``{"items": [visit, ...]}`` with the
  time spent in each stage.
- ``GET /api/apps/<app>/stage_flows/<flow>/dwell`` (``?filter=`` JsonLogic over the
  entity, ``include_open``) → average and median time per stage.
- ``GET /api/apps/<app>/stage_flows/<flow>/funnel`` (``?filter=``, ``amount_field``) →
  counts, conversion, dwell, amounts and the weighted forecast per stage.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from builder.database import utcnow
from builder.platform.auth import require_user
from builder.platform.service import user_context
from builder.runtime import access
from builder.runtime.api.records import RecordSchema, _filter
from builder.runtime.storage.tables import entity_store
from builder.runtime.workflow import stage_engine, stage_stats

blp = Blueprint("stages", __name__, url_prefix="/api/apps",
                description="Stage flows: transitions, stage history, dwell and funnel")


class TransitionBodySchema(Schema):
    to = fields.Raw(required=True, metadata={"description": "The key of the stage to move to"})
    version = fields.Integer(required=True, strict=True,
                             metadata={"description": "The version the move is based on"})
    data = fields.Dict(load_default=dict,
                       metadata={"description": "Field values saved with the move"})
    reason = fields.String(allow_none=True, metadata={"description": "Why (kept in history)"})
    flow = fields.String(metadata={"description": "Only when the entity has several flows"})


class VisitSchema(Schema):
    flow = fields.String()
    from_ = fields.String(data_key="from", allow_none=True)
    to = fields.String()
    from_title = fields.String(allow_none=True)
    to_title = fields.String()
    by = fields.Integer(allow_none=True, metadata={"description": "User id"})
    how = fields.String(metadata={"description": "created, manual, auto or engine"})
    reason = fields.String(allow_none=True)
    entered_at = fields.String(metadata={"format": "date-time"})
    left_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    current = fields.Boolean()
    dwell_seconds = fields.Float(metadata={"description": "Until now for the current stage"})


class VisitsSchema(Schema):
    items = fields.List(fields.Nested(VisitSchema))

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        return obj


class FlowArgsSchema(Schema):
    flow = fields.String()


class FiguresArgsSchema(Schema):
    filter = fields.String(metadata={"description": "JsonLogic condition on the records"})
    include_open = fields.Boolean(load_default=False,
                                  metadata={"description": "Count visits still going on"})
    amount_field = fields.String(metadata={"description": "Defaults to the flow's"})


class FiguresSchema(Schema):
    flow = fields.String()
    stages = fields.List(fields.Dict())
    forecast = fields.Float(allow_none=True)

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        return obj


def _scoped(user: Any, app_key: str, flow_key: str, args: dict[str, Any]) -> Any:
    """The figures' record filter within what the user may read (``access``)."""
    flow, store = stage_stats.flow_store(user.tenant_id, app_key, flow_key)
    access.require(user, store, "read")
    access.require_readable(user, store, {
        "amount_field": args.get("amount_field") or flow.amount_field})
    return access.scoped_filter(user, store, _filter(args.get("filter")))


def _context(user: Any) -> dict[str, Any]:
    return {"$user": user_context(user),
            "$now": utcnow().isoformat().replace("+00:00", "Z")}


@blp.route("/<app_key>/<entity_key>/records/<int:record_id>/transition", methods=["POST"])
@blp.arguments(TransitionBodySchema)
@blp.response(200, RecordSchema)
def transition(body: dict[str, Any], app_key: str, entity_key: str, record_id: int) -> Any:
    """Move the record to another stage; 422 lists every condition not met."""
    user = require_user()
    store = entity_store(user.tenant_id, app_key, entity_key)
    access.require_record(user, store, record_id, "update")  # the person's own rights
    if isinstance(body["data"], dict):
        access.require_writable(user, store, {f"data.{k}": k for k in body["data"]})
    record = stage_engine.transition(store, user, record_id, body["to"], body["version"],
                                     body["data"], flow=body.get("flow"),
                                     reason=body.get("reason"))
    return access.redact(store, user, record)


@blp.route("/<app_key>/<entity_key>/records/<int:record_id>/stages", methods=["GET"])
@blp.arguments(FlowArgsSchema, location="query")
@blp.response(200, VisitsSchema)
def stages(args: dict[str, Any], app_key: str, entity_key: str, record_id: int) -> Any:
    """The record's stage history, oldest first, with the time spent in each stage."""
    user = require_user()
    store = entity_store(user.tenant_id, app_key, entity_key)
    access.require_record(user, store, record_id, "read")
    return {"items": stage_stats.record_stages(store, record_id, args.get("flow"))}


@blp.route("/<app_key>/stage_flows/<flow_key>/dwell", methods=["GET"])
@blp.arguments(FiguresArgsSchema, location="query")
@blp.response(200, FiguresSchema)
def dwell(args: dict[str, Any], app_key: str, flow_key: str) -> Any:
    """Visits, average and median time spent per stage of the flow."""
    user = require_user()
    items = stage_stats.dwell_by_stage(user.tenant_id, app_key, flow_key,
                                       _scoped(user, app_key, flow_key, args),
                                       include_open=args["include_open"],
                                       context=_context(user))
    return {"flow": flow_key, "stages": items}


@blp.route("/<app_key>/stage_flows/<flow_key>/funnel", methods=["GET"])
@blp.arguments(FiguresArgsSchema, location="query")
@blp.response(200, FiguresSchema)
def funnel(args: dict[str, Any], app_key: str, flow_key: str) -> Any:
    """Per stage: records now, reached, conversion, dwell, amounts; the weighted forecast."""
    user = require_user()
    record_filter = _scoped(user, app_key, flow_key, args)
    return stage_stats.funnel(user.tenant_id, app_key, flow_key, record_filter,
                              amount_field=args.get("amount_field"), context=_context(user))
