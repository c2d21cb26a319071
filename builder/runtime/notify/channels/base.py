"""The channel interface and its registry.

A channel turns a rendered ``Message`` into a stored payload when the notification is
created (in the caller's transaction) and sends that payload later, from a job. Sending
raises ``DeliveryFailed`` with a readable reason; the service counts the attempt and
schedules the next one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.errors import Problem
from builder.registry import Registrable, Registry
from builder.runtime.notify.messages import Message


class DeliveryFailed(Exception):
    """One attempt failed; the message says why (shown to admins as ``last_error``)."""


class Channel(Registrable):
    """A way to reach people: ``inbox``, ``email``, a robot format, a plain webhook."""

    #: one delivery per recipient (inbox, email) rather than one per call (robots)
    per_recipient: bool = True
    #: delivered by being written (the in-app inbox): no job, no retries
    immediate: bool = False

    def target_for(self, user: Any) -> str | None:
        """Where a recipient is reached on this channel (``None``: they cannot be)."""
        return str(user.id)

    def check(self, options: Mapping[str, Any]) -> list[Problem]:
        """Problems with the webhook options of a call (robot channels only)."""
        return []

    def build(self, message: Message, options: Mapping[str, Any]) -> dict[str, Any]:
        """The payload to store for ``message``."""
        return {}

    def deliver(self, target: str, payload: Mapping[str, Any], secret: str | None) -> None:
        """Send ``payload`` to ``target`` once; raise ``DeliveryFailed`` if it did not go."""


channel_registry: Registry[Channel] = Registry("notification channel")
