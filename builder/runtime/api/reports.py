"""HTTP for scheduled reports and alerts (for those who may configure the app).

- ``GET /api/apps/<app>/reports/runs`` (``status``, ``report``, ``limit``): runs, newest
  first; ``?status=held`` lists the reports a circuit breaker held, with the figures and
  their change against the previous period.
- ``GET /api/apps/<app>/reports/runs/<id>``: a run with the messages it holds or sent.
- ``POST /api/apps/<app>/reports/runs/<id>/release`` and ``.../discard``: decide a held
  run (409 when it is not held any more).
- ``POST /api/apps/<app>/reports/<report>/run``: make the report's run of the period it
  covers now (the existing one if it was made already).
- ``GET /api/apps/<app>/alerts/firings`` (``alert``, ``limit``) and
  ``POST /api/apps/<app>/alerts/<alert>/run``: what alerts did; judge one now.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from builder.extensions import db
from builder.platform.auth import require_user
from builder.runtime.api.notifications import masked_url
from builder.runtime.reports import alerts, runs
from builder.runtime.reports.models import RUN_STATUSES

blp = Blueprint("reports", __name__, url_prefix="/api/apps",
                description="Scheduled reports, their circuit breaker, and metric alerts")


class ReportFigureSchema(Schema):
    metric = fields.String()
    title = fields.String()
    value = fields.Raw(allow_none=True)
    previous = fields.Raw(allow_none=True)
    change = fields.Float(allow_none=True, metadata={"description": "0.4 = +40%"})
    breached = fields.Boolean()


class ReportRunSchema(Schema):
    id = fields.Integer()
    report = fields.String(attribute="report_key")
    period_start = fields.Date()
    period_end = fields.Date()
    status = fields.String(metadata={"enum": list(RUN_STATUSES)})
    threshold = fields.Float(allow_none=True)
    figures = fields.List(fields.Nested(ReportFigureSchema))
    breaches = fields.List(fields.Nested(ReportFigureSchema))
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decided_by = fields.Integer(allow_none=True)


class ReportMessageSchema(Schema):
    id = fields.Integer()
    recipient_id = fields.Integer(allow_none=True)
    channels = fields.List(fields.String())
    webhook = fields.Function(lambda m: masked_url(m.webhook["url"]) if m.webhook else None)
    subject = fields.Dict()
    body = fields.Dict()
    delivery_ids = fields.List(fields.Integer())
    sent_at = fields.DateTime(allow_none=True)


class ReportRunDetailSchema(ReportRunSchema):
    messages = fields.Method("_messages", metadata={
        "description": "What each recipient (or robot) receives, as composed"})

    def _messages(self, run: Any) -> Any:
        return ReportMessageSchema(many=True).dump(runs.run_messages(run))


class ReportRunPageSchema(Schema):
    items = fields.List(fields.Nested(ReportRunSchema))


class ReportRunArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(RUN_STATUSES))
    report = fields.String()
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=runs.MAX_LIST))


class AlertFiringSchema(Schema):
    id = fields.Integer()
    alert = fields.String(attribute="alert_key")
    subject = fields.String()
    period_start = fields.Date()
    period_end = fields.Date()
    figures = fields.List(fields.Dict())
    results = fields.List(fields.Dict())
    created_at = fields.DateTime()


class AlertFiringPageSchema(Schema):
    items = fields.List(fields.Nested(AlertFiringSchema))


class AlertFiringArgsSchema(Schema):
    alert = fields.String()
    limit = fields.Integer(load_default=50,
                           validate=validate.Range(min=1, max=alerts.MAX_LIST))


def _admin(app_key: str) -> Any:
    user = require_user()
    runs.require_admin(user, app_key)
    return user


@blp.route("/<app_key>/reports/runs", methods=["GET"])
@blp.arguments(ReportRunArgsSchema, location="query")
@blp.response(200, ReportRunPageSchema)
def list_runs(args: dict[str, Any], app_key: str) -> Any:
    """Report runs, newest first; ``?status=held`` for those awaiting a decision."""
    user = _admin(app_key)
    return {"items": runs.list_runs(user.tenant_id, app_key, status=args.get("status"),
                                    report_key=args.get("report"), limit=args["limit"])}


@blp.route("/<app_key>/reports/runs/<int:run_id>", methods=["GET"])
@blp.response(200, ReportRunDetailSchema)
def get_run(app_key: str, run_id: int) -> Any:
    """A run with its messages as composed for each recipient."""
    user = _admin(app_key)
    return runs.get_run(user.tenant_id, app_key, run_id)


@blp.route("/<app_key>/reports/runs/<int:run_id>/release", methods=["POST"])
@blp.response(200, ReportRunDetailSchema)
def release(app_key: str, run_id: int) -> Any:
    """Send a held run's messages."""
    user = _admin(app_key)
    run = runs.release(user.tenant_id, app_key, run_id, user.id)
    db.session.commit()
    return run


@blp.route("/<app_key>/reports/runs/<int:run_id>/discard", methods=["POST"])
@blp.response(200, ReportRunDetailSchema)
def discard(app_key: str, run_id: int) -> Any:
    """Drop a held run without sending it."""
    user = _admin(app_key)
    run = runs.discard(user.tenant_id, app_key, run_id, user.id)
    db.session.commit()
    return run


@blp.route("/<app_key>/reports/<report_key>/run", methods=["POST"])
@blp.response(200, ReportRunDetailSchema)
def run_report(app_key: str, report_key: str) -> Any:
    """Make (or find) the report's run of the period it covers now."""
    user = _admin(app_key)
    run = runs.make_run(user.tenant_id, app_key, report_key)
    db.session.commit()
    return run


@blp.route("/<app_key>/alerts/firings", methods=["GET"])
@blp.arguments(AlertFiringArgsSchema, location="query")
@blp.response(200, AlertFiringPageSchema)
def list_firings(args: dict[str, Any], app_key: str) -> Any:
    """What the app's alerts did, newest first."""
    user = _admin(app_key)
    return {"items": alerts.list_firings(user.tenant_id, app_key, args.get("alert"),
                                         args["limit"])}


@blp.route("/<app_key>/alerts/<alert_key>/run", methods=["POST"])
@blp.response(200, AlertFiringPageSchema)
def run_alert(app_key: str, alert_key: str) -> Any:
    """Judge the alert now; lists the firings it made (none when all fired already)."""
    user = _admin(app_key)
    fired = alerts.run_alert(user.tenant_id, app_key, alert_key)
    db.session.commit()
    return {"items": fired}
