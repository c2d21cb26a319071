"""Process triggers: a record entered or left a stage, an approval was decided.

The stage-flow and approval engines announce these as process events; ``$trigger`` holds
the event's data (``flow``, ``from``, ``to``; ``chain``, ``outcome``, ``instance``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.runtime.automation.definitions import Automation
from builder.runtime.automation.params import one_of
from builder.runtime.automation.triggers.base import Firing, Trigger, trigger_registry
from builder.runtime.records.events import ProcessEvent


class _EventTrigger(Trigger):
    #: trigger parameter → event data key it must match
    filters: Mapping[str, str] = {}

    def on_event(self, automation: Automation, event: ProcessEvent,
                 record: Mapping[str, Any]) -> list[Firing]:
        params = automation.trigger
        data = dict(event.data)
        for param, key in self.filters.items():
            if param in params and not one_of(data.get(key), params[param]):
                return []
        return [Firing(event.record_id, record, {"$trigger": {"event": event.name, **data}})]


@trigger_registry.register
class StageEntered(_EventTrigger):
    """``{"type": "stage_entered", "flow": ..., "stage": ...}``: the record moved into a
    stage (``stage``: a key or a list; none means any)."""

    type = "stage_entered"
    events = ("stage_entered",)
    filters = {"flow": "flow", "stage": "to"}


@trigger_registry.register
class StageLeft(_EventTrigger):
    """``{"type": "stage_left", "flow": ..., "stage": ...}``: the record left a stage."""

    type = "stage_left"
    events = ("stage_left",)
    filters = {"flow": "flow", "stage": "from"}


@trigger_registry.register
class ApprovalDecided(_EventTrigger):
    """``{"type": "approval_decided", "chain": ..., "outcome": "approved"|"rejected"}``."""

    type = "approval_decided"
    events = ("approval_decided",)
    filters = {"chain": "chain", "outcome": "outcome"}
