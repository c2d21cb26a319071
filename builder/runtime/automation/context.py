"""What conditions, values and messages of automations see, and the clock they read.

Rule data is the record (its fields at the top level, as the API shows them) plus the
context values: ``$old`` (the record before the change), ``$user`` (who triggered it),
``$now`` (UTC ISO datetime), ``$today`` (the date in the tenant's time zone), ``$trigger``
(what the trigger saw: the changed field's ``old`` and ``new`` value, the stage event,
the approval outcome...), ``$payload`` (the JSON an inbound webhook received) and the
platform's ``$count`` (``$count.<entity>.<relation field>``: records pointing at it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context

from builder import clock
from builder.i18n import localized
from builder.runtime.rules.evaluator import (
    KNOWN_OPERATORS,
    evaluate,
    js_get,
    js_to_string,
    truthy,
)
from builder.runtime.storage.tables import EntityStore

DEFAULT_TIMEZONE = "Asia/Shanghai"
_PLACEHOLDER = re.compile(r"\{(\$?[A-Za-z_][A-Za-z0-9_.$]*)\}")


def now() -> datetime:
    """The current time (UTC) as the platform's business clock tells it."""
    return clock.now()


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def tenant_timezone(tenant_id: int | None = None, name: str | None = None) -> ZoneInfo:
    """The time zone of working hours and dates: ``name`` when given, else the tenant's
    (``Tenant.timezone`` where the platform has one), else ``DEFAULT_TIMEZONE`` (config)."""
    candidates = [name]
    if tenant_id is not None:
        from builder.extensions import db
        from builder.platform.models import Tenant

        tenant = db.session.get(Tenant, tenant_id)
        candidates.append(getattr(tenant, "timezone", None))
    if has_app_context():
        candidates.append(current_app.config.get("DEFAULT_TIMEZONE"))
    candidates.append(DEFAULT_TIMEZONE)
    for candidate in candidates:
        if candidate:
            try:
                return ZoneInfo(str(candidate))
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo(DEFAULT_TIMEZONE)


def rule_data(record: Mapping[str, Any] | None, *, at: datetime,
              context: Mapping[str, Any] | None = None,
              user_context: Mapping[str, Any] | None = None,
              timezone: ZoneInfo | None = None,
              store: EntityStore | None = None) -> dict[str, Any]:
    """The mapping a condition or value rule is evaluated against; with ``store`` it
    carries ``$count`` (files, rows and pointing records, counted when read)."""
    data: dict[str, Any] = dict(record or {})
    data.update(context or {})
    if store is not None and record is not None:
        from builder.runtime.records.counts import with_counts
        from builder.runtime.storage.tables import sibling_stores

        record_id = record.get("id")
        data = with_counts(data, store, sibling_stores(store), record,
                           record_id if isinstance(record_id, int) else None)
    data["$user"] = dict(user_context or {})
    data["$now"] = iso(at)
    data["$today"] = at.astimezone(timezone or ZoneInfo(DEFAULT_TIMEZONE)).date().isoformat()
    return data


def matches(condition: Any, data: Mapping[str, Any]) -> bool:
    """Whether ``condition`` (JsonLogic; none means always) holds for ``data``."""
    return condition is None or truthy(evaluate(condition, data))


def value_of(logic: Any, data: Mapping[str, Any]) -> Any:
    """A value given as JsonLogic; objects that are not rules and lists are built from
    their items, so ``{"name": {"var": "name"}}`` is an object with a computed value."""
    if isinstance(logic, Mapping) and not (len(logic) == 1
                                           and next(iter(logic)) in KNOWN_OPERATORS):
        return {k: value_of(v, data) for k, v in logic.items()}
    if isinstance(logic, list):
        return [value_of(item, data) for item in logic]
    return evaluate(logic, data)


def render_text(template: Any, data: Mapping[str, Any], language: str | None = None) -> str:
    """A message text: a string with ``{field}`` / ``{$old.field}`` placeholders, a
    ``{"zh-CN": ..., "en": ...}`` map of such strings, or a JsonLogic rule (``cat``...)."""
    if isinstance(template, Mapping) and len(template) == 1 \
            and next(iter(template)) not in ("zh-CN", "en"):
        return js_to_string(evaluate(template, data))
    if isinstance(template, Mapping):
        template = localized(dict(template), language)
    if not isinstance(template, str):
        return "" if template is None else js_to_string(template)

    def fill(match: re.Match[str]) -> str:
        value: Any = data
        for part in match.group(1).split("."):
            value = js_get(value, part, None)
            if value is None:
                return ""
        if isinstance(value, list):
            return ", ".join(js_to_string(v) for v in value)
        return js_to_string(value)

    return _PLACEHOLDER.sub(fill, template)
