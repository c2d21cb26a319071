"""HTTP for automations: their run log, inbound webhooks, and the SLA state of a record.

- ``GET /api/apps/<app>/automations``: the app's automations (tenant admins).
- ``GET /api/apps/<app>/automations/<key>/runs``: the run log, newest first; query
  ``status``, ``record_id``, ``before`` (``next_before`` of the previous page), ``limit``;
  ``kind=sla`` lists the escalation runs of the SLA policy ``<key>``.
- ``POST``/``DELETE /api/apps/<app>/automations/<key>/hook``: create (or rotate) / remove
  the secret URL of a webhook-triggered automation; the token is shown once.
- ``POST /api/automations/hooks/<token>``: called by other systems, no login; the JSON
  body becomes ``$payload``; answers 202 with the run's id.
- ``GET /api/apps/<app>/<entity>/records/<id>/sla``: each SLA policy's clock on the record.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from builder.errors import BadRequest, Problem
from builder.i18n import gettext
from builder.platform.auth import require_tenant_admin, require_user
from builder.runtime.automation import hooks, runs
from builder.runtime.automation.models import AUTOMATION, RUN_STATUSES, SLA

blp = Blueprint("automations", __name__, url_prefix="/api",
                description="Automations: run log, inbound webhooks, SLA state")

MAX_PAYLOAD_BYTES = 1024 * 1024


class AutomationRunSchema(Schema):
    id = fields.Integer()
    automation = fields.String()
    kind = fields.String(metadata={"description": "automation, or sla for an SLA step"})
    entity = fields.String()
    record_id = fields.Integer(allow_none=True)
    trigger = fields.String()
    status = fields.String(metadata={"description": ", ".join(RUN_STATUSES)})
    error = fields.String(allow_none=True)
    result = fields.List(fields.Dict(), allow_none=True,
                         metadata={"description": "What each action did"})
    depth = fields.Integer()
    user_id = fields.Integer(allow_none=True)
    created_at = fields.String(metadata={"format": "date-time"})
    started_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    finished_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class AutomationRunPageSchema(Schema):
    items = fields.List(fields.Nested(AutomationRunSchema))
    next_before = fields.Integer(allow_none=True)


class AutomationRunArgsSchema(Schema):
    kind = fields.String(load_default=AUTOMATION, validate=validate.OneOf((AUTOMATION, SLA)),
                         metadata={"description": "sla: the runs of the SLA policy <key>"})
    status = fields.String(validate=validate.OneOf(RUN_STATUSES))
    record_id = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))
    before = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class AutomationSchema(Schema):
    key = fields.String()
    title = fields.Dict()
    entity = fields.String()
    trigger = fields.String()


class AutomationListSchema(Schema):
    items = fields.List(fields.Nested(AutomationSchema))


class AutomationHookSchema(Schema):
    url = fields.String(metadata={"description": "POST JSON here; shown only once"})
    token = fields.String()
    created_at = fields.DateTime()


class AutomationHookCallSchema(Schema):
    run = fields.Integer(allow_none=True,
                         metadata={"description": "The queued run; null if the condition "
                                                  "did not hold"})


@blp.route("/apps/<app_key>/automations", methods=["GET"])
@blp.response(200, AutomationListSchema)
def list_automations(app_key: str) -> Any:
    """The automations of the live app."""
    from builder.designer.service import live_app

    user = require_tenant_admin()
    _app, definition = live_app(user.tenant_id, app_key)
    return {"items": [{"key": a["key"], "title": a.get("title") or {}, "entity": a["entity"],
                       "trigger": (a.get("trigger") or {}).get("type")}
                      for a in definition.get("automations") or ()]}


@blp.route("/apps/<app_key>/automations/<key>/runs", methods=["GET"])
@blp.arguments(AutomationRunArgsSchema, location="query")
@blp.response(200, AutomationRunPageSchema)
def list_runs(args: dict[str, Any], app_key: str, key: str) -> Any:
    """The run log of an automation, newest first."""
    user = require_tenant_admin()
    return runs.list_runs(user.tenant_id, app_key, key, kind=args["kind"],
                          status=args.get("status"),
                          record_id=args.get("record_id"), before=args.get("before"),
                          limit=args["limit"])


@blp.route("/apps/<app_key>/automations/<key>/hook")
class Hook(MethodView):
    @blp.response(201, AutomationHookSchema)
    def post(self, app_key: str, key: str) -> Any:
        """A new secret URL for a webhook-triggered automation (the old one stops)."""
        user = require_tenant_admin()
        return hooks.create_hook(user.tenant_id, app_key, key, user.id)

    @blp.response(204)
    def delete(self, app_key: str, key: str) -> None:
        """Stop accepting calls for the automation."""
        user = require_tenant_admin()
        hooks.delete_hook(user.tenant_id, app_key, key)


class SlaStepSchema(Schema):
    key = fields.String()
    at = fields.String(metadata={"format": "date-time", "description": "When it is due"})
    run = fields.Dict(allow_none=True, metadata={"description": "{id, status} once fired"})


class SlaClockSchema(Schema):
    policy = fields.String()
    title = fields.Dict()
    status = fields.String(metadata={"description": "running, met or cancelled"})
    started_at = fields.String(metadata={"format": "date-time"})
    due_at = fields.String(metadata={"format": "date-time"})
    stopped_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    breached = fields.Boolean()
    remaining_minutes = fields.Float(allow_none=True,
                                     metadata={"description": "Working minutes to the "
                                                              "deadline while running"})
    steps = fields.List(fields.Nested(SlaStepSchema))


class SlaListSchema(Schema):
    items = fields.List(fields.Nested(SlaClockSchema))


@blp.route("/apps/<app_key>/<entity_key>/records/<int:record_id>/sla", methods=["GET"])
@blp.response(200, SlaListSchema)
def record_sla(app_key: str, entity_key: str, record_id: int) -> Any:
    """The SLA clocks of a record: deadline, breached, remaining time, escalation steps."""
    from builder.runtime.automation.sla_state import record_sla as state
    from builder.runtime.records import RecordService
    from builder.runtime.storage.tables import entity_store

    user = require_user()
    service = RecordService(entity_store(user.tenant_id, app_key, entity_key), user)
    service.get(record_id)
    return {"items": state(service.store, record_id)}


@blp.route("/automations/hooks/<token>", methods=["POST"])
@blp.response(202, AutomationHookCallSchema)
def call_hook(token: str) -> Any:
    """Run a webhook-triggered automation with the JSON body as ``$payload``."""
    if (request.content_length or 0) > MAX_PAYLOAD_BYTES:
        message = gettext("automation.error.payload_too_large")
        raise BadRequest(message, [Problem("$payload", message, "too_large")])
    payload = request.get_json(silent=True) if request.get_data() else {}
    if payload is None:
        message = gettext("automation.error.payload_json")
        raise BadRequest(message, [Problem("$payload", message, "invalid_json")])
    return hooks.receive(token, payload)
