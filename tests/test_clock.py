"""The business clock: tests move time instead of waiting, and what the platform records
carries the moved time; a child process starts its clock from ``BUILDER_NOW``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from builder import clock
from builder.platform import service
from tests.runtime.records.helpers import create, patch, publish

TEN_AM = datetime(2026, 4, 1, 10, 0, tzinfo=timezone(timedelta(hours=8)))


def test_frozen_travel_and_advance():
    real = datetime.now(UTC)
    assert abs((clock.now() - real).total_seconds()) < 5 and not clock.is_moved()
    with clock.frozen(TEN_AM) as moment:
        assert moment == clock.now() == TEN_AM and clock.now().tzinfo == UTC
        time.sleep(0.01)
        assert clock.now() == TEN_AM  # frozen
        assert clock.advance(timedelta(days=3)) == TEN_AM + timedelta(days=3)
        assert clock.now() == TEN_AM + timedelta(days=3)
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 5  # restored

    clock.travel_to(TEN_AM)
    time.sleep(0.01)
    assert TEN_AM < clock.now() < TEN_AM + timedelta(seconds=5)  # runs on from there
    assert clock.environ()[clock.ENV_VAR].startswith("2026-04-01T02:00")
    clock.reset()
    assert clock.environ() == {} and not clock.is_moved()
    with pytest.raises(ValueError):
        clock.travel_to(datetime(2026, 1, 1))  # naive: which zone?


def test_to_wall_maps_business_time_to_the_wall_clock():
    clock.travel_to(TEN_AM, frozen=True)
    wall = clock.to_wall(TEN_AM + timedelta(hours=1))
    assert abs((wall - (datetime.now(UTC) + timedelta(hours=1))).total_seconds()) < 5


def test_records_and_platform_rows_carry_the_business_time(app, client, tenant, admin,
                                                           admin_headers):
    publish(client, admin_headers)
    with clock.frozen(TEN_AM):
        customer = create(client, admin_headers, "customer", {"name": "杭州启明科技"})
        team = service.create_team(tenant, "east")
    assert customer["created_at"] == "2026-04-01T02:00:00Z"
    assert team.created_at == TEN_AM
    with clock.frozen(TEN_AM + timedelta(days=2)):
        changed = patch(client, admin_headers, "customer", customer, {"name": "启明"})
    assert changed.get_json()["updated_at"] == "2026-04-03T02:00:00Z"


def test_a_child_process_starts_its_clock_from_builder_now():
    env = {**os.environ, clock.ENV_VAR: "2030-01-01T10:00:00+08:00"}
    shown = subprocess.run(
        [sys.executable, "-c", "from builder import clock; print(clock.now().isoformat())"],
        env=env, capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    moment = datetime.fromisoformat(shown)
    assert datetime(2030, 1, 1, 2, 0, tzinfo=UTC) <= moment < datetime(2030, 1, 1, 2, 1,
                                                                        tzinfo=UTC)
