"""Trigger types of automations; importing this package registers every built-in one."""

from builder.runtime.automation.triggers import picks, process, reads, records, timed, webhook
from builder.runtime.automation.triggers.base import Firing, Trigger, trigger_registry

__all__ = ["Firing", "Trigger", "picks", "process", "reads", "records", "timed",
           "trigger_registry", "webhook"]
