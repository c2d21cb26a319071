"""Scheduled reports: one run per period, composed per reader, held by a circuit breaker.

``make_run`` is what the report's timer does at its hour. It claims the run of the
period (unique per report and period: a second call finds it and does nothing), computes
the circuit breaker's figures over the whole tenant, composes one message per recipient
with that recipient's own permissions (and one per group robot), and either sends them
or, when a watched figure moved more than the threshold against the previous period,
keeps them and tells the tenant's admins. An admin then ``release``s the run (the stored
messages go out as they were reviewed) or ``discard``s it; a conditional UPDATE lets
exactly one decision through.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from builder.database import utcnow
from builder.errors import AppError, Conflict, Forbidden, NotFound
from builder.extensions import db
from builder.i18n import gettext, localized, use_language
from builder.platform.models import Role, User, user_roles
from builder.runtime.insight.metrics import InsightContext
from builder.runtime.insight.periods import Window
from builder.runtime.reports.alerts import find
from builder.runtime.reports.models import (
    DISCARDED,
    HELD,
    RELEASED,
    SENT,
    ReportMessage,
    ReportRun,
    insert_once,
)
from builder.runtime.reports.sections import (
    metric_figures,
    period_label,
    report_section_registry,
)
from builder.runtime.reports.texts import number_text, percent_text
from builder.runtime.reports.viewer import person_context, system_context, team_by_key
from builder.schema.reports import DEFAULT_TIMEZONE

MAX_LIST = 200


def require_admin(user: Any, app_key: str) -> None:
    """Reports and alerts are managed by those who may configure the app."""
    from builder.designer.service import live_app
    from builder.runtime.access import can_configure

    _app, definition = live_app(user.tenant_id, app_key)
    if not can_configure(user, definition):
        raise Forbidden(gettext("reports.error.forbidden"))


def report_window(report: Mapping[str, Any], at: datetime) -> tuple[Window, str]:
    """The period a report covers when it runs at ``at``, and its time zone."""
    zone = str((report.get("schedule") or {}).get("timezone") or DEFAULT_TIMEZONE)
    period = str(report.get("period") or "day")
    window = Window.of(at.astimezone(ZoneInfo(zone)).date(), period, zone)
    return (window if report.get("current") else window.previous(period)), zone


def _people(tenant_id: int, report: Mapping[str, Any]) -> list[User]:
    """The active users the report's ``recipients`` name, once each, in order."""
    found: dict[int, User] = {}
    for spec in report.get("recipients") or []:
        people: list[User] = []
        if "role" in spec:
            people = list(db.session.scalars(
                sa.select(User).join(user_roles, user_roles.c.user_id == User.id)
                .join(Role, Role.id == user_roles.c.role_id)
                .where(Role.tenant_id == tenant_id, Role.key == spec["role"])
                .order_by(User.id)))
        elif "team" in spec:
            team = team_by_key(tenant_id, str(spec["team"]))
            if team is not None:
                people = [*([team.manager] if team.manager else []), *team.members]
        else:
            names = [u for u in spec.get("users") or [] if isinstance(u, str)]
            ids = [u for u in spec.get("users") or [] if isinstance(u, int)]
            people = list(db.session.scalars(sa.select(User).where(
                User.tenant_id == tenant_id,
                sa.or_(User.username.in_(names), User.id.in_(ids))).order_by(User.id)))
        for person in people:
            if person.is_active and person.tenant_id == tenant_id:
                found.setdefault(person.id, person)
    return list(found.values())


def compose(ctx: InsightContext, report: Mapping[str, Any], window: Window,
            language: str) -> tuple[str, str]:
    """The subject and Markdown body of the report for the reader of ``ctx``."""
    period = str(report.get("period") or "day")
    with use_language(language):
        subject = gettext("reports.subject", title=localized(report.get("title")),
                          period=period_label(window))
        parts = []
        for section in report.get("sections") or []:
            kind = report_section_registry.get(str(section["type"]))
            try:
                data = kind.compute(ctx, section, window, period)
                lines = kind.lines(data, section)
            except AppError as error:  # e.g. a reader who may not see the entity
                data, lines = {}, [gettext("reports.line.unavailable", reason=error.message)]
            title = localized(section.get("title")) or data.get("title") \
                or kind.default_title(ctx, section)
            parts.append("\n".join([f"**{title}**", *lines]))
    return subject, "\n\n".join(parts)


