"""The sales package installed in the ``acme`` tenant, with its organisation.

The business clock stands still at Monday 2 March 2026, 09:00 in Shanghai, from before the
app is published (so its schedules start there); ``move`` jumps it and lets the timers
and jobs that came due run, as the scheduler and the workers would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from builder import clock
from builder.runtime.jobs import timers
from tests.templates.sales.helpers import Sales, build_org, install

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def sales(client: Any, admin_headers: dict[str, str]) -> Sales:
    clock.travel_to(START, frozen=True)
    org = build_org(client, admin_headers)
    install(client, admin_headers)
    return org


@pytest.fixture
def move(sales: Sales, run_jobs: Callable[[], None]) -> Callable[[datetime], None]:
    """Jump the business clock (frozen) and let what came due run."""

    def to(moment: datetime) -> None:
        clock.travel_to(moment, frozen=True)
        run_jobs()
        timers.run_due()
        run_jobs()

    return to
