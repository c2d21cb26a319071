"""Job runs are rows: queued, started, finished or failed, with progress and result; a
cancelled run stops; a run whose worker died is found by the sweep."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from builder import clock
from builder.extensions import db
from builder.runtime import jobs
from builder.runtime.jobs import run_in_app, runs
from builder.runtime.jobs.models import JobRun
from builder.runtime.jobs.progress import follow, render
from tests.runtime.jobs.handlers import (
    blocking_job,
    count_to,
    explode,
    reloaded,
    wait_for_cancel,
)


def run_of(run_id: str) -> JobRun:
    return reloaded(JobRun, run_id)  # type: ignore[no-any-return]


def in_transaction() -> None:
    db.session.execute(sa.select(1))


def test_a_run_is_recorded_queued_then_finished_with_progress_and_result(
        app, tenant, admin, run_jobs):
    in_transaction()
    run_id = jobs.submit(count_to, (5,), {"message": "row"}, tenant_id=tenant.id,
                         user_id=admin.id)
    queued = db.session.get(JobRun, run_id)
    assert queued is not None and queued.status == "queued" and queued.attempts == 0
    assert queued.name == "tests.runtime.jobs.handlers.count_to"
    run_jobs()

    run = run_of(run_id)
    assert run.status == "finished" and run.attempts == 1
    assert (run.progress_done, run.progress_total, run.progress_message) == (5, 5, "row 5")
    assert run.result == {"counted": 5} and run.error is None
    assert run.tenant_id == tenant.id and run.user_id == admin.id
    assert run.created_at <= run.started_at <= run.finished_at  # type: ignore[operator]


def test_enqueue_records_a_run_without_a_tenant(app, run_jobs):
    run_id = jobs.enqueue(count_to, 2)
    run_jobs()
    run = run_of(run_id)
    assert run.tenant_id is None and run.status == "finished" and run.result == {"counted": 2}


def test_a_failing_job_is_marked_failed_with_its_error(app, tenant, run_jobs):
    in_transaction()
    run_id = jobs.submit(explode, ("the file has no header row",), tenant_id=tenant.id)
    try:
        run_jobs()
    except ValueError:
        assert not jobs.get_jobs(app).uses_redis  # in-process tests see the exception
    run = run_of(run_id)
    assert run.status == "failed" and run.result is None
    assert run.error == "ValueError: the file has no header row"
    assert run.finished_at is not None


def test_a_run_cancelled_before_it_starts_never_runs(app, tenant, run_jobs):
    in_transaction()
    run_id = jobs.submit(count_to, (3,), tenant_id=tenant.id)
    runs.cancel_run(db.session.get(JobRun, run_id))  # type: ignore[arg-type]
    run_jobs()  # commits: the job is sent and finds its run cancelled
    run = run_of(run_id)
    assert run.status == "cancelled" and run.started_at is None and run.progress_done is None
    assert runs.run_error(run) in ("任务已取消。", "The job was cancelled.")


def test_a_running_job_stops_at_its_next_progress_report_when_cancelled(
        app, tenant, run_jobs, tmp_path: Path):
    in_transaction()
    run_id = jobs.submit(wait_for_cancel, (str(tmp_path),), tenant_id=tenant.id)

    def cancel_when_started() -> None:
        for _ in range(1000):
            if (tmp_path / "job-started").exists():
                break
            time.sleep(0.01)

        def cancel() -> None:
            runs.cancel_run(db.session.get(JobRun, run_id))  # type: ignore[arg-type]
            db.session.commit()

        run_in_app(app, cancel)

    canceller = threading.Thread(target=cancel_when_started)
    canceller.start()
    run_jobs()
    canceller.join()

    run = run_of(run_id)
    assert run.status == "cancelled" and run.cancel_requested_at is not None
    assert run.result is None and (run.progress_done or 0) >= 1
    with pytest.raises(Exception) as ended:
        runs.cancel_run(run)
    assert getattr(ended.value, "status", None) == 409


def _claimed_by_a_worker_that_died(func, *args) -> str:
    """A run a worker claimed and then died in: the row is started and its heartbeat
    stops; the job itself never ran."""
    in_transaction()
    run_id = jobs.submit(func, args)
    db.session.execute(sa.update(JobRun).where(JobRun.id == run_id).values(
        status="started", attempts=1, started_at=clock.now(), heartbeat_at=clock.now()))
    db.session.commit()
    return run_id


def test_a_run_lost_with_its_worker_is_marked_failed(app, run_jobs):
    run_id = _claimed_by_a_worker_that_died(count_to, 3)
    assert runs.sweep_runs() == 0  # the heartbeat is fresh
    clock.advance(timedelta(minutes=5))
    assert runs.sweep_runs() == 1
    run = run_of(run_id)
    assert run.status == "failed" and run.error_code == "worker_lost"
    assert runs.run_error(run) in ("执行该任务的进程在任务完成前中断了。",
                                   "The worker running this job stopped before the job "
                                   "finished.")
    assert runs.sweep_runs() == 0


def test_a_run_lost_with_its_worker_is_started_again_when_the_job_allows(
        app, run_jobs, tmp_path: Path):
    run_id = _claimed_by_a_worker_that_died(blocking_job, str(tmp_path))  # max_attempts 2
    clock.advance(timedelta(minutes=5))
    runs.sweep_runs()
    run_jobs()
    run = run_of(run_id)
    assert run.status == "finished" and run.attempts == 2 and run.result == "released"


def test_a_queued_run_that_redis_lost_is_sent_again(app, run_jobs):
    transport = jobs.get_jobs(app)
    if not transport.uses_redis:
        pytest.skip("needs REDIS_URL")
    run_id = jobs.enqueue(count_to, 4)
    transport.connection().delete(*transport.connection().keys(f"*{run_id}*"))
    run_jobs()
    assert run_of(run_id).status == "queued"  # Redis forgot it

    assert runs.sweep_runs() == 0  # not stale yet: it may still be on its way
    clock.advance(timedelta(minutes=5))
    assert runs.sweep_runs() == 1
    run_jobs()
    assert run_of(run_id).status == "finished"


def test_follow_prints_a_progress_bar_until_the_run_ends(app, tenant, run_jobs):
    run_id = jobs.submit(count_to, (4,), tenant_id=tenant.id)
    run_jobs()
    printed: list[str] = []
    run = follow(run_id, interval=0.01, echo=lambda text="", nl=True: printed.append(text))
    assert run.status == "finished"
    assert "[" + "#" * 30 + "] 100%  4/4  counting 4" in printed[0]
    assert printed[-1] in ("完成。", "Done.")

    halfway = JobRun(status="started", progress_done=1, progress_total=4,
                     progress_message="importing")
    assert render(halfway, width=8) == "[##------]  25%  1/4  importing"
