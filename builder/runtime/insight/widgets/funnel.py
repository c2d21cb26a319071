"""The sales funnel of a stage flow: records per stage, conversion from stage to stage."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.i18n import localized
from builder.runtime.insight.metrics import Group, InsightContext, MetricQuery
from builder.runtime.insight.widgets import Drill, Widget, bad_point, widget_registry


def _flow(ctx: InsightContext, widget: Mapping[str, Any]) -> Mapping[str, Any]:
    key = (widget.get("options") or {}).get("flow")
    for flow in ctx.app.get("stage_flows") or []:
        if flow.get("key") == key:
            return flow
    raise bad_point("options.flow", "insight.error.bad_flow")


@widget_registry.register
class Funnel(Widget):
    """Per stage (in flow order): the records now in it, those that reached it (now in it
    or in a later stage, lost ones excluded), and the conversion from the stage before.

    ``metrics[0]`` is a count over the flow's entity (its filter applies, e.g. this
    quarter's opportunities); its window is the metric's period unless ``window: all``."""

    type = "funnel"

    def data(self, ctx: InsightContext, widget: Mapping[str, Any]) -> dict[str, Any]:
        flow = _flow(ctx, widget)
        query = self._query(ctx, widget, flow)
        window = self.window(ctx, query, widget, {})
        counts = query.values(window, Group(field=str(flow["field"])))
        stages = list(flow.get("stages") or [])
        lost = {s["key"] for s in stages if s.get("terminal") == "lost"}
        ordered = [s for s in stages if s["key"] not in lost]
        rows = []
        reached = 0
        for stage in reversed(ordered):
            reached += counts.get(stage["key"], 0) or 0
            rows.append({"stage": stage["key"], "label": localized(stage.get("title"))
                         or stage["key"], "count": counts.get(stage["key"], 0) or 0,
                         "reached": reached, "probability": stage.get("probability"),
                         "point": {"series": query.key, "group": stage["key"]}})
        rows.reverse()
        for before, row in zip([None, *rows], rows, strict=False):
            row["conversion"] = (round(row["reached"] / before["reached"], 4)
                                 if before and before["reached"] else None)
        dwell = self._dwell(ctx, query, flow, window)
        for row in rows:
            figures = dwell.get(row["stage"], {})
            row["dwell_seconds"] = figures.get("average_seconds")
            row["median_dwell_seconds"] = figures.get("median_seconds")
        lost_rows = [{"stage": s["key"], "label": localized(s.get("title")) or s["key"],
                      "count": counts.get(s["key"], 0) or 0,
                      "point": {"series": query.key, "group": s["key"]}}
                     for s in stages if s["key"] in lost]
        table = {"columns": ["", "count", "reached", "conversion", "dwell_seconds"],
                 "rows": [[r["label"], r["count"], r["reached"], r["conversion"],
                           r["dwell_seconds"]] for r in rows]}
        return {"flow": flow["key"], "series": query.key,
                "window": window.as_dict() if window else None, "stages": rows,
                "lost": lost_rows, "table": table}

    @staticmethod
    def _dwell(ctx: InsightContext, query: MetricQuery, flow: Mapping[str, Any],
               window: Any) -> dict[str, Mapping[str, Any]]:
        """Average and median time in each stage, from the stage history of the records
        the funnel counts (the metric's filter and window, the viewer's scope)."""
        from builder.runtime.access import row_scope
        from builder.runtime.workflow.stage_stats import dwell_by_stage

        scope = row_scope(query.store, ctx.user)
        if scope is False:
            return {}
        parts = [p for p in (query.drill_logic(window), scope) if p is not None]
        record_filter = {"and": parts} if parts else None
        figures = dwell_by_stage(query.store.tenant_id, query.store.app_key, str(flow["key"]),
                                 record_filter, context=ctx.rule_context)
        return {str(f["stage"]): f for f in figures}

    def _query(self, ctx: InsightContext, widget: Mapping[str, Any],
               flow: Mapping[str, Any]) -> MetricQuery:
        query = self.metrics(ctx, widget)[0]
        if query.store.key != flow.get("entity") or query.aggregate != "count":
            raise bad_point("metrics", "insight.error.funnel_metric")
        return query

    def drill(self, ctx: InsightContext, widget: Mapping[str, Any],
              point: Mapping[str, Any]) -> Drill:
        flow = _flow(ctx, widget)
        query = self._query(ctx, widget, flow)
        stages = {s["key"] for s in flow.get("stages") or []}
        if point.get("group") not in stages:
            raise bad_point("point.group", "insight.error.bad_point")
        window = self.window(ctx, query, widget, point)
        return query.store, query.drill_logic(window, Group(field=str(flow["field"])),
                                              point["group"])
