"""HTTP for assignment: distribute the backlog, claim from the pool, release back to it.

- ``POST .../<entity>/assign`` body ``{"rule"?}`` → 202 with the run: the unassigned
  records matching a rule item (``pending``) are handed out by a background job; the
  run's counts (``assigned``, ``unassigned``, ``failed``, ``per_user``) grow as it works.
  Tenant admins and the rule's ``managers`` only.
- ``GET .../<entity>/assign/<run_id>`` → the run, to follow its progress.
- ``POST .../records/<id>/claim`` body ``{"rule"?}`` → 200 with the record, now yours;
  409 when someone else got it first (the message names them), when you are at the
  claim limit, or when the record is not claimable.
- ``POST .../records/<id>/release`` body ``{"rule"?}`` → 200 with the record, unassigned
  again; by its holder or a manager.

The tenant comes from the caller: another tenant's apps and records are 404s.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from builder.errors import NotFound
from builder.extensions import db
from builder.i18n import gettext
from builder.platform.auth import require_user
from builder.runtime import access
from builder.runtime.api.records import RecordSchema
from builder.runtime.automation import assignment
from builder.runtime.automation.assignment_runs import get_run, start_distribution
from builder.runtime.storage.tables import EntityStore, entity_store

blp = Blueprint("assignment", __name__, url_prefix="/api/apps",
                description="Assignment: distribute unassigned records, claim and release")


class RuleArgsSchema(Schema):
    rule = fields.String(metadata={"description": "An assignment rule key of the entity; "
                                                  "by default every rule (claim: the first "
                                                  "rule with a claim pool)"})


class RunSchema(Schema):
    id = fields.Integer()
    app = fields.String(attribute="app_key")
    entity = fields.String(attribute="entity_key")
    rule = fields.String(attribute="rule_key", allow_none=True)
    status = fields.String(metadata={"description": "queued, running, done or failed"})
    pending = fields.Integer(metadata={"description": "Unassigned matching records when "
                                                      "the run was asked for"})
    assigned = fields.Integer()
    unassigned = fields.Integer(metadata={"description": "Matched, but nobody eligible"})
    failed = fields.Integer(metadata={"description": "Refused by another engine"})
    per_user = fields.Dict(metadata={"description": "User id → records assigned"})
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


def _store(app_key: str, entity_key: str) -> EntityStore:
    return entity_store(require_user().tenant_id, app_key, entity_key)


@blp.route("/<app_key>/<entity_key>/assign", methods=["POST"])
@blp.arguments(RuleArgsSchema)
@blp.response(202, RunSchema)
def distribute(args: dict[str, Any], app_key: str, entity_key: str) -> Any:
    """Hand out every unassigned record a rule matches, highest priority first, in the
    background; returns the run with its counts."""
    run = start_distribution(_store(app_key, entity_key), require_user(), args.get("rule"))
    db.session.commit()
    db.session.refresh(run)  # jobs run in-process finish on commit
    return run


@blp.route("/<app_key>/<entity_key>/assign/<int:run_id>", methods=["GET"])
@blp.response(200, RunSchema)
def distribution(app_key: str, entity_key: str, run_id: int) -> Any:
    """A distribution run and its counts so far."""
    run = get_run(_store(app_key, entity_key), run_id)
    if run is None:
        raise NotFound(gettext("assignment.error.run_not_found"))
    return run


@blp.route("/<app_key>/<entity_key>/records/<int:record_id>/claim", methods=["POST"])
@blp.arguments(RuleArgsSchema)
@blp.response(200, RecordSchema)
def claim(args: dict[str, Any], app_key: str, entity_key: str, record_id: int) -> Any:
    """Take an unassigned record from the pool; of concurrent claims exactly one wins."""
    store, user = _store(app_key, entity_key), require_user()
    record = assignment.claim(store, record_id, user, rule_key=args.get("rule"))
    return access.redact(store, user, record)


@blp.route("/<app_key>/<entity_key>/records/<int:record_id>/release", methods=["POST"])
@blp.arguments(RuleArgsSchema)
@blp.response(200, RecordSchema)
def release(args: dict[str, Any], app_key: str, entity_key: str, record_id: int) -> Any:
    """Give a record back to the pool, unassigned."""
    store, user = _store(app_key, entity_key), require_user()
    record = assignment.release(store, record_id, user, rule_key=args.get("rule"))
    return access.redact(store, user, record)
