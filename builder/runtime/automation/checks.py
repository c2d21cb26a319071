"""Publish-time checks of automations and SLA escalations: known trigger and action
types, and each type's own parameter checks. Called by the definition linker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.errors import Problem
from builder.runtime.automation.actions import action_registry
from builder.runtime.automation.params import problem
from builder.runtime.automation.triggers import trigger_registry


def check_action(action: Any, path: str, entity: Mapping[str, Any] | None,
                 app: Mapping[str, Any]) -> list[Problem]:
    """Problems of one action object found at ``path``."""
    if not isinstance(action, Mapping) or not isinstance(action.get("type"), str):
        return []
    if action["type"] not in action_registry:
        return [problem(f"{path}.type", "unknown_action", type=action["type"])]
    return action_registry.get(action["type"]).problems(action, path, entity, app)


def check_automation(automation: Mapping[str, Any], path: str,
                     entity: Mapping[str, Any] | None, app: Mapping[str, Any]
                     ) -> list[Problem]:
    """Problems of the trigger and actions of one automation found at ``path``."""
    found: list[Problem] = []
    trigger = automation.get("trigger")
    # unknown trigger types are the schema's to report (its list of trigger types)
    if isinstance(trigger, Mapping) and trigger.get("type") in trigger_registry:
        found += trigger_registry.get(trigger["type"]).problems(
            trigger, f"{path}.trigger", entity, app)
    actions = automation.get("actions")
    for index, action in enumerate(actions if isinstance(actions, list) else []):
        found += check_action(action, f"{path}.actions[{index}]", entity, app)
    return found
