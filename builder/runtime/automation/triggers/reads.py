"""Read triggers: a record was opened by its owner (or anyone), or was not opened in time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.errors import Problem
from builder.runtime.automation import reads
from builder.runtime.automation.definitions import Automation
from builder.runtime.automation.params import problem
from builder.runtime.automation.triggers.base import Firing, Trigger, trigger_registry
from builder.runtime.records.events import READ, RecordChange

READERS = ("owner", "anyone")


def reader_matches(params: Mapping[str, Any], record: Mapping[str, Any],
                   user_id: int | None) -> bool:
    """Whether ``user_id`` is a reader the trigger counts (``by``: owner or anyone)."""
    if user_id is None:
        return False
    return params.get("by", "owner") == "anyone" or record.get("owner") == user_id


def _by_problems(params: Mapping[str, Any], path: str) -> list[Problem]:
    if params.get("by", "owner") not in READERS:
        return [problem(f"{path}.by", "param_choice", param="by", choices=", ".join(READERS))]
    return []


@trigger_registry.register
class Opened(Trigger):
    """``{"type": "opened", "by": "owner"|"anyone", "first_only": true}``: a person opened
    the record (by default its owner, the first time)."""

    type = "opened"

    def on_change(self, automation: Automation, change: RecordChange) -> list[Firing]:
        params = automation.trigger
        if change.action != READ or change.record_id is None \
                or not reader_matches(params, change.after, change.user_id):
            return []
        count = reads.read_count(change.store, change.record_id, change.user_id)
        if params.get("first_only", True) and count != 1:
            return []
        return [Firing(change.record_id, change.after,
                       {"$trigger": {"reader": change.user_id, "reads": count}})]

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        return _by_problems(params, path)
