"""The ``recompute`` action: the run's record gets its rollups and formulas computed again
and stored when they changed (``builder.runtime.records.rollups.recompute``): figures
that depend on the time, such as a score that decays with the days since the last
interaction or a rebate recomputed every night. Nothing a person entered is touched, and
the record's own rules do not stand in the way (the write is derived data only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.runtime.automation.actions.base import Action, ActionContext, action_registry
from builder.runtime.records import rollups
from builder.runtime.storage.tables import sibling_stores


@action_registry.register
class Recompute(Action):
    """``{"type": "recompute"}``."""

    type = "recompute"

    def run(self, params: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        record = ctx.require_record(self.type)
        stores = dict(sibling_stores(ctx.store))
        stores[ctx.store.key] = ctx.store
        changed = rollups.recompute(ctx.store, stores, int(record["id"]), ctx.user, ctx.now)
        if changed:
            ctx.record = ctx.records().get(int(record["id"]))
        return {"record_id": record["id"], "changed": changed}
