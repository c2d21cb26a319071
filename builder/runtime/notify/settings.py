"""Settings of the notification channels, read from the app config, then the environment.

| name | default | meaning |
| --- | --- | --- |
| ``SMTP_HOST`` | not set (email fails visibly) | mail server |
| ``SMTP_PORT`` | 25 (465 with ``SMTP_SSL``) | |
| ``SMTP_FROM`` | ``builder@localhost`` | sender address |
| ``SMTP_USER``, ``SMTP_PASSWORD`` | not set | login, when the server wants one |
| ``SMTP_STARTTLS``, ``SMTP_SSL`` | off | transport security |
| ``PUBLIC_BASE_URL`` | not set | start of the links to records in messages |
| ``NOTIFY_MAX_ATTEMPTS`` | 6 | attempts before a delivery is dead |
| ``NOTIFY_RETRY_SECONDS`` | 60 | wait after the first failure; doubles after each one |
| ``NOTIFY_TIMEOUT_SECONDS`` | 10 | network timeout of one attempt |
| ``NOTIFY_ALLOW_PRIVATE_URLS`` | off | robots and webhooks may reach internal addresses |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context

TRUE = ("1", "true", "yes", "on")


def setting(name: str, default: Any = None) -> Any:
    """``name`` from the app config, else from the environment, else ``default``."""
    if has_app_context():
        value = current_app.config.get(name)
        if value is not None:
            return value
    return os.environ.get(name, default)


def _flag(name: str) -> bool:
    value = setting(name, False)
    return value if isinstance(value, bool) else str(value).strip().lower() in TRUE


def _number(name: str, default: float) -> float:
    try:
        return float(setting(name, default))
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None
    port: int
    sender: str
    user: str | None
    password: str | None
    starttls: bool
    ssl: bool
    timeout: float


def smtp() -> SmtpSettings:
    use_ssl = _flag("SMTP_SSL")
    return SmtpSettings(
        host=setting("SMTP_HOST") or None,
        port=int(_number("SMTP_PORT", 465 if use_ssl else 25)),
        sender=setting("SMTP_FROM") or "builder@localhost",
        user=setting("SMTP_USER") or None,
        password=setting("SMTP_PASSWORD") or None,
        starttls=_flag("SMTP_STARTTLS"),
        ssl=use_ssl,
        timeout=timeout(),
    )


def timeout() -> float:
    return _number("NOTIFY_TIMEOUT_SECONDS", 10.0)


def max_attempts() -> int:
    return max(1, int(_number("NOTIFY_MAX_ATTEMPTS", 6)))


def retry_seconds() -> float:
    return max(1.0, _number("NOTIFY_RETRY_SECONDS", 60.0))


def public_base_url() -> str:
    return str(setting("PUBLIC_BASE_URL") or "").rstrip("/")


def allow_private_urls() -> bool:
    """Whether robot and webhook URLs may point at internal addresses (off: SSRF guard)."""
    return _flag("NOTIFY_ALLOW_PRIVATE_URLS")
