"""The ``create_record`` action: a new record of any entity of the app (a task for the
owner, a follow-up...), its values computed from the triggering record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.errors import Problem
from builder.runtime.automation.actions.base import Action, ActionContext, action_registry
from builder.runtime.automation.params import problem, require


@action_registry.register
class CreateRecord(Action):
    """``{"type": "create_record", "entity": "task", "set": {"title": ..., "assignee":
    {"var": "owner"}, "lead": {"var": "id"}}}``. Later actions of the run read the new
    record as ``$created.<entity>``."""

    type = "create_record"

    def run(self, params: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        entity = str(params.get("entity") or ctx.store.key)
        values = ctx.values(params.get("set") or {})
        created: dict[str, Any] = ctx.records(entity).create(values)
        ctx.context.setdefault("$created", {})[entity] = created
        return {"entity": entity, "record_id": created["id"]}

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        found = require(params, "set", path, dict)
        target = params.get("entity")
        if target is not None and not isinstance(target, str):
            found.append(problem(f"{path}.entity", "param_type", param="entity"))
        return found
