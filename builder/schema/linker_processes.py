"""Linking of the process parts: stage flows, approval chains, automations, assignment, SLA."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.schema.counts import COUNTED_TYPES
from builder.schema.field_types.choice import option_keys
from builder.schema.linker import BUILTIN_ROLES, EntityInfo, Linker, items

USER_KINDS = ("id",)


def link_processes(linker: Linker) -> None:
    link_stage_flows(linker)
    link_approval_chains(linker)
    link_automations(linker)
    link_assignment_rules(linker)
    link_sla_policies(linker)


def link_stage_flows(linker: Linker) -> None:
    linker.unique_keys(linker.app, "stage_flows", "")
    taken: dict[tuple[str, str], str] = {}
    for path, flow in items(linker.app, "stage_flows", ""):
        info = linker.entity(flow.get("entity"), f"{path}.entity")
        options: list[str] | None = None
        field_key = flow.get("field")
        if info is not None and isinstance(field_key, str):
            linker.field(info, field_key, f"{path}.field", types=("select",), system=False)
            if info.type_of(field_key) == "select":
                options = option_keys(info.fields[field_key])
            used_by = taken.setdefault((info.key, field_key), str(flow.get("key")))
            if used_by != str(flow.get("key")):
                linker.add(f"{path}.field", "flow_field_taken", field=field_key, flow=used_by)
        linker.field(info, flow.get("amount_field"), f"{path}.amount_field", kinds=("number",),
                     system=False)
        stages = linker.unique_keys(flow, "stages", path)
        if stages and all(stage.get("terminal") for _, stage in stages.values()):
            linker.add(f"{path}.stages", "no_open_stage")
        for stage_path, stage in items(flow, "stages", path):
            key = stage.get("key")
            if options is not None and isinstance(key, str) and key not in options:
                linker.add(f"{stage_path}.key", "stage_not_option", stage=key, field=field_key)
            linker.logic(stage.get("entry"), f"{stage_path}.entry", info)
            linker.logic(stage.get("exit"), f"{stage_path}.exit", info)
            for deliverable_path, deliverable in items(stage, "deliverables", stage_path):
                _deliverable(linker, info, deliverable_path, deliverable)
            linker.field(info, stage.get("reason_field"), f"{stage_path}.reason_field",
                         system=False)
        for transition_path, transition in items(flow, "transitions", path):
            for end in ("from", "to"):
                key = transition.get(end)
                if isinstance(key, str) and key not in stages:
                    linker.add(f"{transition_path}.{end}", "unknown_stage", stage=key)
            if transition.get("from") == transition.get("to"):
                linker.add(f"{transition_path}.to", "same_stage_transition")


def _deliverable(linker: Linker, info: EntityInfo | None, path: str,
                 deliverable: dict[str, Any]) -> None:
    """A field of the flow's entity, or (with ``entity``) a relation pointing at it."""
    field_key, entity_key = deliverable.get("field"), deliverable.get("entity")
    if entity_key is None:
        linker.field(info, field_key, f"{path}.field", system=False)
        if (info is not None and isinstance(field_key, str) and field_key in info.fields
                and "min_count" in deliverable
                and info.type_of(field_key) not in COUNTED_TYPES):
            linker.add(f"{path}.min_count", "not_countable", field=field_key)
        return
    source = linker.entity(entity_key, f"{path}.entity")
    if source is None or info is None or not isinstance(field_key, str):
        return
    target = source.fields.get(field_key) or {}
    if target.get("type") != "relation" or target.get("entity") != info.key:
        linker.add(f"{path}.field", "not_pointing", field=field_key, entity=source.key,
                   target=info.key)


def _approver(linker: Linker, info: EntityInfo | None, path: str, approver: Any) -> None:
    if not isinstance(approver, Mapping):
        return
    role = approver.get("role")
    if isinstance(role, str) and role not in linker.roles and role not in BUILTIN_ROLES:
        linker.add(f"{path}.role", "unknown_role", role=role)
    if approver.get("type") == "field":
        linker.field(info, approver.get("field"), f"{path}.field", types=("user",),
                     system=False)
    whose = approver.get("of")
    if isinstance(whose, str) and whose not in ("submitter", "owner"):
        linker.field(info, whose, f"{path}.of", types=("user",), system=False)


def _outcome(linker: Linker, info: EntityInfo | None, path: str, outcome: Any) -> None:
    values = outcome.get("set") if isinstance(outcome, Mapping) else None
    if isinstance(values, Mapping):
        for key, value in values.items():
            linker.field(info, key, f"{path}.set.{key}", system=False)
            if isinstance(value, Mapping) and "logic" in value:
                linker.logic(value["logic"], f"{path}.set.{key}.logic", info)


def link_approval_chains(linker: Linker) -> None:
    linker.unique_keys(linker.app, "approval_chains", "")
    for path, chain in items(linker.app, "approval_chains", ""):
        info = linker.entity(chain.get("entity"), f"{path}.entity")
        linker.logic(chain.get("when"), f"{path}.when", info)
        linker.unique_keys(chain, "steps", path)
        for step_path, step in items(chain, "steps", path):
            linker.logic(step.get("when"), f"{step_path}.when", info)
            _approver(linker, info, f"{step_path}.approver", step.get("approver"))
        for name in ("on_approved", "on_rejected"):
            _outcome(linker, info, f"{path}.{name}", chain.get(name))