def breaker_figures(ctx: InsightContext, report: Mapping[str, Any], window: Window
                    ) -> tuple[float | None, list[dict[str, Any]]]:
    """The circuit breaker's threshold and its figures over the whole tenant."""
    spec = report.get("circuit_breaker")
    if not spec:
        return None, []
    threshold = float(spec["threshold"])
    keys = list(spec.get("metrics") or []) or list(dict.fromkeys(
        key for section in report.get("sections") or []
        for key in report_section_registry.get(str(section["type"])).metrics(section)))
    period = str(report.get("period") or "day")
    figures = []
    for key in keys:
        item = metric_figures(ctx, str(key), window, period)
        item["breached"] = item["change"] is not None and abs(item["change"]) > threshold
        figures.append(item)
    return threshold, figures


def _claim(tenant_id: int, app_key: str, report: Mapping[str, Any], window: Window,
           threshold: float | None, figures: list[dict[str, Any]]) -> ReportRun | None:
    run = ReportRun(tenant_id=tenant_id, app_key=app_key, report_key=report["key"],
                    period_start=window.start, period_end=window.end - timedelta(days=1),
                    status=HELD if any(f["breached"] for f in figures) else SENT,
                    threshold=threshold, figures=figures, created_at=utcnow())
    return run if insert_once(run) else None


def _find_run(tenant_id: int, app_key: str, report_key: str, window: Window
              ) -> ReportRun | None:
    return db.session.scalar(sa.select(ReportRun).where(
        ReportRun.tenant_id == tenant_id, ReportRun.app_key == app_key,
        ReportRun.report_key == report_key, ReportRun.period_start == window.start))


def make_run(tenant_id: int, app_key: str, report_key: str, at: datetime | None = None
             ) -> ReportRun:
    """The run of report ``report_key`` for the period it covers at ``at`` (now): made,
    composed and sent (or held) if it did not exist, else the existing one untouched.

    Runs in the caller's transaction (flushes, never commits); notifications leave on
    commit."""
    from builder.designer.service import live_app

    _app, definition = live_app(tenant_id, app_key)
    report = find(definition, "reports", report_key)
    window, zone = report_window(report, at or utcnow())
    existing = _find_run(tenant_id, app_key, report_key, window)
    if existing is not None:
        return existing
    last_day = window.end - timedelta(days=1)
    threshold, figures = breaker_figures(
        system_context(tenant_id, app_key, last_day, zone), report, window)
    run = _claim(tenant_id, app_key, report, window, threshold, figures)
    if run is None:
        return _find_run(tenant_id, app_key, report_key, window)  # type: ignore[return-value]
    messages = _messages(run, report, window, zone)
    if run.status == HELD:
        _tell_admins(run, report)
    else:
        _deliver(run, messages)
    return run


def _messages(run: ReportRun, report: Mapping[str, Any], window: Window, zone: str
              ) -> list[ReportMessage]:
    last_day = window.end - timedelta(days=1)
    channels = list(report.get("channels") or ["inbox"])
    messages = []
    for person in _people(run.tenant_id, report):
        ctx = person_context(person, run.app_key, last_day, zone)
        subject, body = compose(ctx, report, window, person.language)
        messages.append(ReportMessage(run_id=run.id, recipient_id=person.id,
                                      channels=channels, subject={person.language: subject},
                                      body={person.language: body}, delivery_ids=[]))
    for robot in report.get("robots") or []:
        team = team_by_key(run.tenant_id, str(robot["team"])) if robot.get("team") else None
        if robot.get("team") and (team is None or team.manager is None):
            continue  # nobody whose view the team's robot could show
        ctx = person_context(team.manager, run.app_key, last_day, zone) if team and \
            team.manager else system_context(run.tenant_id, run.app_key, last_day, zone)
        language = str(robot.get("language") or "zh-CN")
        subject, body = compose(ctx, report, window, language)
        webhook = {k: robot[k] for k in ("url", "secret", "msgtype") if robot.get(k)}
        webhook["language"] = language
        messages.append(ReportMessage(run_id=run.id, recipient_id=None,
                                      channels=[str(robot.get("format") or "json")],
                                      webhook=webhook, subject={language: subject},
                                      body={language: body}, delivery_ids=[]))
    db.session.add_all(messages)
    db.session.flush()
    return messages


