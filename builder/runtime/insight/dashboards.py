"""Dashboards of a published app: their widgets' data, drill-down lists and exports.

Every figure is computed for the viewer (``InsightContext``): their row scope, their
``$user`` in metric filters, "today" in the tenant's zone (or a day they ask for).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date
from typing import IO, Any

from builder.database import utcnow
from builder.errors import NotFound
from builder.i18n import gettext, localized
from builder.registry import UnknownType
from builder.runtime.documents.sheets import write_xlsx
from builder.runtime.insight import widgets as _widgets  # noqa: F401  (registers types)
from builder.runtime.insight.metrics import InsightContext
from builder.runtime.insight.periods import DEFAULT_ZONE, today
from builder.runtime.insight.widgets import (  # noqa: F401  (registers types)
    bad_point,
    basic,
    checklist,
    funnel,
    punchcard,
    targets,
    widget_registry,
)
from builder.runtime.query.listing import ListQuery
from builder.runtime.records import RecordService
from builder.runtime.storage.tables import load_stores


def context(user: Any, app_key: str, at: date | None = None) -> InsightContext:
    from builder.designer.service import live_app
    from builder.platform.service import user_context

    app, definition = live_app(user.tenant_id, app_key)
    stores = load_stores(user.tenant_id, app.id, app.live_revision or "", definition)
    now = utcnow()
    rule_context = {"$user": user_context(user),
                    "$now": now.isoformat().replace("+00:00", "Z")}
    return InsightContext(stores, user, at or today(DEFAULT_ZONE, now), DEFAULT_ZONE,
                          rule_context)


def _dashboard(ctx: InsightContext, key: str) -> Mapping[str, Any]:
    for dashboard in ctx.app.get("dashboards") or []:
        if dashboard.get("key") == key:
            return dashboard
    raise NotFound(gettext("insight.error.no_dashboard", dashboard=key))


def _widget(ctx: InsightContext, dashboard_key: str, widget_key: str
            ) -> Mapping[str, Any]:
    for widget in _dashboard(ctx, dashboard_key).get("widgets") or []:
        if widget.get("key") == widget_key:
            return widget
    raise NotFound(gettext("insight.error.no_widget", widget=widget_key))


def _type(widget: Mapping[str, Any]) -> Any:
    try:
        return widget_registry.get(str(widget.get("type")))
    except UnknownType:
        raise bad_point("type", "insight.error.unknown_widget",
                        type=str(widget.get("type"))) from None


def list_dashboards(ctx: InsightContext) -> list[dict[str, Any]]:
    return [{"key": d["key"], "title": d.get("title"), "widgets": len(d.get("widgets") or [])}
            for d in ctx.app.get("dashboards") or []]


def widget_data(ctx: InsightContext, dashboard_key: str, widget_key: str) -> dict[str, Any]:
    """One widget's figures, each with the ``point`` to drill into."""
    widget = _widget(ctx, dashboard_key, widget_key)
    data = _type(widget).data(ctx, widget)
    return {"key": widget["key"], "type": widget["type"], "title": widget.get("title"),
            "layout": widget.get("layout"), "today": ctx.today.isoformat(), "data": data}


def dashboard(ctx: InsightContext, key: str) -> dict[str, Any]:
    """A dashboard with the data of every widget."""
    found = _dashboard(ctx, key)
    return {"key": found["key"], "title": found.get("title"), "today": ctx.today.isoformat(),
            "widgets": [widget_data(ctx, key, w["key"]) for w in found.get("widgets") or []]}


def drill(ctx: InsightContext, dashboard_key: str, widget_key: str, point: Any,
          limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """The records behind one figure: the same filter and scope, paged, with the total."""
    if not isinstance(point, Mapping):
        raise bad_point("point", "insight.error.bad_point")
    widget = _widget(ctx, dashboard_key, widget_key)
    store, logic = _type(widget).drill(ctx, widget, point)
    service = RecordService(store, ctx.user, stores=ctx.stores)
    page = service.list(ListQuery(filter=logic, limit=limit, cursor=cursor, count=True))
    return {"entity": store.key, "filter": logic, **page}


def export_widget(ctx: InsightContext, dashboard_key: str, widget_key: str,
                  out: IO[bytes] | None = None) -> IO[bytes]:
    """The widget's figures as an .xlsx sheet."""
    widget = _widget(ctx, dashboard_key, widget_key)
    table = _type(widget).data(ctx, widget)["table"]
    out = out or io.BytesIO()
    title = localized(widget.get("title")) or widget["key"]
    write_xlsx(out, title, [str(c) for c in table["columns"]], table["rows"])
    out.seek(0)
    return out
