"""Sections of a scheduled report: one class per type in ``report_section_registry``.

A section computes its data for one reader (``InsightContext``: their permissions, the
report's period) and writes it as lines of Markdown in the active language, which every
channel can show (inbox, email, DingTalk/WeCom markdown, Feishu cards).

- ``metrics``: each metric in the reported period, the period before, and the change.
- ``widget``: any dashboard widget's figures (a funnel, a leaderboard...), from its table.
- ``stuck_records``: the records of an entity that waited longest (``idle_field``,
  ``updated_at`` by default), with how long and who touched them last.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from builder.database import utcnow
from builder.errors import Forbidden
from builder.i18n import gettext, localized
from builder.registry import Registrable, Registry
from builder.runtime.insight.metrics import InsightContext, MetricQuery
from builder.runtime.insight.periods import Window
from builder.runtime.reports.texts import number_text, percent_text
from builder.runtime.reports.viewer import record_reader
from builder.schema.linker import DATE_KINDS

if TYPE_CHECKING:
    from builder.schema.linker import Linker

Data = dict[str, Any]


class ReportSection(Registrable):
    type = ""

    def compute(self, ctx: InsightContext, section: Mapping[str, Any], window: Window,
                period: str) -> Data:
        """The section's figures for the reader of ``ctx`` over ``window``."""
        raise NotImplementedError

    def lines(self, data: Data, section: Mapping[str, Any]) -> list[str]:
        """The figures as Markdown lines in the active language."""
        raise NotImplementedError

    def default_title(self, ctx: InsightContext, section: Mapping[str, Any]) -> str:
        return str(section.get("key"))

    def metrics(self, section: Mapping[str, Any]) -> list[str]:
        """Metric keys the circuit breaker watches by default."""
        return []

    def lint(self, linker: Linker, section: Mapping[str, Any], path: str) -> None:
        """Report problems of the section at ``path``."""


report_section_registry: Registry[ReportSection] = Registry("report section")


def change(value: Any, previous: Any) -> float | None:
    if value is None or not previous:
        return None
    return round((value - previous) / abs(previous), 4)


def metric_figures(ctx: InsightContext, key: str, window: Window, period: str) -> Data:
    """A metric over ``window``, over the period before it, and the change."""
    query = MetricQuery(ctx, key)
    value = query.values(window)[None]
    previous = query.values(window.previous(period))[None] if query.time_field else None
    return {"metric": key, "title": localized(query.metric.get("title")) or key,
            "value": value, "previous": previous, "change": change(value, previous)}


@report_section_registry.register
class MetricsSection(ReportSection):
    type = "metrics"

    def compute(self, ctx: InsightContext, section: Mapping[str, Any], window: Window,
                period: str) -> Data:
        return {"items": [metric_figures(ctx, str(key), window, period)
                          for key in section.get("metrics") or []]}

    def lines(self, data: Data, section: Mapping[str, Any]) -> list[str]:
        return [gettext("reports.line.metric", title=item["title"],
                        value=number_text(item["value"]),
                        previous=number_text(item["previous"]),
                        change=percent_text(item["change"])) for item in data["items"]]

    def default_title(self, ctx: InsightContext, section: Mapping[str, Any]) -> str:
        return gettext("reports.section.metrics")

    def metrics(self, section: Mapping[str, Any]) -> list[str]:
        return [str(k) for k in section.get("metrics") or []]

    def lint(self, linker: Linker, section: Mapping[str, Any], path: str) -> None:
        keys = section.get("metrics")
        if not keys:
            linker.add(f"{path}.metrics", "required")
        for index, key in enumerate(keys if isinstance(keys, list) else []):
            if isinstance(key, str) and key not in linker.metrics:
                linker.add(f"{path}.metrics[{index}]", "unknown_metric", metric=key)


def column_title(name: str) -> str:
    """A widget table's column as people read it (its own name when unknown)."""
    key = f"reports.column.{name}"
    text = gettext(key)
    return name if text == key else text


def _find(items: Any, key: Any) -> Mapping[str, Any] | None:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and item.get("key") == key:
            return item
    return None


