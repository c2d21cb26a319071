"""How timers reach the workers: RQ jobs with deterministic ids, sent when the timer is
committed (``enqueue_at`` for later ones), and the sweep that resends what Redis lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq.registry import ScheduledJobRegistry

from builder import clock
from builder.extensions import db
from builder.runtime import jobs
from builder.runtime.jobs import timers
from tests.runtime.jobs.handlers import RECORD, effects


@pytest.fixture
def redis_jobs(app):
    transport = jobs.get_jobs(app)
    if not transport.uses_redis:
        pytest.skip("needs REDIS_URL")
    return transport


def flush_our_keys(transport) -> int:
    redis = transport.connection()
    keys = list(redis.scan_iter(match=f"*{transport.prefix}*", count=500))
    return redis.delete(*keys) if keys else 0


def test_without_redis_the_sweep_fires_due_timers_here(app, tenant, handlers):
    if jobs.get_jobs(app).uses_redis:
        pytest.skip("REDIS_URL is set")
    timer_id = timers.schedule(tenant.id, RECORD, clock.now(), key="here")
    db.session.commit()
    assert timers.sweep() == 1
    assert effects(timer_id) == 1


def test_a_committed_timer_is_sent_to_rq_with_its_own_job_id(app, tenant, handlers,
                                                             redis_jobs, run_jobs):
    flush_our_keys(redis_jobs)  # timer ids restart with each test's database
    due_now = timers.schedule(tenant.id, RECORD, clock.now(), key="now")
    later = timers.schedule(tenant.id, RECORD, clock.now() + timedelta(hours=1), key="later")
    assert redis_jobs.rq_status(redis_jobs.job_id("timer", due_now)) is None  # not committed
    db.session.commit()

    assert redis_jobs.rq_status(redis_jobs.job_id("timer", due_now)) == "queued"
    registry = ScheduledJobRegistry(queue=redis_jobs.queue())
    at = registry.get_scheduled_time(redis_jobs.job_id("timer", later))
    assert abs((at - (datetime.now(UTC) + timedelta(hours=1))).total_seconds()) < 60

    assert timers.sweep() == 0  # already waiting in the queue
    run_jobs()
    assert effects(due_now) == 1 and effects(later) == 0


def test_after_redis_lost_our_keys_the_sweep_fires_every_due_timer_once(
        app, tenant, handlers, redis_jobs, run_jobs):
    clock.travel_to(datetime(2026, 7, 1, 2, 0, tzinfo=UTC))
    ids = [timers.schedule(tenant.id, RECORD, clock.now() + timedelta(minutes=n), key=f"k{n}")
           for n in range(-2, 5)]
    db.session.commit()
    assert flush_our_keys(redis_jobs) > 0
    clock.advance(timedelta(minutes=10))  # every one of them is due now

    assert timers.sweep() == len(ids)
    run_jobs()
    assert [effects(timer_id) for timer_id in ids] == [1] * len(ids)

    assert timers.sweep() == 0
    run_jobs()
    assert effects() == len(ids)
