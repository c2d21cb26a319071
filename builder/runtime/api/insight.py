"""HTTP for dashboards: widget data, drill-down to the records behind any figure, export.

- ``GET /api/apps/<app>/dashboards`` and ``/dashboards/<key>`` (every widget's data);
  ``?at=2026-03-15`` computes as of that day.
- ``GET .../dashboards/<key>/widgets/<widget>``: one widget.
- ``GET .../dashboards/<key>/widgets/<widget>/records?point=<json>``: the records behind
  the figure whose ``point`` is given (same filter, same permissions), paged, with total.
- ``GET .../dashboards/<key>/widgets/<widget>/export``: the figures as .xlsx.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, send_file
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from builder.errors import Problem, ValidationFailed
from builder.i18n import gettext
from builder.platform.auth import require_user
from builder.runtime.insight import dashboards
from builder.runtime.query.listing import MAX_LIMIT

blp = Blueprint("insight", __name__, url_prefix="/api/apps",
                description="Dashboards, widget figures and their drill-down")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class AsOfSchema(Schema):
    at = fields.Date(metadata={"description": "Compute as of this day (default today)"})


class DrillArgsSchema(AsOfSchema):
    point = fields.String(required=True, metadata={"description": "A figure's point (JSON)"})
    limit = fields.Integer(load_default=50, validate=lambda n: 1 <= n <= MAX_LIMIT)
    cursor = fields.String()


def _context(app_key: str, args: dict[str, Any]) -> Any:
    return dashboards.context(require_user(), app_key, args.get("at"))


@blp.route("/<app_key>/dashboards", methods=["GET"])
@blp.response(200)
def list_dashboards(app_key: str) -> Any:
    """The app's dashboards."""
    return {"items": dashboards.list_dashboards(_context(app_key, {}))}


@blp.route("/<app_key>/dashboards/<key>", methods=["GET"])
@blp.arguments(AsOfSchema, location="query")
@blp.response(200)
def get_dashboard(args: dict[str, Any], app_key: str, key: str) -> Any:
    """A dashboard with every widget's figures."""
    return dashboards.dashboard(_context(app_key, args), key)


@blp.route("/<app_key>/dashboards/<key>/widgets/<widget>", methods=["GET"])
@blp.arguments(AsOfSchema, location="query")
@blp.response(200)
def get_widget(args: dict[str, Any], app_key: str, key: str, widget: str) -> Any:
    """One widget's figures."""
    return dashboards.widget_data(_context(app_key, args), key, widget)


@blp.route("/<app_key>/dashboards/<key>/widgets/<widget>/records", methods=["GET"])
@blp.arguments(DrillArgsSchema, location="query")
@blp.response(200)
def drill(args: dict[str, Any], app_key: str, key: str, widget: str) -> Any:
    """The records behind one figure of the widget."""
    try:
        point = json.loads(args["point"])
    except ValueError:
        message = gettext("insight.error.bad_point")
        raise ValidationFailed(message, [Problem("point", message, "invalid_json")]) from None
    return dashboards.drill(_context(app_key, args), key, widget, point, args["limit"],
                            args.get("cursor"))


@blp.route("/<app_key>/dashboards/<key>/widgets/<widget>/export", methods=["GET"])
@blp.arguments(AsOfSchema, location="query")
@blp.response(200, description="An .xlsx file")
def export(args: dict[str, Any], app_key: str, key: str, widget: str) -> Response:
    """The widget's figures as .xlsx."""
    out = dashboards.export_widget(_context(app_key, args), key, widget)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=f"{widget}.xlsx")
