"""``thresholds[]``: a number field crossing a limit, noticed once per crossing.

A threshold watches ``field`` of ``entity`` against ``below`` (a number, or JsonLogic over
the record such as ``{"var": "safety_stock"}``). On every write of a record (a person's,
an import's or an effect's adjustment) the record is below the threshold or not, before
and after; only a change of that state does something:

- falling below (at or above before, below after; a record created below counts): the
  ``flag`` field is set, an ``alert`` record is created (``set``: JsonLogic over the record,
  with ``$old``) and ``threshold_crossed`` is emitted for automations;
- climbing back: the flag is cleared and ``threshold_recovered`` is emitted.

Ten sales in a row below the safety stock raise one alert, not ten. Because effects
adjust under a row lock, the before and after values are exact even when sales run at
once, so two concurrent sales crossing together still raise exactly one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from builder.runtime.records import events
from builder.runtime.records.formulas import rule_data
from builder.runtime.rules.evaluator import RuleError, evaluate
from builder.runtime.storage.tables import EntityStore

log = logging.getLogger(__name__)

ENGINE = "thresholds"
LISTENER = "thresholds.watch"
ACTIONS = (events.CREATE, events.UPDATE, events.RESTORE)
CROSSED, RECOVERED = "threshold_crossed", "threshold_recovered"


def watching(store: EntityStore) -> list[Mapping[str, Any]]:
    return [t for t in store.app.get("thresholds") or []
            if isinstance(t, Mapping) and t.get("entity") == store.key]


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def is_below(threshold: Mapping[str, Any], record: Mapping[str, Any] | None,
             context: Mapping[str, Any]) -> bool:
    """Whether the record's field is below the threshold (an empty value or limit is not)."""
    if record is None or record.get("deleted"):
        return False
    value = _number(record.get(str(threshold.get("field"))))
    limit = threshold.get("below")
    if isinstance(limit, (Mapping, list)):
        try:
            limit = evaluate(limit, rule_data(record, context))
        except RuleError as exc:
            log.warning("threshold %s could not be evaluated: %s", threshold.get("key"), exc)
            return False
    bound = _number(limit)
    return value is not None and bound is not None and value < bound


def _write_flag(change: events.RecordChange, flag: str, value: bool) -> None:
    from builder.runtime.records.service import RecordService

    current = change.after
    if flag not in change.store.columns or bool(current.get(flag)) == value:
        return
    service = RecordService(change.store, change.user, stores=change.stores, commit=False)
    fresh = service.get(int(current["id"]))
    if bool(fresh.get(flag)) != value:
        service.update(int(current["id"]), {flag: value}, int(fresh["version"]))


def _raise_alert(change: events.RecordChange, threshold: Mapping[str, Any],
                 context: Mapping[str, Any]) -> None:
    from builder.runtime.records.service import RecordService

    alert = threshold.get("alert")
    if not isinstance(alert, Mapping):
        return
    store = change.stores.get(str(alert.get("entity")))
    if store is None:
        return
    data = rule_data(change.after, context)
    values = {str(k): evaluate(v, data) for k, v in (alert.get("set") or {}).items()}
    RecordService(store, change.user, stores=change.stores, commit=False).create(values)


def _emit(change: events.RecordChange, name: str, threshold: Mapping[str, Any],
          old: Any, new: Any) -> None:
    events.record_hooks.emit(events.ProcessEvent(
        name, change.store, int(change.after["id"]), change.user, change.now,
        {"threshold": threshold.get("key"), "field": threshold.get("field"),
         "old": old, "new": new}))


def watch(change: events.RecordChange) -> None:
    """The listener: compare the record's state before and after the change."""
    if change.action not in ACTIONS or change.record_id is None:
        return
    thresholds = watching(change.store)
    if not thresholds:
        return
    context = {"$old": dict(change.before) if change.before else None,
               "$now": change.now.isoformat()}
    for threshold in thresholds:
        key = str(threshold.get("field"))
        was = is_below(threshold, change.before, context)
        now = is_below(threshold, change.after, context)
        with events.acting(ENGINE):
            if threshold.get("flag"):
                _write_flag(change, str(threshold["flag"]), now)
            if now and not was:
                _raise_alert(change, threshold, context)
                _emit(change, CROSSED, threshold, (change.before or {}).get(key),
                      change.after.get(key))
            elif was and not now:
                _emit(change, RECOVERED, threshold, (change.before or {}).get(key),
                      change.after.get(key))


def register() -> None:
    # loaded stock below its safety level is flagged and alerted like any other
    events.record_hooks.listener(LISTENER, priority=30, on_load=True)(watch)
