"""HMAC-SHA256 signatures of webhook calls, outgoing and incoming, in one scheme.

The sender puts the Unix time in ``X-Builder-Timestamp`` and
``sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`` in ``X-Builder-Signature``.
The receiver recomputes it and refuses a timestamp too far from its own clock (replays).
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Builder-Timestamp"
SIGNATURE_HEADER = "X-Builder-Signature"
#: how far a signed call's timestamp may be from the receiver's clock
MAX_SKEW_SECONDS = 300


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify(secret: str, timestamp: str | None, given: str | None, body: bytes,
           now: float) -> bool:
    """Whether ``given`` signs ``body`` at ``timestamp``, and the timestamp is recent."""
    if not timestamp or not given:
        return False
    try:
        moment = int(timestamp)
    except ValueError:
        return False
    if abs(now - moment) > MAX_SKEW_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, moment, body), given.strip())
