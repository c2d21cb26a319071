"""The platform's business clock: every "now" of the product comes from ``now()``.

Timestamps written by the platform (``created_at``, timers' due and fired times, job runs)
and every time-based rule (SLA deadlines, "no activity for N days", cron triggers) read
this clock, so tests move time instead of waiting:

- ``travel_to(moment)`` jumps to ``moment`` and keeps running from there;
- ``frozen(moment)`` (a context manager) stops the clock at ``moment`` for its block;
- ``advance(delta)`` moves the clock forward (a frozen clock stays frozen);
- ``reset()`` returns to the clock the process started with.

The override is process-wide (every thread sees it). Another process learns the time
from the environment variable ``BUILDER_NOW`` (an ISO 8601 datetime with an offset, or
UTC if none): its clock starts there when the module is imported and runs on. A test
that starts a worker passes ``clock.environ()`` so the worker's clock agrees with its
own. A process started without ``BUILDER_NOW`` follows the wall clock.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ENV_VAR = "BUILDER_NOW"


@dataclass(frozen=True)
class _Override:
    """Business time ``moment`` at monotonic time ``anchor``; still if ``frozen``."""

    moment: datetime
    anchor: float
    frozen: bool

    def now(self) -> datetime:
        if self.frozen:
            return self.moment
        return self.moment + timedelta(seconds=time.monotonic() - self.anchor)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the clock needs an aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def parse(text: str) -> datetime:
    """An ISO 8601 datetime; without an offset it is taken as UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _from_environment() -> _Override | None:
    text = os.environ.get(ENV_VAR)
    if not text:
        return None
    return _Override(parse(text), time.monotonic(), frozen=False)


_lock = threading.Lock()
_initial = _from_environment()
_state = _initial


def now() -> datetime:
    """The current business time: aware, in UTC."""
    state = _state
    return state.now() if state is not None else datetime.now(UTC)


def _set(state: _Override | None) -> None:
    global _state
    with _lock:
        _state = state


def travel_to(moment: datetime, *, frozen: bool = False) -> datetime:
    """Jump to ``moment``; the clock runs on from there unless ``frozen``."""
    moment = _aware(moment)
    _set(_Override(moment, time.monotonic(), frozen))
    return moment


@contextmanager
def frozen(moment: datetime | None = None) -> Iterator[datetime]:
    """Stop the clock at ``moment`` (now if omitted) for the block, then restore it."""
    previous = _state
    stopped = travel_to(moment if moment is not None else now(), frozen=True)
    try:
        yield stopped
    finally:
        _set(previous)


def advance(delta: timedelta) -> datetime:
    """Move the clock forward by ``delta``; returns the new time."""
    with _lock:
        global _state
        current = _state
        is_frozen = current is not None and current.frozen
        moment = (current.now() if current is not None else datetime.now(UTC)) + delta
        _state = _Override(moment, time.monotonic(), is_frozen)
    return moment


def reset() -> None:
    """Back to the clock this process started with (``BUILDER_NOW`` or the wall clock)."""
    _set(_initial)


def is_moved() -> bool:
    """Whether the business clock differs from the wall clock."""
    return _state is not None


def to_wall(moment: datetime) -> datetime:
    """The wall-clock time at which the business clock will show ``moment`` (for
    schedulers outside the platform, such as RQ's, that follow the wall clock)."""
    return datetime.now(UTC) + (_aware(moment) - now())


def environ() -> dict[str, str]:
    """Environment for a child process whose clock should start at this clock's time."""
    return {ENV_VAR: now().isoformat()} if _state is not None else {}
