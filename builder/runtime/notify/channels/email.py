"""Email through SMTP (``smtplib``), configured by the ``SMTP_*`` settings."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from builder.i18n import gettext
from builder.runtime.notify import settings
from builder.runtime.notify.channels.base import Channel, DeliveryFailed, channel_registry
from builder.runtime.notify.messages import Message


@channel_registry.register
class EmailChannel(Channel):
    type = "email"

    def target_for(self, user: Any) -> str | None:
        return user.email or None

    def build(self, message: Message, options: Mapping[str, Any]) -> dict[str, Any]:
        return {"subject": message.subject, "text": message.plain_text()}

    def deliver(self, target: str, payload: Mapping[str, Any], secret: str | None) -> None:
        config = settings.smtp()
        if not config.host:
            raise DeliveryFailed(gettext("notify.error.smtp_not_configured", "en"))
        mail = EmailMessage()
        mail["Subject"] = str(payload.get("subject", ""))
        mail["From"] = config.sender
        mail["To"] = target
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=config.sender.rpartition("@")[2] or None)
        mail.set_content(str(payload.get("text", "")))
        try:
            smtp_class = smtplib.SMTP_SSL if config.ssl else smtplib.SMTP
            with smtp_class(config.host, config.port, timeout=config.timeout) as client:
                if config.starttls and not config.ssl:
                    client.starttls(context=ssl.create_default_context())
                if config.user and config.password:
                    client.login(config.user, config.password)
                refused = client.send_message(mail)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryFailed(f"SMTP {config.host}:{config.port}: {error}") from error
        if refused:
            raise DeliveryFailed(f"SMTP refused {', '.join(refused)}")
