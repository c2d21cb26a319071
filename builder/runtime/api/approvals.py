"""HTTP for approval chains: submit a record, the trail, the inbox, act, withdraw.

- ``POST /api/apps/<app>/<entity>/records/<id>/approvals`` ``{"chain", "comment"}`` → 201
  with the run; 422 when the record does not meet the chain's condition or a step has
  nobody to approve it, 409 while another approval of the record is pending.
- ``GET /api/apps/<app>/<entity>/records/<id>/approvals`` → ``{"items": [run, ...]}``,
  newest first, each with its steps, tasks and trail.
- ``GET /api/approvals/inbox`` → ``{"items": [...]}``: the caller's pending tasks.
- ``POST /api/approvals/tasks/<id>`` ``{"action": approve|reject|return|delegate,
  "comment", "to_step", "to_user"}`` → the run; 409 when someone decided first.
- ``GET /api/approvals/<id>``; ``POST /api/approvals/<id>/withdraw`` ``{"comment"}``.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from builder.extensions import db
from builder.platform.auth import require_user
from builder.runtime import access
from builder.runtime.storage.tables import entity_store
from builder.runtime.workflow import approvals, approvals_views

blp = Blueprint("approvals", __name__, url_prefix="/api",
                description="Approval chains: submit, inbox, approve, reject, return, "
                            "delegate, withdraw, trail")

COMMENT = fields.String(allow_none=True, validate=validate.Length(max=4000))


class PassThrough(Schema):
    """Dumps what the service built (its shape is described in the docstrings)."""

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        return obj


class InstanceSchema(PassThrough):
    id = fields.Integer()
    chain = fields.String()
    title = fields.String()
    status = fields.String(metadata={
        "description": "pending, approved, rejected, returned or withdrawn"})
    current_step = fields.String(allow_none=True)
    record_id = fields.Integer()
    submitted_by = fields.Dict(allow_none=True)
    submitted_at = fields.String()
    decided_at = fields.String(allow_none=True)
    steps = fields.List(fields.Dict(), metadata={
        "description": "{index, key, title, mode, status, tasks[]}"})
    actions = fields.List(fields.Dict(), metadata={
        "description": "The trail: {action, step, user, comment, at, ...}"})


class InstanceListSchema(PassThrough):
    items = fields.List(fields.Nested(InstanceSchema))


class InboxSchema(PassThrough):
    items = fields.List(fields.Dict(), metadata={
        "description": "{task_id, instance_id, chain, step, submitted_by, record{...}}"})


class SubmitBodySchema(Schema):
    chain = fields.String(required=True, validate=validate.Length(min=1, max=64))
    comment = COMMENT


class ActBodySchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(approvals.ACTIONS))
    comment = COMMENT
    to_step = fields.String(validate=validate.Length(min=1, max=64), metadata={
        "description": "return: the key of an earlier step, or `submitter` (default)"})
    to_user = fields.Integer(strict=True, validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "delegate: the user's id"})


class CommentBodySchema(Schema):
    comment = COMMENT


@blp.route("/apps/<app_key>/<entity_key>/records/<int:record_id>/approvals",
           methods=["POST"])
@blp.arguments(SubmitBodySchema)
@blp.response(201, InstanceSchema)
def submit(body: dict[str, Any], app_key: str, entity_key: str, record_id: int) -> Any:
    """Submit the record for approval by one of its entity's chains."""
    user = require_user()
    store = entity_store(user.tenant_id, app_key, entity_key)
    access.require_record(user, store, record_id, "update")  # submitting locks the record
    result = approvals.start(store, record_id, body["chain"], user, body.get("comment"))
    db.session.commit()
    return result


@blp.route("/apps/<app_key>/<entity_key>/records/<int:record_id>/approvals",
           methods=["GET"])
@blp.response(200, InstanceListSchema)
def record_trail(app_key: str, entity_key: str, record_id: int) -> Any:
    """Every approval of the record: steps, who decided what, when, with which comment."""
    user = require_user()
    store = entity_store(user.tenant_id, app_key, entity_key)
    access.require_record(user, store, record_id, "read")
    return {"items": approvals_views.trail(store, record_id)}


@blp.route("/approvals/inbox", methods=["GET"])
@blp.response(200, InboxSchema)
def inbox() -> Any:
    """The caller's pending approval tasks, with a summary of each record."""
    return {"items": approvals_views.inbox(require_user())}


@blp.route("/approvals/tasks/<int:task_id>", methods=["POST"])
@blp.arguments(ActBodySchema)
@blp.response(200, InstanceSchema)
def act(body: dict[str, Any], task_id: int) -> Any:
    """Approve, reject, return (``to_step``) or delegate (``to_user``) one's task."""
    result = approvals.act(require_user(), task_id, body["action"], body.get("comment"),
                           to_step=body.get("to_step"), to_user=body.get("to_user"))
    db.session.commit()
    return result


@blp.route("/approvals/<int:instance_id>", methods=["GET"])
@blp.response(200, InstanceSchema)
def instance(instance_id: int) -> Any:
    """One approval run with its steps, tasks and trail."""
    return approvals.get_instance(require_user(), instance_id)


@blp.route("/approvals/<int:instance_id>/withdraw", methods=["POST"])
@blp.arguments(CommentBodySchema)
@blp.response(200, InstanceSchema)
def withdraw(body: dict[str, Any], instance_id: int) -> Any:
    """The submitter takes the request back, before any approver has acted."""
    result = approvals.withdraw(require_user(), instance_id, body.get("comment"))
    db.session.commit()
    return result
