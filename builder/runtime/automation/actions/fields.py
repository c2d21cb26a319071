"""Actions that change the triggering record: set fields, change its priority."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.errors import Problem
from builder.i18n import gettext
from builder.runtime.automation.actions.base import (
    Action,
    ActionContext,
    ActionFailed,
    action_registry,
)
from builder.runtime.automation.params import problem, require
from builder.schema.field_types.choice import option_keys


def update_record(ctx: ActionContext, values: Mapping[str, Any]) -> dict[str, Any]:
    """Write ``values`` to the run's record at its current version; the context follows."""
    record = ctx.require_record("set_fields")
    service = ctx.records()
    current = service.get(int(record["id"]))
    updated: dict[str, Any] = service.update(int(current["id"]), dict(values),
                                             int(current["version"]))
    ctx.record = updated
    return updated


@action_registry.register
class SetFields(Action):
    """``{"type": "set_fields", "set": {"field": <JsonLogic>, ...}}``: each value is computed
    over the record (and ``$old``, ``$trigger``...) and written in one update."""

    type = "set_fields"

    def run(self, params: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        values = ctx.values(params.get("set") or {})
        updated = update_record(ctx, values)
        return {"record_id": updated["id"], "version": updated["version"],
                "fields": sorted(values)}

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        return require(params, "set", path, dict)


def priority_field(app: Mapping[str, Any], entity: str) -> str | None:
    """The priority field an assignment rule of the entity names, if any."""
    for rule in app.get("assignment_rules") or ():
        if rule.get("entity") == entity and rule.get("priority_field"):
            return str(rule["priority_field"])
    return None


@action_registry.register
class SetPriority(Action):
    """``{"type": "set_priority", "field": "priority", "to": "high"}`` or ``"raise": n``.

    ``field`` defaults to the ``priority_field`` of the entity's assignment rule. ``to`` is
    JsonLogic; ``raise`` moves a select field ``n`` options further down its option list
    (options go from the lowest priority to the highest; it stops at the last), or adds
    ``n`` to a number field; a negative ``n`` lowers it.
    """

    type = "set_priority"

    def run(self, params: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        record = ctx.require_record(self.type)
        key = params.get("field") or priority_field(ctx.app, ctx.store.key)
        if not key or key not in ctx.store.fields:
            raise ActionFailed(gettext("automation.error.no_priority_field"))
        old = record.get(key)
        if "to" in params:
            new = ctx.value(params["to"])
        else:
            new = self._raised(ctx.store.fields[key], old, int(params.get("raise", 1)))
        if new != old:
            update_record(ctx, {key: new})
        return {"record_id": record["id"], "field": key, "from": old, "to": new}

    @staticmethod
    def _raised(field: Mapping[str, Any], old: Any, steps: int) -> Any:
        if field.get("type") == "select":
            options = option_keys(field)
            if not options:
                return old
            index = options.index(old) if old in options else (-1 if steps > 0 else 0)
            return options[max(0, min(len(options) - 1, index + steps))]
        return (old or 0) + steps

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        found: list[Problem] = []
        if entity is not None and not params.get("field") \
                and not priority_field(app, str(entity.get("key"))):
            found.append(problem(f"{path}.field", "param_required", param="field"))
        if "raise" in params and (not isinstance(params["raise"], int)
                                  or isinstance(params["raise"], bool)):
            found.append(problem(f"{path}.raise", "param_type", param="raise"))
        return found
