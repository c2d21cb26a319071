"""Alerts on metrics and scheduled reports, configured in the app definition.

- ``alerts[]`` (``alerts``): on a cron schedule, a metric per subject (owner, team,
  dimension) is judged against its target, the previous period or the team average;
  when the condition held for the required consecutive periods, the alert's actions run
  (create a record, notify the subject's manager), once per period per subject.
- ``reports[]`` (``runs``): on a cron schedule, a digest of metrics, widgets and stuck
  records goes to each recipient with their own figures, and to group robots; a circuit
  breaker holds it for an admin when a figure jumped against the previous period.

The contract for other parts::

    from builder.runtime.reports import make_run, release, discard, run_alert
    run_alert(tenant_id, app_key, alert_key, at=None) -> [AlertFiring]
    make_run(tenant_id, app_key, report_key, at=None) -> ReportRun
    release(tenant_id, app_key, run_id, user_id) -> ReportRun
    discard(tenant_id, app_key, run_id, user_id) -> ReportRun

All of them work in the caller's transaction. ``init_app`` registers the timer handlers
and keeps the timers in step with publishing.
"""

from __future__ import annotations

from flask import Flask

from builder.runtime.reports.alerts import run_alert
from builder.runtime.reports.runs import discard, make_run, release

__all__ = ["discard", "init_app", "make_run", "release", "run_alert"]


def init_app(app: Flask) -> None:
    from builder.runtime.reports import schedules

    schedules.install()