def _deliver(run: ReportRun, messages: list[ReportMessage]) -> None:
    from builder.runtime.notify import send

    now = utcnow()
    for message in messages:
        recipients = [message.recipient_id] if message.recipient_id is not None else []
        message.delivery_ids = send(run.tenant_id, recipients, message.subject, message.body,
                                    channels=message.channels, webhook=message.webhook)
        message.sent_at = now
    run.sent_at = now
    db.session.flush()


def _tell_admins(run: ReportRun, report: Mapping[str, Any]) -> None:
    """The tenant's admins read in their inbox which figures held the report."""
    from builder.runtime.notify import send

    admins = list(db.session.scalars(sa.select(User.id).where(
        User.tenant_id == run.tenant_id, User.is_tenant_admin.is_(True),
        User.is_active.is_(True)).order_by(User.id)))
    subject, body = {}, {}
    for language in ("zh-CN", "en"):
        with use_language(language):
            subject[language] = gettext("reports.held.subject",
                                        title=localized(report.get("title")))
            lines = [gettext("reports.held.line", title=f["title"],
                             value=number_text(f["value"]),
                             previous=number_text(f["previous"]),
                             change=percent_text(f["change"])) for f in run.breaches]
            body[language] = "\n".join([gettext(
                "reports.held.body", threshold=f"{(run.threshold or 0) * 100:g}%",
                run=run.id), *lines])
    if admins:
        send(run.tenant_id, admins, subject, body, channels=["inbox"])


# -- administration -------------------------------------------------------------------------


def get_run(tenant_id: int, app_key: str, run_id: int) -> ReportRun:
    run = db.session.scalar(sa.select(ReportRun).where(
        ReportRun.id == run_id, ReportRun.tenant_id == tenant_id,
        ReportRun.app_key == app_key))
    if run is None:
        raise NotFound(gettext("reports.error.no_run", id=run_id))
    return run


def run_messages(run: ReportRun) -> list[ReportMessage]:
    return list(db.session.scalars(sa.select(ReportMessage).where(
        ReportMessage.run_id == run.id).order_by(ReportMessage.id)))


def list_runs(tenant_id: int, app_key: str, *, status: str | None = None,
              report_key: str | None = None, limit: int = 50) -> list[ReportRun]:
    """The app's report runs, newest first (held ones are those awaiting a decision)."""
    query = sa.select(ReportRun).where(ReportRun.tenant_id == tenant_id,
                                       ReportRun.app_key == app_key)
    if status:
        query = query.where(ReportRun.status == status)
    if report_key:
        query = query.where(ReportRun.report_key == report_key)
    limit = max(1, min(limit, MAX_LIST))
    return list(db.session.scalars(query.order_by(ReportRun.id.desc()).limit(limit)))


def _decide(tenant_id: int, app_key: str, run_id: int, user_id: int | None,
            status: str) -> ReportRun:
    run = get_run(tenant_id, app_key, run_id)
    now = utcnow()
    result = db.session.execute(
        sa.update(ReportRun).where(ReportRun.id == run.id, ReportRun.status == HELD)
        .values(status=status, decided_at=now, decided_by=user_id)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        db.session.refresh(run)
        raise Conflict(gettext("reports.error.not_held", status=run.status))
    db.session.refresh(run)
    return run


def release(tenant_id: int, app_key: str, run_id: int, user_id: int | None) -> ReportRun:
    """Send a held run's messages as they were composed. ``Conflict`` unless held.

    In the caller's transaction; the messages leave when it commits."""
    run = _decide(tenant_id, app_key, run_id, user_id, RELEASED)
    _deliver(run, run_messages(run))
    return run


def discard(tenant_id: int, app_key: str, run_id: int, user_id: int | None) -> ReportRun:
    """Drop a held run: its messages are never sent. ``Conflict`` unless held."""
    return _decide(tenant_id, app_key, run_id, user_id, DISCARDED)
