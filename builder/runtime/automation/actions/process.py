"""Actions that hand the record to other engines: assign it (assignment rules or a given
user) and start an approval chain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.errors import Problem
from builder.extensions import db
from builder.i18n import gettext
from builder.platform.models import User
from builder.runtime.automation.actions.base import (
    Action,
    ActionContext,
    ActionFailed,
    action_registry,
)
from builder.runtime.automation.params import problem, require


def _keys(app: Mapping[str, Any], part: str, entity: Any) -> list[str]:
    return [str(item.get("key")) for item in app.get(part) or ()
            if item.get("entity") == entity]


@action_registry.register
class Assign(Action):
    """``{"type": "assign", "rule": <assignment rule key>, "reassign": true}`` picks the
    assignee with the entity's assignment rule (each rule in turn when ``rule`` is left
    out); ``reassign`` passes over the current assignee (an SLA escalation handing the
    record to someone else). ``{"type": "assign", "user": <JsonLogic giving a user id>}``
    gives it to that user. The rule's ``field`` (default ``owner``) is what changes."""

    type = "assign"

    def run(self, params: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        from builder.runtime.automation.assignment import assign_record, rule_named, rules_of

        record = ctx.require_record(self.type)
        record_id = int(record["id"])
        rule = rule_named(ctx.store, str(params["rule"])) if params.get("rule") else None
        field = str((rule or next(iter(rules_of(ctx.store)), {})).get("field") or "owner")
        if "user" in params:
            field = str(rule["field"]) if rule else "owner"
        before = ctx.records().get(record_id).get(field)
        if "user" in params:
            user_id = ctx.value(params["user"])
            if not isinstance(user_id, int) or isinstance(user_id, bool):
                raise ActionFailed(gettext("automation.error.bad_user", value=user_id))
            ctx.records().set_owner(record_id, user_id, field=field)
            assignee: int | None = user_id
        else:
            exclude = [before] if params.get("reassign") and isinstance(before, int) else []
            assignee = assign_record(ctx.store, record_id, rule_key=params.get("rule"),
                                     user=ctx.user, exclude=exclude)
        ctx.record = ctx.records().get(record_id)
        return {"record_id": record_id, "field": field, "from": before, "to": assignee}

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        rule = params.get("rule")
        if rule is not None and entity is not None \
                and rule not in _keys(app, "assignment_rules", entity.get("key")):
            return [problem(f"{path}.rule", "unknown_rule", rule=rule)]
        if "user" not in params and entity is not None \
                and not _keys(app, "assignment_rules", entity.get("key")):
            return [problem(f"{path}.rule", "param_required", param="rule")]
        return []


@action_registry.register
class StartApproval(Action):
    """``{"type": "start_approval", "chain": <approval chain key>, "comment": ...}``: submit
    the record to the chain, as the user who triggered the run (else its owner)."""

    type = "start_approval"

    def run(self, params: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        from builder.runtime.workflow.approvals import start

        record = ctx.require_record(self.type)
        submitter = ctx.user
        if submitter is None and record.get("owner") is not None:
            submitter = db.session.get(User, record["owner"])
        if submitter is None or submitter.tenant_id != ctx.tenant_id:
            raise ActionFailed(gettext("automation.error.no_submitter"))
        comment = ctx.text(params["comment"]) if params.get("comment") else None
        instance = start(ctx.store, int(record["id"]), str(params["chain"]), submitter,
                         comment)
        ctx.record = ctx.records().get(int(record["id"]))
        return {"record_id": record["id"], "chain": params["chain"],
                "instance": instance.get("id")}

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        found = require(params, "chain", path, str)
        chain = params.get("chain")
        if not found and entity is not None \
                and chain not in _keys(app, "approval_chains", entity.get("key")):
            found.append(problem(f"{path}.chain", "unknown_chain", chain=chain))
        return found
