"""Automation engines that react to records: automations (triggers, conditions, actions,
run log), SLA timers, and assignment (``assignment*`` modules, wired by their own
``assignment.init_app``).

``init_app`` registers the engines on the record events and on app publishing; the
modules: ``engine`` (triggers → queued runs), ``runner`` (executing runs), ``runs`` (the
run log), ``hooks`` (inbound webhooks), ``schedules`` (timers of timed triggers), ``sla``
(SLA clocks and escalations), ``triggers`` and ``actions`` (the registries of trigger and
action types).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from builder.runtime.automation import engine, schedules, sla

    engine.install()
    sla.install()
    schedules.install()
