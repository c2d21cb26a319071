"""POSTing JSON to a robot or webhook URL with the standard library, one attempt."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from builder.runtime.notify import settings
from builder.runtime.notify.channels.base import DeliveryFailed

MAX_ERROR_BODY = 300


def _excerpt(raw: bytes) -> str:
    return raw[:MAX_ERROR_BODY].decode("utf-8", "replace").strip()


def post_json(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> Any:
    """POST ``body`` (JSON bytes); the decoded JSON answer (``None`` if not JSON).

    Raises ``DeliveryFailed`` for an unreachable host, a timeout or a non-2xx status.
    """
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "builder-notify",
        **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout()) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        detail = _excerpt(error.read() or b"")
        raise DeliveryFailed(f"HTTP {error.code} {error.reason}: {detail}".rstrip(": ")) \
            from error
    except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DeliveryFailed(f"{url.split('?')[0]} unreachable: {reason}") from error
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return None


def dumps(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
