"""Two writes at once that both take the last unit of a stock record.

``hold_first_take()`` holds the first write inside its transaction right after its effect
took the stock (a listener waits until the second write has been sent), so the second one
really runs while the first has not committed. ``race`` sends the two writes, each in its
own thread, application context and session."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

from builder.extensions import db
from builder.runtime.records import events

HOLD = "test.effects.hold"


@contextmanager
def hold_first_take() -> Iterator[tuple[threading.Event, threading.Event]]:
    inside, second_sent = threading.Event(), threading.Event()
    taken = [False]

    def hold(change: events.RecordChange) -> None:
        if change.entity == "stock" and change.engine == "effects" and not taken[0]:
            taken[0] = True
            inside.set()
            second_sent.wait(10)
            time.sleep(0.5)  # let the second request reach the database

    events.record_hooks.listener(HOLD, priority=99)(hold)
    try:
        yield inside, second_sent
    finally:
        events.record_hooks.remove(HOLD)


def race(app: Flask, url: str, body: dict[str, Any], headers: dict[str, str],
         held: tuple[threading.Event, threading.Event]) -> list[Any]:
    """POST ``body`` to ``url`` twice at once; the responses, first and second."""
    inside, second_sent = held
    db.session.commit()
    results: dict[str, Any] = {}

    def send(label: str) -> None:
        if label == "second":
            assert inside.wait(10), "the first write never took the stock"
            second_sent.set()
        results[label] = app.test_client().post(url, json={"data": body}, headers=headers)

    threads = [threading.Thread(target=send, args=(label,)) for label in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return [results[label] for label in ("first", "second")]
