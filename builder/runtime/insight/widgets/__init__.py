"""Dashboard widgets: one class per type in ``widget_registry``.

A widget turns its definition (``dashboards[].widgets[]``: type, metrics, group_by,
options) into data for a chart: every number it shows comes with a ``point`` that the
client sends back to ``drill`` to list exactly the records behind it, and a ``table`` (the
same figures as columns and rows) for export and screen readers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from builder.errors import Problem, ValidationFailed
from builder.i18n import gettext, localized
from builder.registry import Registrable, Registry
from builder.runtime.documents import lookups
from builder.runtime.insight.metrics import InsightContext, MetricQuery
from builder.runtime.insight.periods import Window
from builder.runtime.storage.tables import EntityStore

Drill = tuple[EntityStore, Any]


class Widget(Registrable):
    """Base class; subclasses set ``type`` and implement ``data`` and ``drill``."""

    type = ""

    def data(self, ctx: InsightContext, widget: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def drill(self, ctx: InsightContext, widget: Mapping[str, Any],
              point: Mapping[str, Any]) -> Drill:
        """The entity and JsonLogic filter of the records behind ``point``."""
        raise NotImplementedError

    # -- shared helpers ---------------------------------------------------------------------

    @staticmethod
    def option(widget: Mapping[str, Any], name: str, default: Any = None) -> Any:
        return (widget.get("options") or {}).get(name, default)

    def metrics(self, ctx: InsightContext, widget: Mapping[str, Any]) -> list[MetricQuery]:
        keys = widget.get("metrics") or []
        if not keys:
            raise bad_point("metrics", "insight.error.no_metrics")
        return [MetricQuery(ctx, str(key)) for key in keys]

    def series(self, ctx: InsightContext, widget: Mapping[str, Any],
               point: Mapping[str, Any]) -> MetricQuery:
        keys = [str(k) for k in widget.get("metrics") or []]
        key = point.get("series", keys[0] if keys else None)
        if key not in keys:
            raise bad_point("point.series", "insight.error.bad_point")
        return MetricQuery(ctx, str(key))

    def window(self, ctx: InsightContext, query: MetricQuery, widget: Mapping[str, Any],
               point: Mapping[str, Any]) -> Window | None:
        """The time window of the widget: the metric's current period, or none when the
        widget asks for ``"window": "all"``."""
        if self.option(widget, "window") == "all" or not query.time_field:
            return None
        return Window.of(ctx.today, query.period, ctx.zone)

    def bucket_period(self, query: MetricQuery, widget: Mapping[str, Any]) -> str:
        return str(self.option(widget, "bucket") or query.period)


def group_field(widget: Mapping[str, Any]) -> str:
    return str(widget.get("group_by") or "owner")


def bad_point(path: str, key: str, **params: Any) -> ValidationFailed:
    message = gettext(key, **params)
    return ValidationFailed(message, [Problem(path, message, "invalid")])


def labels(store: EntityStore, stores: Mapping[str, EntityStore], key: str,
           values: Sequence[Any]) -> dict[Any, str]:
    """What a person reads for each group value of field ``key``."""
    field_def = store.fields.get(key, {})
    kind = field_def.get("type")
    present = [v for v in values if v is not None]
    if key in ("owner", "created_by", "updated_by") or kind == "user":
        names = lookups.user_names(store.tenant_id, present)
        found: dict[Any, str] = {v: names.get(v, f"#{v}") for v in present}
    elif kind == "relation" and str(field_def.get("entity")) in stores:
        found = dict(lookups.record_titles(stores[str(field_def["entity"])], present))
    elif kind == "select":
        found = {v: lookups.option_title(field_def, v) for v in present}
    elif kind == "boolean":
        found = {v: gettext("documents.value.yes" if v else "documents.value.no")
                 for v in present}
    else:
        found = {v: str(v) for v in present}
    if None in values:
        found[None] = gettext("insight.label.empty")
    return found


def metric_title(query: MetricQuery) -> str:
    return localized(query.metric.get("title")) or query.key


widget_registry: Registry[Widget] = Registry("widget")
