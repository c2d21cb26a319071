"""Timed triggers: they keep durable timers and fire when one comes due.

- ``not_opened``: a record not opened by its owner (or anyone) within ``hours`` of its
  creation or of its owner changing; opening it cancels the timer.
- ``date_reached``: the moment in a date or datetime field (a date at ``time``, default
  09:00 in the tenant's time zone) plus ``offset_minutes``; changing the field moves the
  timer, clearing it cancels it.
- ``schedule``: a ``cron`` schedule; once per occurrence, or once per record matching the
  condition with ``per_record``.
- ``no_activity``: records with no activity for ``days`` (``working_days`` to count only
  working days), checked on a ``check`` cron (hourly by default). ``activity`` lists what
  counts: ``"updated"`` (any change of the record), ``{"field": <date/datetime field>}``,
  ``{"entity": <entity pointing at this one>}`` (a related record created); by default
  any change of the record. A dormant record fires once, then again after another
  ``days`` without activity.

Timers are keyed ``auto:<app>:<automation>:<record>`` (per-automation cron timers end at
the colon); ``schedules`` fires them and reconciles the cron timers when an app is
published.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem
from builder.extensions import db
from builder.runtime.automation import reads, related
from builder.runtime.automation.context import iso, tenant_timezone
from builder.runtime.automation.definitions import Automation
from builder.runtime.automation.models import AUTOMATION, AutomationRun
from builder.runtime.automation.params import positive_number, problem, require
from builder.runtime.automation.sla_calendar import Calendar
from builder.runtime.automation.triggers.base import Firing, Trigger, trigger_registry
from builder.runtime.automation.triggers.reads import reader_matches
from builder.runtime.jobs import timers
from builder.runtime.jobs.timers import DueTimer
from builder.runtime.records import rows
from builder.runtime.records.events import CREATE, DELETE, READ, UPDATE, RecordChange
from builder.runtime.storage.tables import EntityStore, sibling_stores

TIMER_KIND = "automation.timed"
DEFAULT_CHECK = "0 * * * *"
WEEKDAYS = {"days": [1, 2, 3, 4, 5], "start": "00:00", "end": "23:59"}
BATCH = 500
TIME_OF_DAY = time(9, 0)


def prefix(automation: Automation) -> str:
    """The key prefix of every timer of the automation."""
    return f"auto:{automation.app_key}:{automation.key}:"


def record_key(automation: Automation, record_id: int) -> str:
    return f"{prefix(automation)}{record_id}"


def payload(automation: Automation, store: EntityStore, **extra: Any) -> dict[str, Any]:
    return {"app": automation.app_key, "automation": automation.key,
            "entity": automation.entity, "trigger": automation.trigger_type, **extra}


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def load_record(store: EntityStore, record_id: int) -> dict[str, Any] | None:
    record = rows.read_records(store, sibling_stores(store), [record_id]).get(record_id)
    return None if record is None or record.get("deleted") else record


class TimedTrigger(Trigger):
    """A trigger answering its timers: ``on_timer`` gives the firings when one is due."""

    def on_timer(self, automation: Automation, store: EntityStore, timer: DueTimer,
                 at: datetime) -> list[Firing]:
        return []

    def cron(self, automation: Automation) -> str | None:
        """The recurring timer the automation needs (reconciled at publish), if any."""
        return None


@trigger_registry.register
class NotOpened(TimedTrigger):
    """``{"type": "not_opened", "hours": 2, "by": "owner"|"anyone"}``."""

    type = "not_opened"

    def on_change(self, automation: Automation, change: RecordChange) -> list[Firing]:
        if change.record_id is None:
            return []
        key = record_key(automation, change.record_id)
        if change.action == CREATE or (change.action == UPDATE and "owner" in change.changed):
            due = change.now + timedelta(hours=float(automation.trigger["hours"]))
            timers.schedule(change.tenant_id, TIMER_KIND, due, payload(
                automation, change.store, record=change.record_id, since=iso(change.now)),
                key=key)
        elif (change.action == READ and reader_matches(automation.trigger, change.after,
                                                      change.user_id)) \
                or change.action == DELETE:
            timers.cancel(change.tenant_id, key=key)
        return []

    def on_timer(self, automation: Automation, store: EntityStore, timer: DueTimer,
                 at: datetime) -> list[Firing]:
        record = load_record(store, int(timer.payload["record"]))
        if record is None:
            return []
        since = parse_iso(timer.payload["since"])
        by_owner = automation.trigger.get("by", "owner") != "anyone"
        reader = record.get("owner") if by_owner else None
        if (by_owner and reader is None) or reads.read_since(store, int(record["id"]), reader,
                                                           since):
            return []
        return [Firing(int(record["id"]), record,
                       {"$trigger": {"since": iso(since), "hours": automation.trigger["hours"]}},
                       dedup_key=f"not_opened:{record['id']}:{iso(since)}")]

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        found = positive_number(params, "hours", path)
        if params.get("by", "owner") not in ("owner", "anyone"):
            found.append(problem(f"{path}.by", "param_choice", param="by",
                                 choices="owner, anyone"))
        return found


@trigger_registry.register
class DateReached(TimedTrigger):
    """``{"type": "date_reached", "field": "next_touch", "time": "09:00",
    "offset_minutes": -60}``: a moment already past when the field is set does not fire."""

    type = "date_reached"

    @staticmethod
    def moment(automation: Automation, store: EntityStore, record: Mapping[str, Any]
               ) -> datetime | None:
        key = str(automation.trigger["field"])
        value = record.get(key)
        if not isinstance(value, str) or not value:
            return None
        if store.fields.get(key, {}).get("type") == "date":
            hours, minutes = str(automation.trigger.get("time") or "09:00").split(":")
            moment = datetime.combine(date.fromisoformat(value[:10]),
                                      time(int(hours), int(minutes)),
                                      tzinfo=tenant_timezone(store.tenant_id))
        else:
            moment = parse_iso(value)
        return moment + timedelta(minutes=int(automation.trigger.get("offset_minutes", 0)))

    def on_change(self, automation: Automation, change: RecordChange) -> list[Firing]:
        if change.record_id is None:
            return []
        key = record_key(automation, change.record_id)
        if change.action == DELETE:
            timers.cancel(change.tenant_id, key=key)
        elif change.action in (CREATE, UPDATE) and automation.trigger["field"] in change.changed:
            moment = self.moment(automation, change.store, change.after)
            if moment is None or moment <= change.now:
                timers.cancel(change.tenant_id, key=key)
            else:
                timers.schedule(change.tenant_id, TIMER_KIND, moment, payload(
                    automation, change.store, record=change.record_id, at=iso(moment)),
                    key=key)
        return []

    def on_timer(self, automation: Automation, store: EntityStore, timer: DueTimer,
                 at: datetime) -> list[Firing]:
        record = load_record(store, int(timer.payload["record"]))
        moment = self.moment(automation, store, record) if record else None
        if record is None or moment is None or iso(moment) != timer.payload.get("at"):
            return []
        field = automation.trigger["field"]
        return [Firing(int(record["id"]), record,
                       {"$trigger": {"field": field, "value": record.get(field),
                                     "at": iso(moment)}},
                       dedup_key=f"date:{record['id']}:{iso(moment)}")]

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        found = require(params, "field", path, str)
        fields = {f.get("key"): f for f in (entity or {}).get("fields") or ()}
        key = params.get("field")
        if entity is not None and key in fields \
                and fields[key].get("type") not in ("date", "datetime"):
            found.append(problem(f"{path}.field", "date_field", field=key))
        when = params.get("time")
        if when is not None and not (isinstance(when, str) and len(when) == 5
                                     and when[2] == ":" and when.replace(":", "").isdigit()):
            found.append(problem(f"{path}.time", "param_type", param="time"))
        return found


def matching_rows(store: EntityStore, condition: Any, where: list[Any],
                  at: datetime) -> list[dict[str, Any]]:
    """Live records passing ``where`` (and ``condition`` where SQL can tell), a batch."""
    from builder.runtime.query.jsonlogic_sql import to_sql
    from builder.runtime.query.listing import column_ref
    from builder.runtime.rules.evaluator import RuleError

    table = store.table
    conditions = [table.c.deleted == sa.false(), *where]
    if condition is not None:
        # not translatable (it reads $old, $trigger...): checked per record by the engine
        with contextlib.suppress(RuleError):
            conditions.append(to_sql(condition, lambda name: column_ref(store, name),
                                     {"$now": iso(at)}))
    ids = list(db.session.scalars(sa.select(table.c.id).where(*conditions)
                                  .order_by(table.c.id).limit(BATCH)))
    found = rows.read_records(store, sibling_stores(store), ids)
    return [found[i] for i in ids if i in found]


@trigger_registry.register
class Schedule(TimedTrigger):
    """``{"type": "schedule", "cron": "0 9 * * 1-5", "per_record": false}``."""

    type = "schedule"

    def cron(self, automation: Automation) -> str | None:
        return str(automation.trigger["cron"])

    def on_timer(self, automation: Automation, store: EntityStore, timer: DueTimer,
                 at: datetime) -> list[Firing]:
        context = {"$trigger": {"at": iso(timer.due_at)}}
        occurrence = iso(timer.due_at)
        if not automation.trigger.get("per_record"):
            return [Firing(None, None, context, dedup_key=f"schedule:{occurrence}")]
        return [Firing(int(r["id"]), r, context, dedup_key=f"schedule:{occurrence}:{r['id']}")
                for r in matching_rows(store, automation.condition, [], at)]

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        found = require(params, "cron", path, str)
        return found or _cron_problems(params["cron"], f"{path}.cron")


def _cron_problems(cron: Any, path: str) -> list[Problem]:
    from croniter import croniter

    if not isinstance(cron, str) or not croniter.is_valid(cron):
        return [problem(path, "bad_cron", cron=cron)]
    return []


@trigger_registry.register
class NoActivity(TimedTrigger):
    """``{"type": "no_activity", "days": 45, "working_days": false, "activity": [...],
    "check": "0 * * * *"}`` (see the module doc)."""

    type = "no_activity"

    def cron(self, automation: Automation) -> str | None:
        return str(automation.trigger.get("check") or DEFAULT_CHECK)

    @staticmethod
    def threshold(automation: Automation, tenant_id: int, at: datetime) -> datetime:
        params = automation.trigger
        working = bool(params.get("working_days"))
        calendar = Calendar.of(params.get("working_hours") or (WEEKDAYS if working else None),
                               tenant_id)
        return calendar.subtract_days(at, int(params["days"]), working)

    def on_timer(self, automation: Automation, store: EntityStore, timer: DueTimer,
                 at: datetime) -> list[Firing]:
        threshold = self.threshold(automation, store.tenant_id, at)
        table = store.table
        where: list[Any] = [table.c.created_at <= threshold]
        for source in automation.trigger.get("activity") or ["updated"]:
            where.append(self._quiet(store, source, threshold))
        runs = AutomationRun.__table__
        where.append(~sa.exists().where(
            runs.c.tenant_id == store.tenant_id, runs.c.app_key == automation.app_key,
            runs.c.kind == AUTOMATION, runs.c.automation_key == automation.key,
            runs.c.record_id == table.c.id, runs.c.created_at >= threshold))
        context = {"$trigger": {"days": automation.trigger["days"], "since": iso(threshold)}}
        return [Firing(int(r["id"]), r, context, dedup_key=f"quiet:{r['id']}:{iso(at)}")
                for r in matching_rows(store, automation.condition, where, at)]

    @staticmethod
    def _quiet(store: EntityStore, source: Any, threshold: datetime) -> Any:
        """The SQL condition "nothing happened in ``source`` after ``threshold``"."""
        table = store.table
        if source == "updated":
            return table.c.updated_at <= threshold
        if isinstance(source, Mapping) and source.get("field") in store.columns:
            column = store.columns[str(source["field"])]
            bound: Any = threshold
            if store.fields[str(source["field"])].get("type") == "date":
                bound = threshold.astimezone(tenant_timezone(store.tenant_id)).date()
            return sa.or_(column.is_(None), column <= bound)
        if isinstance(source, Mapping) and isinstance(source.get("entity"), str):
            other = sibling_stores(store).get(source["entity"])
            if other is not None:
                return ~sa.exists().where(related.links(other, store.key, table.c.id),
                                          other.table.c.created_at > threshold)
        return sa.true()

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        found = positive_number(params, "days", path)
        if "check" in params:
            found += _cron_problems(params["check"], f"{path}.check")
        activity = params.get("activity")
        if activity is not None and not isinstance(activity, list):
            return [*found, problem(f"{path}.activity", "param_type", param="activity")]
        entities = {e.get("key"): e for e in app.get("entities") or ()}
        for index, source in enumerate(activity or []):
            where = f"{path}.activity[{index}]"
            if source == "updated" or (isinstance(source, Mapping) and "field" in source):
                continue
            target = entities.get(source.get("entity")) if isinstance(source, Mapping) \
                else None
            if target is None or entity is None or not any(
                    f.get("type") == "relation" and f.get("entity") == entity.get("key")
                    for f in target.get("fields") or ()):
                found.append(problem(where, "bad_activity"))
        return found
