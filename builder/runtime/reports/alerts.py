"""Alerts on metrics: judged on their schedule, firing once per period per subject.

``run_alert`` computes the alert's metric per subject over the last ``periods`` periods
(``figures.SubjectFigures``), and for every subject whose figures satisfy the condition
in each of them it records an ``AlertFiring`` and runs the actions. The firing's unique
key (alert, subject, last period) is the guard: a second run in the same period, in this
process or another, inserts nothing and does nothing. Everything happens in the caller's
transaction (the timer's): firings and what their actions wrote commit together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from builder.database import utcnow
from builder.errors import NotFound
from builder.extensions import db
from builder.i18n import gettext, localized
from builder.runtime.reports.actions import AlertContext, alert_action_registry
from builder.runtime.reports.figures import SubjectFigures
from builder.runtime.reports.models import AlertFiring, insert_once
from builder.runtime.reports.viewer import system_context
from builder.runtime.rules.evaluator import evaluate, truthy
from builder.schema.reports import DEFAULT_TIMEZONE, TEAM_SUBJECT

MAX_LIST = 200


def find(definition: Mapping[str, Any], part: str, key: str) -> Mapping[str, Any]:
    """The item ``key`` of ``definition[part]`` (``alerts`` or ``reports``), or NotFound."""
    for item in definition.get(part) or []:
        if item.get("key") == key:
            return dict(item)
    raise NotFound(gettext(f"reports.error.no_{part[:-1]}", name=key))


def _holds(condition: Any, figures: Mapping[str, Any]) -> bool:
    return truthy(evaluate(condition, dict(figures)))


def run_alert(tenant_id: int, app_key: str, alert_key: str, at: datetime | None = None
              ) -> list[AlertFiring]:
    """Judge alert ``alert_key`` of the live app as of ``at`` (now) and fire it for every
    subject that meets it and has not fired for this period; returns the new firings.

    Runs in the caller's transaction (flushes, never commits)."""
    from builder.designer.service import live_app

    _app, definition = live_app(tenant_id, app_key)
    alert = find(definition, "alerts", alert_key)
    zone = str((alert.get("schedule") or {}).get("timezone") or DEFAULT_TIMEZONE)
    today = (at or utcnow()).astimezone(ZoneInfo(zone)).date()
    ctx = system_context(tenant_id, app_key, today, zone)
    figures = SubjectFigures(ctx, alert)
    windows = figures.windows(int(alert.get("periods") or 1), bool(alert.get("current")))
    latest = figures.figures(windows[-1])
    earlier = [figures.figures(w, set(latest)) for w in windows[:-1]]
    fired: list[AlertFiring] = []
    for subject in sorted(latest, key=str):
        history = [period[subject] for period in earlier] + [latest[subject]]
        if not all(_holds(alert["condition"], f) for f in history):
            continue
        firing = _claim(tenant_id, app_key, alert, subject, windows[-1], history)
        if firing is None:
            continue
        data = {**history[-1], "periods": history, "alert": alert["key"],
                "alert_title": localized(alert.get("title"))}
        action_ctx = AlertContext(tenant_id, app_key, ctx.stores, alert, subject,
                                  alert.get("subject") == TEAM_SUBJECT, data)
        firing.results = [alert_action_registry.get(str(action["type"])).run(
            action, action_ctx) for action in alert.get("actions") or []]
        db.session.flush()
        fired.append(firing)
    return fired


def _claim(tenant_id: int, app_key: str, alert: Mapping[str, Any], subject: Any,
           window: Any, history: list[dict[str, Any]]) -> AlertFiring | None:
    """Record the firing, or ``None`` when the subject already fired for the period."""
    firing = AlertFiring(tenant_id=tenant_id, app_key=app_key, alert_key=alert["key"],
                         subject=str(subject)[:200], period_start=window.start,
                         period_end=window.end - timedelta(days=1), figures=history, results=[],
                         created_at=utcnow())
    return firing if insert_once(firing) else None


def list_firings(tenant_id: int, app_key: str, alert_key: str | None = None,
                 limit: int = 50) -> list[AlertFiring]:
    """The app's firings (of one alert), newest first."""
    query = sa.select(AlertFiring).where(AlertFiring.tenant_id == tenant_id,
                                         AlertFiring.app_key == app_key)
    if alert_key:
        query = query.where(AlertFiring.alert_key == alert_key)
    limit = max(1, min(limit, MAX_LIST))
    return list(db.session.scalars(query.order_by(AlertFiring.id.desc()).limit(limit)))
