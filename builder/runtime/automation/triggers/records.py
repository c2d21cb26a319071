"""Record triggers: a record was created, updated, or one of its fields changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.errors import Problem
from builder.runtime.automation.definitions import Automation
from builder.runtime.automation.params import one_of, problem, require
from builder.runtime.automation.triggers.base import Firing, Trigger, trigger_registry
from builder.runtime.records.events import CREATE, UPDATE, RecordChange


def _firing(change: RecordChange, **trigger: Any) -> Firing:
    context: dict[str, Any] = {"$old": dict(change.before) if change.before else {},
                               "$trigger": {"action": change.action,
                                            "changed": sorted(change.changed), **trigger}}
    return Firing(change.record_id, change.after, context)


@trigger_registry.register
class Created(Trigger):
    """``{"type": "created"}``: a record was created."""

    type = "created"

    def on_change(self, automation: Automation, change: RecordChange) -> list[Firing]:
        return [_firing(change)] if change.action == CREATE else []


@trigger_registry.register
class Updated(Trigger):
    """``{"type": "updated", "fields": [...]}``: a record was changed (when ``fields`` is
    given, only changes of one of those fields count)."""

    type = "updated"

    def on_change(self, automation: Automation, change: RecordChange) -> list[Firing]:
        if change.action != UPDATE:
            return []
        watched = automation.trigger.get("fields")
        if watched and not change.changed & set(watched):
            return []
        return [_firing(change)]

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        fields = params.get("fields")
        if fields is not None and not (isinstance(fields, list)
                                       and all(isinstance(f, str) for f in fields)):
            return [problem(f"{path}.fields", "param_type", param="fields")]
        return []


@trigger_registry.register
class FieldChanged(Trigger):
    """``{"type": "field_changed", "field": "status", "from": ..., "to": ...}``: the field
    got a new value (also when a record is created with a value). ``from`` and ``to``
    (a value or a list of values) narrow it to some transitions; ``$trigger`` holds
    ``field``, ``old`` and ``new``."""

    type = "field_changed"

    def on_change(self, automation: Automation, change: RecordChange) -> list[Firing]:
        key = str(automation.trigger.get("field"))
        if change.action not in (CREATE, UPDATE) or key not in change.changed:
            return []
        old = (change.before or {}).get(key)
        new = change.after.get(key)
        if change.action == CREATE and new in (None, "", []):
            return []
        params = automation.trigger
        if "from" in params and not one_of(old, params["from"]):
            return []
        if "to" in params and not one_of(new, params["to"]):
            return []
        return [_firing(change, field=key, old=old, new=new)]

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        return require(params, "field", path, str)
