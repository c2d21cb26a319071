"""Automation engines that react to records: assignment (and, alongside, triggers,
actions and SLA timers)."""
