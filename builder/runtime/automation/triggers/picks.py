"""``schedule_pick``: on a cron schedule, a run for each record picked among those matching
the condition: the first ``limit`` by ``sort`` (the morning's TOP-5 stuck leads), or a
random ``sample`` (5% of the high-value opportunities for the weekly audit).

``{"type": "schedule_pick", "cron": "30 8 * * 1-5", "sort": [{"field": "last_activity_at",
"nulls": "first"}, {"field": "received_at"}], "limit": 5}``

``{"type": "schedule_pick", "cron": "0 14 * * 3", "sample": {"percent": 5, "min": 1}}``

Each run sees ``$trigger.rank`` (1 for the first picked), ``$trigger.picked`` (how many
were picked) and ``$trigger.matching`` (how many matched). The condition must translate to
SQL (it chooses among all the entity's records); it is checked again for each record.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem
from builder.extensions import db
from builder.runtime.automation.context import iso
from builder.runtime.automation.definitions import Automation
from builder.runtime.automation.params import positive_number, problem
from builder.runtime.automation.triggers.base import Firing, trigger_registry
from builder.runtime.automation.triggers.timed import Schedule
from builder.runtime.jobs.timers import DueTimer
from builder.runtime.query.jsonlogic_sql import to_sql
from builder.runtime.query.listing import column_ref
from builder.runtime.records import rows
from builder.runtime.storage.tables import EntityStore, sibling_stores

MAX_PICK = 500


def _order(store: EntityStore, sort: list[Mapping[str, Any]]) -> list[Any]:
    order: list[Any] = []
    for item in sort:
        ref = column_ref(store, str(item.get("field")))
        if ref is None:
            continue
        column = ref.expr.desc() if item.get("desc") else ref.expr.asc()
        order.append(column.nulls_last() if item.get("nulls") == "last"
                     else column.nulls_first())
    return [*order, store.table.c.id]


def pick(store: EntityStore, trigger: Mapping[str, Any], condition: Any, at: datetime
         ) -> tuple[list[dict[str, Any]], int]:
    """The records picked now, in order, and how many matched."""
    table = store.table
    where: list[Any] = [table.c.deleted == sa.false()]
    if condition is not None:
        where.append(to_sql(condition, lambda name: column_ref(store, name), {"$now": iso(at)}))
    matching = int(db.session.scalar(sa.select(sa.func.count()).select_from(table)
                                      .where(*where)) or 0)
    sample = trigger.get("sample")
    if isinstance(sample, Mapping):
        wanted = math.ceil(matching * float(sample.get("percent", 0)) / 100)
        wanted = min(matching, max(int(sample.get("min", 1)), wanted))
        order: list[Any] = [sa.func.random()]
    else:
        wanted = min(matching, int(trigger.get("limit") or MAX_PICK))
        order = _order(store, list(trigger.get("sort") or []))
    if wanted <= 0:
        return [], matching
    ids = list(db.session.scalars(sa.select(table.c.id).where(*where).order_by(*order)
                                  .limit(min(wanted, MAX_PICK))))
    found = rows.read_records(store, sibling_stores(store), ids)
    return [found[i] for i in ids if i in found], matching


@trigger_registry.register
class SchedulePick(Schedule):
    """A schedule running once per picked record (see the module doc)."""

    type = "schedule_pick"

    def on_timer(self, automation: Automation, store: EntityStore, timer: DueTimer,
                 at: datetime) -> list[Firing]:
        occurrence = iso(timer.due_at)
        picked, matching = pick(store, automation.trigger, automation.condition, at)
        return [Firing(int(record["id"]), record,
                       {"$trigger": {"at": occurrence, "rank": rank, "picked": len(picked),
                                     "matching": matching}},
                       dedup_key=f"pick:{occurrence}:{record['id']}")
                for rank, record in enumerate(picked, start=1)]

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        found = super().problems(params, path, entity, app)
        sample, sort = params.get("sample"), params.get("sort")
        if (sample is None) == (params.get("limit") is None):
            found.append(problem(path, "pick_how"))
        if sample is not None:
            if not isinstance(sample, Mapping):
                return [*found, problem(f"{path}.sample", "param_type", param="sample")]
            found += positive_number(sample, "percent", f"{path}.sample")
            if isinstance(sample.get("percent"), int | float) and sample["percent"] > 100:
                found.append(problem(f"{path}.sample.percent", "param_choice",
                                     param="percent", choices="0-100"))
            found += positive_number(sample, "min", f"{path}.sample", required=False)
        else:
            found += positive_number(params, "limit", path)
        fields = {f.get("key") for f in (entity or {}).get("fields") or ()}
        if sort is not None and not isinstance(sort, list):
            return [*found, problem(f"{path}.sort", "param_type", param="sort")]
        for index, item in enumerate(sort or []):
            key = item.get("field") if isinstance(item, Mapping) else None
            if entity is not None and key not in fields and key not in rows.OUTPUT_SYSTEM:
                found.append(problem(f"{path}.sort[{index}].field", "pick_sort", field=key))
        return found