def _params(linker: Linker, info: EntityInfo | None, path: str, params: Any) -> None:
    """Field references in free-form trigger/action parameters (``field``, ``fields``, ``set``)."""
    if not isinstance(params, Mapping):
        return
    target = info
    if isinstance(params.get("entity"), str):
        target = linker.entity(params["entity"], f"{path}.entity")
    linker.field(target, params.get("field"), f"{path}.field")
    linker.fields(target, params.get("fields"), f"{path}.fields")
    _outcome(linker, target, path, params)
    if isinstance(params.get("role"), str):
        _approver(linker, target, path, {"role": params["role"]})


def link_automations(linker: Linker) -> None:
    from builder.runtime.automation.checks import check_automation

    linker.unique_keys(linker.app, "automations", "")
    for path, automation in items(linker.app, "automations", ""):
        info = linker.entity(automation.get("entity"), f"{path}.entity")
        _params(linker, info, f"{path}.trigger", automation.get("trigger"))
        linker.logic(automation.get("condition"), f"{path}.condition", info)
        for action_path, action in items(automation, "actions", path):
            _params(linker, info, action_path, action)
        linker.problems.extend(check_automation(automation, path, info.data if info else None,
                                                linker.app))


def _pool(linker: Linker, info: EntityInfo | None, path: str, pool: Any) -> None:
    if isinstance(pool, Mapping) and isinstance(pool.get("role"), str):
        _approver(linker, info, path, {"role": pool["role"]})


def _assignment_item(linker: Linker, info: EntityInfo | None, path: str,
                     item: dict[str, Any]) -> None:
    linker.logic(item.get("when"), f"{path}.when", info)
    _pool(linker, info, f"{path}.pool", item.get("pool"))
    source, mapping = item.get("source"), item.get("map")
    if isinstance(mapping, Mapping):
        linker.field(info, source, f"{path}.source", system=False)
        options = (option_keys(info.fields[source]) if info is not None
                   and isinstance(source, str) and info.type_of(source) == "select" else None)
        for value, pool in mapping.items():
            if options is not None and value not in options:
                linker.add(f"{path}.map.{value}", "unknown_option", option=value,
                           field=source)
            _pool(linker, info, f"{path}.map.{value}", pool)
    elif item.get("strategy") == "field":
        linker.field(info, source, f"{path}.source", types=("user",), system=False)


def link_assignment_rules(linker: Linker) -> None:
    linker.unique_keys(linker.app, "assignment_rules", "")
    for path, rule in items(linker.app, "assignment_rules", ""):
        info = linker.entity(rule.get("entity"), f"{path}.entity")
        if rule.get("field", "owner") != "owner":
            linker.field(info, rule.get("field"), f"{path}.field", types=("user",),
                         system=False)
        linker.field(info, rule.get("priority_field"), f"{path}.priority_field",
                     kinds=("number", "date", "datetime", "text", "id"))
        linker.logic(rule.get("open"), f"{path}.open", info)
        _pool(linker, info, f"{path}.managers", rule.get("managers"))
        claim = rule.get("claim")
        if isinstance(claim, Mapping):
            linker.logic(claim.get("when"), f"{path}.claim.when", info)
            _pool(linker, info, f"{path}.claim.pool", claim.get("pool"))
        linker.unique_keys(rule, "rules", path)
        for item_path, item in items(rule, "rules", path):
            _assignment_item(linker, info, item_path, item)


def _sla_stage(linker: Linker, policy: Mapping[str, Any], path: str) -> None:
    """A stage_entered policy names a stage of a flow of its entity."""
    stage = policy.get("stage")
    if not isinstance(stage, str):
        linker.add(f"{path}.stage", "required")
        return
    flows = [f for _, f in items(linker.app, "stage_flows", "")
             if f.get("entity") == policy.get("entity")
             and policy.get("flow") in (None, f.get("key"))]
    if not any(s.get("key") == stage for f in flows for _, s in items(f, "stages", "")):
        linker.add(f"{path}.stage", "unknown_stage", stage=stage)


def link_sla_policies(linker: Linker) -> None:
    from builder.runtime.automation.checks import check_action

    linker.unique_keys(linker.app, "sla_policies", "")
    for path, policy in items(linker.app, "sla_policies", ""):
        info = linker.entity(policy.get("entity"), f"{path}.entity")
        linker.field(info, policy.get("field"), f"{path}.field", system=False)
        if policy.get("start") == "field_set" and not policy.get("field"):
            linker.add(f"{path}.field", "required")
        if policy.get("start") == "stage_entered":
            _sla_stage(linker, policy, path)
        linker.logic(policy.get("stop"), f"{path}.stop", info)
        linker.unique_keys(policy, "escalations", path)
        for escalation_path, escalation in items(policy, "escalations", path):
            _params(linker, info, f"{escalation_path}.action", escalation.get("action"))
            linker.problems.extend(check_action(escalation.get("action"),
                                                f"{escalation_path}.action",
                                                info.data if info else None, linker.app))
