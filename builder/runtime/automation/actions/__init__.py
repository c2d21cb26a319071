"""Action types of automations; importing this package registers every built-in one."""

from builder.runtime.automation.actions import (
    fields,
    notify,
    process,
    recompute,
    records,
    webhook,
)
from builder.runtime.automation.actions.base import (
    Action,
    ActionContext,
    ActionFailed,
    action_registry,
)

__all__ = ["Action", "ActionContext", "ActionFailed", "action_registry", "fields", "notify",
           "process", "recompute", "records", "webhook"]
