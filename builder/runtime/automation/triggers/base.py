"""What starts an automation: one ``Trigger`` class per trigger type, in ``trigger_registry``.

A trigger turns what happened into ``Firing``s: the record to act on and what the trigger
saw (``$old``, ``$trigger``...). Record triggers read record changes (``on_change``,
called in the transaction of the change), process triggers read process events
(``on_event``), timed triggers keep timers and answer when one fires (``on_timer``). The
engine then checks the automation's condition and queues a run for each firing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from builder.errors import Problem
from builder.registry import Registrable, Registry
from builder.runtime.automation.definitions import Automation
from builder.runtime.records.events import ProcessEvent, RecordChange


@dataclass
class Firing:
    """One occasion to run an automation."""

    record_id: int | None
    #: the record the condition and the actions see (``None``: the automation has none)
    record: Mapping[str, Any] | None
    #: context values: ``$old``, ``$trigger``, ``$payload``
    context: dict[str, Any] = field(default_factory=dict)
    #: runs with the same key happen once (a dormancy episode, a scheduled occurrence)
    dedup_key: str | None = None


class Trigger(Registrable):
    """A trigger type; subclasses override the hooks they need."""

    #: process events (``stage_entered``...) this trigger listens to
    events: tuple[str, ...] = ()

    def on_change(self, automation: Automation, change: RecordChange) -> list[Firing]:
        """Firings for a record change of the automation's entity (create, update, read...)."""
        return []

    def on_event(self, automation: Automation, event: ProcessEvent,
                 record: Mapping[str, Any]) -> list[Firing]:
        """Firings for a process event about a record of the automation's entity."""
        return []

    def on_related_change(self, automation: Automation, change: RecordChange) -> None:
        """React to a change of another entity of the app (timed triggers re-arm)."""

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        """What is wrong with the trigger's parameters (checked when the app is published)."""
        return []


trigger_registry: Registry[Trigger] = Registry("automation trigger")
