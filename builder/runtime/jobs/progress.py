"""Follow a job run from a terminal: a progress bar that redraws until the run ends.

Commands that start long work (imports, installs, exports) call
``follow(run_id)`` after committing; it polls the run's row, so it works the same when
the job runs in this process, in another thread or on a worker elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click

from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.jobs.models import CANCELLED_RUN, DONE_STATES, FAILED_RUN, QUEUED, JobRun
from builder.runtime.jobs.runs import run_error

BAR_WIDTH = 30


def render(run: JobRun, width: int = BAR_WIDTH) -> str:
    """One line: ``[#######-------]  50%  50/100  message``."""
    done, total = run.progress_done, run.progress_total
    if done is None and run.status == QUEUED:
        return gettext("jobs.progress.waiting")
    if total:
        ratio = min(max((done or 0) / total, 0.0), 1.0)
        filled = round(ratio * width)
        bar = "#" * filled + "-" * (width - filled)
        line = f"[{bar}] {ratio * 100:3.0f}%  {done or 0}/{total}"
    else:
        line = f"[{'?' * width}] {done or 0}"
    return f"{line}  {run.progress_message}" if run.progress_message else line


def follow(run_id: str, *, interval: float = 0.5, timeout: float | None = None,
           echo: Callable[..., Any] = click.echo) -> JobRun:
    """Print the run's progress until it finishes, fails or is cancelled (or ``timeout``
    seconds pass); returns the run as last read. Needs an application context."""
    started = time.monotonic()
    shown = ""
    while True:
        db.session.rollback()  # a fresh read each time
        run = db.session.get(JobRun, run_id)
        if run is None:
            raise LookupError(f"no job run {run_id}")
        line = render(run)
        if line != shown:
            echo("\r" + line.ljust(len(shown)), nl=False)
            shown = line
        if run.status in DONE_STATES:
            echo("")
            if run.status == FAILED_RUN:
                echo(gettext("jobs.progress.failed", error=run_error(run)))
            elif run.status == CANCELLED_RUN:
                echo(gettext("jobs.progress.cancelled"))
            else:
                echo(gettext("jobs.progress.finished"))
            return run
        if timeout is not None and time.monotonic() - started > timeout:
            echo("")
            return run
        time.sleep(interval)
