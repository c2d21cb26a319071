"""Timer handlers and jobs for the job tests.

Each handler leaves an effect in the firing transaction: a team whose key starts with
``fired_<timer id>_`` (unique per call), so a timer that fired twice shows two teams and
one rolled back shows none. ``registered()`` adds them to the registry and removes them
afterwards; ``python -m tests.runtime.jobs.launcher`` registers them in a subprocess.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.platform import service
from builder.platform.models import Team, Tenant
from builder.runtime.jobs import DueTimer, job, report_progress, timer_handler, timer_handlers

RECORD, FAIL, FAIL_AFTER_WRITE, BLOCK = "test.record", "test.fail", "test.fail_after_write", \
    "test.block"


def leave_effect(timer: DueTimer) -> None:
    tenant = db.session.get(Tenant, timer.tenant_id)
    assert tenant is not None
    service.create_team(tenant, f"fired_{timer.id}_{uuid.uuid4().hex[:8]}",
                        f"{timer.kind} {timer.key} {timer.due_at.isoformat()}")


def effects(timer_id: int | None = None) -> int:
    """How many firings of ``timer_id`` (of any timer when None) committed."""
    prefix = "fired_" if timer_id is None else f"fired_{timer_id}_"
    db.session.commit()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Team)
                                 .where(Team.key.startswith(prefix, autoescape=True))) or 0)


def reloaded(model: Any, key: Any) -> Any:
    """The row as the database has it now (after committing the test's session)."""
    db.session.commit()
    found = db.session.get(model, key, populate_existing=True)
    assert found is not None
    return found


def fail(timer: DueTimer) -> None:
    raise RuntimeError(f"refused {timer.key} on attempt {timer.attempts + 1}")


def fail_after_write(timer: DueTimer) -> None:
    leave_effect(timer)
    db.session.flush()
    raise RuntimeError("written, then refused")


def block_until_released(timer: DueTimer) -> None:
    """Writes its effect, then waits while the ``block`` file exists (a test kills the
    process meanwhile); the effect commits only if the handler returns."""
    folder = Path(timer.payload["folder"])
    leave_effect(timer)
    db.session.flush()
    (folder / f"timer-started-{os.getpid()}").touch()
    while (folder / "block").exists():
        time.sleep(0.05)


HANDLERS: dict[str, tuple[Any, dict[str, Any]]] = {
    RECORD: (leave_effect, {}),
    FAIL: (fail, {"max_attempts": 3, "backoff": timedelta(minutes=1)}),
    FAIL_AFTER_WRITE: (fail_after_write, {"max_attempts": 2}),
    BLOCK: (block_until_released, {}),
}


def register_all() -> None:
    for kind, (func, options) in HANDLERS.items():
        timer_handler(kind, **options)(func)


@contextmanager
def registered() -> Iterator[None]:
    register_all()
    try:
        yield
    finally:
        for kind in HANDLERS:
            timer_handlers.unregister(kind)


# --- jobs ----------------------------------------------------------------------------------


def count_to(total: int, message: str = "counting") -> dict[str, int]:
    for done in range(1, total + 1):
        report_progress(done, total, f"{message} {done}")
    return {"counted": total}


def explode(reason: str) -> None:
    raise ValueError(reason)


def wait_for_cancel(folder: str, limit: float = 30.0) -> str:
    """Reports progress until cancelled (``JobCancelled`` ends it) or ``limit`` passes."""
    (Path(folder) / "job-started").touch()
    started = time.monotonic()
    done = 0
    while time.monotonic() - started < limit:
        done += 1
        report_progress(done, None, "waiting")
        time.sleep(0.02)
    return "not cancelled"


@job("test.blocking_job", max_attempts=2)
def blocking_job(folder: str) -> str:
    """Blocks while the ``block`` file exists; safe to start again (max_attempts 2)."""
    path = Path(folder)
    (path / f"job-started-{os.getpid()}").touch()
    while (path / "block").exists():
        time.sleep(0.05)
    return "released"
