"""HTTP for job runs and timers.

- ``GET /api/jobs/<id>``: a run's status, progress, result and error. Visible to the
  user who started it and to the tenant's admins; anything else is a 404.
- ``POST /api/jobs/<id>/cancel``: cancel a queued run, or ask a running one to stop.
- ``GET /api/jobs?status=``: the tenant's runs, newest first (tenant admins).
- ``GET /api/timers?status=``: the tenant's pending and failed timers (tenant admins);
  ``POST /api/timers/<id>/retry`` makes a failed timer pending again.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from builder.extensions import db
from builder.platform.auth import require_tenant_admin, require_user
from builder.runtime.jobs import runs, timers
from builder.runtime.jobs.models import FAILED, PENDING, RUN_STATES, JobRun

blp = Blueprint("jobs", __name__, url_prefix="/api",
                description="Background job runs and durable timers")


class ProgressSchema(Schema):
    done = fields.Integer(allow_none=True)
    total = fields.Integer(allow_none=True)
    message = fields.String(allow_none=True)
    percent = fields.Float(allow_none=True)


class JobRunSchema(Schema):
    id = fields.String()
    name = fields.String()
    status = fields.String(metadata={"enum": list(RUN_STATES)})
    progress = fields.Nested(ProgressSchema)
    result = fields.Raw(allow_none=True)
    error = fields.String(allow_none=True)
    attempts = fields.Integer()
    cancel_requested = fields.Boolean()
    user_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class JobListArgsSchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(RUN_STATES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class TimerSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    key = fields.String(allow_none=True)
    status = fields.String()
    payload = fields.Dict()
    due_at = fields.DateTime()
    next_attempt_at = fields.DateTime()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    failed_at = fields.DateTime(allow_none=True)
    fired_at = fields.DateTime(allow_none=True)
    cron = fields.String(allow_none=True)
    timezone = fields.String()
    created_at = fields.DateTime()


class TimerListArgsSchema(Schema):
    status = fields.List(fields.String(validate=validate.OneOf(timers.STATUSES)),
                         load_default=None,
                         metadata={"description": "pending and failed when left out"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


def _view(run: JobRun) -> dict[str, Any]:
    done, total = run.progress_done, run.progress_total
    percent = round(100.0 * done / total, 1) if done is not None and total else None
    return {"id": run.id, "name": run.name, "status": run.status,
            "progress": {"done": done, "total": total, "message": run.progress_message,
                         "percent": percent},
            "result": run.result, "error": runs.run_error(run), "attempts": run.attempts,
            "cancel_requested": run.cancel_requested_at is not None, "user_id": run.user_id,
            "created_at": run.created_at, "started_at": run.started_at,
            "finished_at": run.finished_at}


@blp.route("/jobs", methods=["GET"])
@blp.arguments(JobListArgsSchema, location="query")
@blp.response(200, JobRunSchema(many=True))
def list_jobs(args: dict[str, Any]) -> Any:
    """The tenant's job runs, newest first (tenant admins)."""
    user = require_tenant_admin()
    return [_view(run) for run in runs.list_runs(user.tenant_id, args["status"],
                                                 args["limit"])]


@blp.route("/jobs/<run_id>", methods=["GET"])
@blp.response(200, JobRunSchema)
def get_job(run_id: str) -> Any:
    """A job run's status, progress, result and error."""
    user = require_user()
    return _view(runs.get_run(user.tenant_id, run_id, user))


@blp.route("/jobs/<run_id>/cancel", methods=["POST"])
@blp.response(200, JobRunSchema)
def cancel_job(run_id: str) -> Any:
    """Cancel a queued run, or ask a running one to stop at its next progress report."""
    user = require_user()
    run = runs.cancel_run(runs.get_run(user.tenant_id, run_id, user))
    db.session.commit()
    return _view(run)


@blp.route("/timers", methods=["GET"])
@blp.arguments(TimerListArgsSchema, location="query")
@blp.response(200, TimerSchema(many=True))
def list_timers(args: dict[str, Any]) -> Any:
    """The tenant's timers: pending and failed unless ``status`` says otherwise."""
    user = require_tenant_admin()
    statuses = tuple(args["status"] or (PENDING, FAILED))
    return timers.list_timers(user.tenant_id, statuses, args["limit"])


@blp.route("/timers/<int:timer_id>/retry", methods=["POST"])
@blp.response(200, TimerSchema)
def retry_timer(timer_id: int) -> Any:
    """Make a failed timer pending again, due now."""
    user = require_tenant_admin()
    timer = timers.retry(user.tenant_id, timer_id)
    db.session.commit()
    return timer
