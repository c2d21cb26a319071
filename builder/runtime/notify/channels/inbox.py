"""In-app notifications: the delivery row is the message in the user's inbox."""

from __future__ import annotations

from builder.runtime.notify.channels.base import Channel, channel_registry


@channel_registry.register
class InboxChannel(Channel):
    type = "inbox"
    immediate = True
