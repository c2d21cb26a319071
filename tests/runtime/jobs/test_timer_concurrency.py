"""Several processes firing the same due timers at once: each timer fires exactly once,
because the database decides (row locks on PostgreSQL, the write lock on SQLite)."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from builder import clock
from builder.extensions import db
from builder.runtime.jobs import run_in_app, timers
from builder.runtime.jobs.models import Timer
from tests.runtime.jobs.handlers import RECORD, effects

TIMERS = 30
RUNNERS = 4


def test_concurrent_run_due_fires_each_timer_exactly_once(app, tenant, handlers):
    due = clock.now() - timedelta(minutes=1)
    ids = [timers.schedule(tenant.id, RECORD, due, {"n": n}, key=f"race:{n}")
           for n in range(TIMERS)]
    db.session.commit()

    barrier = threading.Barrier(RUNNERS)
    fired: list[int] = []
    errors: list[BaseException] = []

    def runner() -> None:
        try:
            barrier.wait()
            fired.append(run_in_app(app, timers.run_due))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=runner) for _ in range(RUNNERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(fired) == TIMERS
    assert effects() == TIMERS
    assert all(effects(timer_id) == 1 for timer_id in ids)
    db.session.commit()
    attempts = db.session.scalars(sa.select(Timer.attempts).where(Timer.id.in_(ids))).all()
    assert attempts == [1] * TIMERS
    assert timers.run_due() == 0