@report_section_registry.register
class WidgetSection(ReportSection):
    type = "widget"

    def compute(self, ctx: InsightContext, section: Mapping[str, Any], window: Window,
                period: str) -> Data:
        from builder.runtime.insight import dashboards

        found = dashboards.widget_data(ctx, str(section["dashboard"]), str(section["widget"]))
        return {"title": localized(found.get("title")), "table": found["data"]["table"]}

    def lines(self, data: Data, section: Mapping[str, Any]) -> list[str]:
        columns = [column_title(str(c)) for c in data["table"]["columns"]]
        lines = []
        for row in data["table"]["rows"]:
            cells = [f"{name} {number_text(value)}" if name else number_text(value)
                     for name, value in zip(columns[1:], row[1:], strict=False)]
            lines.append(f"- {row[0]}: {' · '.join(cells)}")
        return lines or [gettext("reports.line.none")]

    def default_title(self, ctx: InsightContext, section: Mapping[str, Any]) -> str:
        dashboard = _find(ctx.app.get("dashboards"), section.get("dashboard")) or {}
        widget = _find(dashboard.get("widgets"), section.get("widget"))
        return localized((widget or {}).get("title")) or str(section.get("widget"))

    def lint(self, linker: Linker, section: Mapping[str, Any], path: str) -> None:
        for name in ("dashboard", "widget"):
            if not section.get(name):
                linker.add(f"{path}.{name}", "required")
        dashboard = _find(linker.app.get("dashboards"), section.get("dashboard"))
        if section.get("dashboard") and dashboard is None:
            linker.add(f"{path}.dashboard", "unknown_dashboard",
                       dashboard=section["dashboard"])
        elif dashboard is not None and section.get("widget") and \
                _find(dashboard.get("widgets"), section["widget"]) is None:
            linker.add(f"{path}.widget", "unknown_widget", widget=section["widget"])


def _moment(value: Any, zone: str) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), ZoneInfo(zone))
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def duration_text(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86400)
    hours = rest // 3600
    if days:
        return gettext("reports.duration.days", days=days, hours=hours)
    return gettext("reports.duration.hours", hours=hours, minutes=rest % 3600 // 60)


@report_section_registry.register
class StuckRecords(ReportSection):
    """The top ``limit`` records (matching ``filter``) idle the longest."""

    type = "stuck_records"

    def compute(self, ctx: InsightContext, section: Mapping[str, Any], window: Window,
                period: str) -> Data:
        from builder.runtime.documents.lookups import title_field, user_names
        from builder.runtime.query.listing import ListQuery
        from builder.runtime.records import RecordService

        store = ctx.stores[str(section["entity"])]
        idle = str(section.get("idle_field") or "updated_at")
        query = ListQuery(filter=section.get("filter"), sort=idle,
                          limit=int(section.get("limit") or 5))
        try:
            page = RecordService(store, record_reader(ctx), stores=ctx.stores).list(query)
        except Forbidden:
            return {"items": []}
        now = utcnow()
        name_key = title_field(store)
        actors = user_names(store.tenant_id, [r.get("updated_by") for r in page["items"]])
        items = []
        for record in page["items"]:
            since = _moment(record.get(idle), ctx.zone)
            items.append({
                "id": record["id"],
                "title": str(record.get(name_key) or f"#{record['id']}") if name_key
                else f"#{record['id']}",
                "idle_seconds": (now - since).total_seconds() if since else None,
                "last_actor": actors.get(record.get("updated_by") or 0),
                "columns": {k: record.get(k) for k in section.get("columns") or []}})
        return {"entity": store.key, "items": items}

    def lines(self, data: Data, section: Mapping[str, Any]) -> list[str]:
        lines = []
        for index, item in enumerate(data["items"], 1):
            extra = "".join(f" · {number_text(v)}" for v in item["columns"].values()
                            if v is not None)
            idle = duration_text(item["idle_seconds"]) if item["idle_seconds"] is not None \
                else "-"
            lines.append(gettext("reports.line.stuck", index=index, title=item["title"],
                                 idle=idle, actor=item["last_actor"] or "-") + extra)
        return lines or [gettext("reports.line.none")]

    def default_title(self, ctx: InsightContext, section: Mapping[str, Any]) -> str:
        return gettext("reports.section.stuck", limit=section.get("limit") or 5)

    def lint(self, linker: Linker, section: Mapping[str, Any], path: str) -> None:
        if not section.get("entity"):
            linker.add(f"{path}.entity", "required")
            return
        info = linker.entity(section.get("entity"), f"{path}.entity")
        linker.logic(section.get("filter"), f"{path}.filter", info)
        linker.field(info, section.get("idle_field"), f"{path}.idle_field", kinds=DATE_KINDS)
        linker.fields(info, section.get("columns"), f"{path}.columns")


def period_label(window: Window) -> str:
    last = window.end - timedelta(days=1)
    if last == window.start:
        return window.start.isoformat()
    return f"{window.start.isoformat()} ~ {last.isoformat()}"
