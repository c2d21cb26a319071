"""Notification channels, one class each, in ``channel_registry``."""

from builder.runtime.notify.channels import email, inbox, robots  # noqa: F401  (register)
from builder.runtime.notify.channels.base import (
    Channel,
    DeliveryFailed,
    channel_registry,
)

__all__ = ["Channel", "DeliveryFailed", "channel_registry"]
