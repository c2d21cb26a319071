"""What an automation does: one ``Action`` class per action type, in ``action_registry``.

Actions run inside the run's one transaction, writing through ``RecordService`` (with
``commit=False``) as the automation engine, so every change is audited and the actions
of a run commit together or not at all. Effects outside the database (HTTP calls,
messages) are sent after the commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from builder.errors import AppError, Problem
from builder.i18n import current_language, gettext
from builder.registry import Registrable, Registry
from builder.runtime.automation.context import (
    render_text,
    rule_data,
    tenant_timezone,
    value_of,
)
from builder.runtime.storage.tables import EntityStore


class ActionFailed(AppError):
    """An action could not do its work; the run fails and its other actions are undone."""

    def __init__(self, message: str, details: list[Problem] | None = None) -> None:
        super().__init__(message, details or [], "action_failed", 422, {})


@dataclass
class ActionContext:
    """The run an action belongs to: its record, user, time and what the trigger saw."""

    run_id: int
    store: EntityStore
    user: Any
    now: datetime
    record: dict[str, Any] | None
    #: context values: ``$old``, ``$trigger``, ``$payload``, ``$created``
    context: dict[str, Any] = field(default_factory=dict)
    user_context: dict[str, Any] = field(default_factory=dict)
    #: the position of the running action in the run's list
    action_index: int = 0

    @property
    def tenant_id(self) -> int:
        return self.store.tenant_id

    @property
    def app(self) -> Mapping[str, Any]:
        return self.store.app

    @property
    def record_id(self) -> int | None:
        return int(self.record["id"]) if self.record else None

    def data(self) -> dict[str, Any]:
        """What value rules see now: the record as the earlier actions left it."""
        return rule_data(self.record, at=self.now, context=self.context,
                         user_context=self.user_context,
                         timezone=tenant_timezone(self.tenant_id), store=self.store)

    def value(self, logic: Any) -> Any:
        return value_of(logic, self.data())

    def values(self, mapping: Mapping[str, Any]) -> dict[str, Any]:
        data = self.data()
        return {key: value_of(logic, data) for key, logic in mapping.items()}

    def text(self, template: Any, language: str | None = None) -> str:
        return render_text(template, self.data(), language or current_language())

    def store_of(self, entity: str | None) -> EntityStore:
        if entity is None or entity == self.store.key:
            return self.store
        from builder.runtime.storage.tables import sibling_stores

        found = sibling_stores(self.store).get(entity)
        if found is None:
            raise ActionFailed(gettext("storage.error.entity_not_found", entity=entity))
        return found

    def records(self, entity: str | None = None) -> Any:
        """A ``RecordService`` of ``entity`` (default: the run's) in the run's transaction."""
        from builder.runtime.records import RecordService

        return RecordService(self.store_of(entity), self.user, commit=False)

    def require_record(self, action: str) -> dict[str, Any]:
        if self.record is None:
            raise ActionFailed(gettext("automation.error.no_record", action=action))
        return self.record


class Action(Registrable):
    """An action type; ``run`` does the work and returns what it did (for the run log)."""

    def run(self, params: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        raise NotImplementedError

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        """What is wrong with the action's parameters (checked when the app is published)."""
        return []


action_registry: Registry[Action] = Registry("automation action")
