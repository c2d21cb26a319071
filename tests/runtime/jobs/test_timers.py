"""Durable timers: schedule, replace and cancel by key; fire once when due; retry with
backoff and fail visibly; recur on a cron schedule. Time moves with ``builder.clock``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from builder import clock
from builder.errors import ValidationFailed
from builder.extensions import db
from builder.runtime.jobs import timers
from builder.runtime.jobs.models import Timer
from tests.runtime.jobs.handlers import FAIL, FAIL_AFTER_WRITE, RECORD, effects, reloaded

MONDAY_9_SHANGHAI = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai


def timer(timer_id: int) -> Timer:
    return reloaded(Timer, timer_id)  # type: ignore[no-any-return]


def test_a_timer_fires_once_when_its_time_comes(app, tenant, handlers):
    clock.travel_to(datetime(2026, 3, 2, 8, 0, tzinfo=UTC), frozen=True)
    due = clock.now() + timedelta(hours=2)
    timer_id = timers.schedule(tenant.id, RECORD, due, {"lead": 7}, key="sla:lead:7")
    db.session.commit()

    assert timers.run_due() == 0  # not yet
    assert timer(timer_id).status == "pending"

    clock.advance(timedelta(hours=2))
    assert timers.run_due() == 1
    fired = timer(timer_id)
    assert fired.status == "fired" and fired.fired_at == clock.now()
    assert fired.attempts == 1 and fired.last_error is None
    assert effects(timer_id) == 1

    clock.advance(timedelta(days=1))
    assert timers.run_due() == 0
    assert timers.fire(timer_id) is False
    assert effects(timer_id) == 1


def test_the_handler_sees_the_timer_and_its_writes_carry_the_business_time(
        app, tenant, handlers):
    moment = datetime(2026, 5, 4, 2, 30, tzinfo=UTC)
    with clock.frozen(moment):
        timer_id = timers.schedule(tenant.id, RECORD, moment, {"n": 1}, key="k1")
        db.session.commit()
        assert timers.run_due() == 1
    db.session.commit()
    from builder.platform.models import Team

    team = db.session.scalar(sa.select(Team).where(Team.key.startswith(f"fired_{timer_id}_")))
    assert team is not None
    assert team.name == f"{RECORD} k1 {moment.isoformat()}"
    assert team.created_at == moment


def test_same_key_replaces_the_pending_timer_and_cancel_by_key_or_prefix(
        app, tenant, make_tenant, handlers):
    other = make_tenant("other")
    now = clock.travel_to(datetime(2026, 1, 1, tzinfo=UTC), frozen=True)
    first = timers.schedule(tenant.id, RECORD, now + timedelta(hours=1), key="sla:lead:1")
    second = timers.schedule(tenant.id, RECORD, now + timedelta(hours=3), {"v": 2},
                             key="sla:lead:1")
    timers.schedule(tenant.id, RECORD, now + timedelta(hours=2), key="sla:lead:2")
    timers.schedule(tenant.id, RECORD, now + timedelta(hours=2), key="report:daily")
    timers.schedule(other.id, RECORD, now + timedelta(hours=1), key="sla:lead:1")
    db.session.commit()

    assert timer(first).status == "cancelled"
    pending = timers.pending(tenant.id, "sla:")
    assert [(t.key, t.payload) for t in pending] == [("sla:lead:2", {}),
                                                     ("sla:lead:1", {"v": 2})]
    assert pending[1].id == second
    assert len(timers.pending(other.id)) == 1

    assert timers.cancel(tenant.id, key_prefix="sla:lead:") == 2
    db.session.commit()
    assert [t.key for t in timers.pending(tenant.id)] == ["report:daily"]
    assert timers.cancel(tenant.id, key="report:daily") == 1
    assert timers.cancel(tenant.id, key="report:daily") == 0
    db.session.commit()
    assert timers.pending(tenant.id) == []
    assert len(timers.pending(other.id)) == 1  # another tenant's key is its own

    clock.advance(timedelta(days=1))
    assert timers.run_due() == 1  # only the other tenant's
    assert effects() == 1


def test_key_prefix_is_literal(app, tenant, handlers):
    now = clock.now()
    timers.schedule(tenant.id, RECORD, now + timedelta(hours=1), key="a_b:1")
    timers.schedule(tenant.id, RECORD, now + timedelta(hours=1), key="axb:1")
    db.session.commit()
    assert timers.cancel(tenant.id, key_prefix="a_") == 1
    db.session.commit()
    assert [t.key for t in timers.pending(tenant.id)] == ["axb:1"]


def test_a_timer_scheduled_in_a_rolled_back_transaction_does_not_exist(app, tenant, handlers):
    timers.schedule(tenant.id, RECORD, clock.now(), key="undone")
    db.session.rollback()
    assert timers.pending(tenant.id) == []
    assert timers.run_due() == 0


def test_a_failing_handler_is_retried_with_backoff_then_marked_failed(app, tenant, handlers):
    start = clock.travel_to(datetime(2026, 6, 1, tzinfo=UTC), frozen=True)
    timer_id = timers.schedule(tenant.id, FAIL, start, key="notify:1")
    db.session.commit()

    assert timers.run_due() == 0
    first = timer(timer_id)
    assert first.status == "pending" and first.attempts == 1
    assert "RuntimeError: refused notify:1 on attempt 1" in (first.last_error or "")
    assert first.next_attempt_at == start + timedelta(minutes=1)

    clock.advance(timedelta(seconds=59))
    assert timers.run_due() == 0 and timer(timer_id).attempts == 1  # still backing off
    clock.advance(timedelta(seconds=1))
    timers.run_due()
    second = timer(timer_id)
    assert second.attempts == 2 and "attempt 2" in (second.last_error or "")
    assert second.next_attempt_at == clock.now() + timedelta(minutes=2)  # doubled

    clock.advance(timedelta(minutes=2))
    timers.run_due()
    failed = timer(timer_id)
    assert failed.status == "failed" and failed.attempts == 3
    assert failed.failed_at == clock.now() and failed.fired_at is None

    clock.advance(timedelta(days=1))
    assert timers.run_due() == 0
    assert timer(timer_id).attempts == 3


def test_a_failed_attempt_rolls_back_the_handlers_writes(app, tenant, handlers):
    timer_id = timers.schedule(tenant.id, FAIL_AFTER_WRITE, clock.now(), key="w")
    db.session.commit()
    timers.run_due()
    assert effects(timer_id) == 0
    assert timer(timer_id).attempts == 1
    assert timer(timer_id).fired_at is None


def test_a_timer_of_an_unknown_kind_fails_visibly_and_is_retried(app, tenant):
    timer_id = timers.schedule(tenant.id, "nobody.handles.this", clock.now(), key="x")
    db.session.commit()
    assert timers.run_due() == 0
    stored = timer(timer_id)
    assert stored.attempts == 1 and "nobody.handles.this" in (stored.last_error or "")
    assert stored.next_attempt_at > clock.now()


def test_cron_timers_recur_in_their_time_zone(app, tenant, handlers):
    clock.travel_to(datetime(2026, 3, 2, 0, 0, tzinfo=UTC), frozen=True)  # 08:00 Shanghai
    timer_id = timers.schedule(tenant.id, RECORD, None, {"report": "daily"},
                               key="report:daily", cron="0 9 * * 1-5")
    db.session.commit()
    assert timer(timer_id).due_at == MONDAY_9_SHANGHAI

    clock.travel_to(MONDAY_9_SHANGHAI + timedelta(seconds=5), frozen=True)
    assert timers.run_due() == 1
    [following] = timers.pending(tenant.id)
    assert following.key == "report:daily" and following.payload == {"report": "daily"}
    assert following.due_at == MONDAY_9_SHANGHAI + timedelta(days=1)
    assert following.cron == "0 9 * * 1-5" and following.timezone == "Asia/Shanghai"

    # Friday 09:00 fires, the next one is Monday; missed runs collapse into one firing.
    clock.travel_to(datetime(2026, 3, 6, 1, 0, 30, tzinfo=UTC), frozen=True)
    assert timers.run_due() == 1
    [monday] = timers.pending(tenant.id)
    assert monday.due_at == datetime(2026, 3, 9, 1, 0, tzinfo=UTC)
    assert effects() == 2

    assert timers.cancel(tenant.id, key="report:daily") == 1
    db.session.commit()
    clock.advance(timedelta(days=30))
    assert timers.run_due() == 0


def test_a_recurring_timer_that_fails_for_good_still_schedules_its_next_occurrence(
        app, tenant, handlers):
    clock.travel_to(datetime(2026, 3, 2, 1, 0, tzinfo=UTC), frozen=True)
    timers.schedule(tenant.id, FAIL_AFTER_WRITE, None, key="r", cron="*/10 * * * *",
                    timezone="UTC")
    db.session.commit()
    clock.advance(timedelta(minutes=10))
    timers.run_due()  # attempt 1 fails
    clock.advance(timedelta(seconds=30))
    timers.run_due()  # attempt 2 fails: max_attempts reached
    listed = timers.list_timers(tenant.id)
    assert [(t.status, t.due_at) for t in listed] == [
        ("failed", datetime(2026, 3, 2, 1, 10, tzinfo=UTC)),
        ("pending", datetime(2026, 3, 2, 1, 20, tzinfo=UTC))]


def test_bad_cron_and_time_zone_are_refused_with_their_path(app, tenant):
    with pytest.raises(ValidationFailed) as bad_cron:
        timers.schedule(tenant.id, RECORD, None, cron="every monday")
    assert [p.path for p in bad_cron.value.details] == ["cron"]
    assert "every monday" in bad_cron.value.details[0].message
    with pytest.raises(ValidationFailed) as bad_zone:
        timers.schedule(tenant.id, RECORD, None, cron="0 9 * * *", timezone="Mars/Base")
    assert [p.path for p in bad_zone.value.details] == ["timezone"]
    with pytest.raises(ValueError):
        timers.schedule(tenant.id, RECORD, datetime(2026, 1, 1))  # naive
    with pytest.raises(ValueError):
        timers.schedule(tenant.id, RECORD, clock.now(), {"x": object()})
    db.session.rollback()
    assert timers.pending(tenant.id) == []
