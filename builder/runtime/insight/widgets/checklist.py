"""A self-check: each metric against the bar it must meet, one point per item met.

The sales health check of the seed documents is one: ten figures (2-hour response rate,
customer-information completeness...), each with its bar ("≥ 90%"), scored out of ten,
and a verdict by score band. The widget's ``metrics`` are the items in order (so the
linker checks every key); ``options.items[i]`` describes ``metrics[i]``::

    {"op": ">=", "target": 0.9, "title": {...}, "expect": {...}, "window": "all"}

``op`` is one of ``>=``, ``>``, ``<=``, ``<``, ``==``; an item whose metric has no value
(nothing to measure yet) is not met. ``options.bands`` (``[{"min": 0, "title": ...},
{"min": 6, ...}]``) name the verdict for a score. Each figure drills down to its records.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from builder.i18n import gettext, localized
from builder.runtime.insight.metrics import InsightContext, MetricQuery
from builder.runtime.insight.periods import Window
from builder.runtime.insight.widgets import (
    Drill,
    Widget,
    bad_point,
    metric_title,
    widget_registry,
)

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
    "==": operator.eq}


@widget_registry.register
class Checklist(Widget):
    """Metrics checked against their bars, with a score and a verdict."""

    type = "checklist"

    def items(self, widget: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        items = self.option(widget, "items", [])
        keys = widget.get("metrics") or []
        if not isinstance(items, list) or len(items) != len(keys) or not all(
                isinstance(i, Mapping) and i.get("op") in OPERATORS
                and isinstance(i.get("target"), int | float) for i in items):
            raise bad_point("options.items", "insight.error.checklist_items")
        return items

    def item_window(self, ctx: InsightContext, query: MetricQuery, widget: Mapping[str, Any],
                    item: Mapping[str, Any]) -> Window | None:
        if item.get("window", self.option(widget, "window")) == "all" or not query.time_field:
            return None
        return Window.of(ctx.today, query.period, ctx.zone)

    def data(self, ctx: InsightContext, widget: Mapping[str, Any]) -> dict[str, Any]:
        rows = []
        for query, item in zip(self.metrics(ctx, widget), self.items(widget), strict=True):
            window = self.item_window(ctx, query, widget, item)
            value = query.values(window)[None]
            passed = value is not None and OPERATORS[item["op"]](value, item["target"])
            rows.append({"series": query.key,
                         "title": localized(item.get("title")) or metric_title(query),
                         "expect": localized(item.get("expect")) or
                         f"{item['op']} {item['target']}",
                         "value": value, "op": item["op"], "target": item["target"],
                         "passed": passed,
                         "window": window.as_dict() if window else None,
                         "point": {"series": query.key}})
        score = sum(1 for row in rows if row["passed"])
        verdict = None
        for band in sorted(self.option(widget, "bands", []) or [],
                           key=lambda b: b.get("min", 0) if isinstance(b, Mapping) else 0):
            if isinstance(band, Mapping) and score >= band.get("min", 0):
                verdict = localized(band.get("title"))
        yes, no = gettext("documents.value.yes"), gettext("documents.value.no")
        table = {"columns": ["", gettext("insight.label.checklist_expect"),
                             gettext("insight.label.checklist_value"),
                             gettext("insight.label.checklist_passed")],
                 "rows": [[r["title"], r["expect"], r["value"], yes if r["passed"] else no]
                          for r in rows]}
        return {"items": rows, "score": score, "max": len(rows), "verdict": verdict,
                "table": table}

    def drill(self, ctx: InsightContext, widget: Mapping[str, Any],
              point: Mapping[str, Any]) -> Drill:
        query = self.series(ctx, widget, point)
        keys = [str(k) for k in widget.get("metrics") or []]
        item = self.items(widget)[keys.index(query.key)]
        return query.store, query.drill_logic(self.item_window(ctx, query, widget, item))
