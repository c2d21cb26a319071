"""POSTing JSON to a robot or webhook URL with the standard library, one attempt."""

from __future__ import annotations

import ipaddress
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from builder.runtime.notify import settings
from builder.runtime.notify.channels.base import DeliveryFailed

MAX_ERROR_BODY = 300


def _excerpt(raw: bytes) -> str:
    return raw[:MAX_ERROR_BODY].decode("utf-8", "replace").strip()


def internal_host(hostname: str | None) -> bool:
    """Whether a URL's host names an internal address by itself (``localhost`` or a
    non-global IP literal), without asking DNS; off with ``NOTIFY_ALLOW_PRIVATE_URLS``."""
    if settings.allow_private_urls() or not hostname:
        return False
    name = hostname.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    return not ip.is_global or ip.is_multicast


def check_target(url: str) -> None:
    """Refuse (``DeliveryFailed``) a URL that is not http(s) or whose host is, or resolves
    to, a loopback, private, link-local (cloud metadata), reserved or multicast address,
    unless ``NOTIFY_ALLOW_PRIVATE_URLS`` is on (only the scheme is checked then)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryFailed(f"refused: {parts.scheme or 'no'} scheme, only http(s) URLs")
    if settings.allow_private_urls():
        return
    if internal_host(parts.hostname):
        raise DeliveryFailed(f"refused: {parts.hostname} is an internal address")
    try:
        found = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError) as error:
        raise DeliveryFailed(f"{parts.hostname} unreachable: {error}") from error
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise DeliveryFailed(f"refused: {parts.hostname} is an internal address ({ip})")


def post_json(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> Any:
    """POST ``body`` (JSON bytes); the decoded JSON answer (``None`` if not JSON).

    Raises ``DeliveryFailed`` for a refused target (``check_target``), an unreachable
    host, a timeout or a non-2xx status.
    """
    check_target(url)
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
