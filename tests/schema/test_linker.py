"""The linker: every reference resolved, every problem reported at once with its path."""

from __future__ import annotations

from typing import Any

import pytest

from builder.errors import ValidationFailed
from builder.schema import check_definition, link, validate_definition
from builder.schema.logic import basic_check
from tests.definitions import entity, field, full_app, minimal_app


def codes(data: Any) -> dict[str, str]:
    _, problems = check_definition(data)
    return {p.path: p.code for p in problems}


def test_full_app_links_cleanly() -> None:
    assert link(full_app()) == []
    assert link(validate_definition(full_app())) == []


def test_every_problem_in_one_answer() -> None:
    app = full_app()
    customer, opportunity, quote, quote_line = app["entities"]
    customer["fields"].append(field("rating", "stars", "评级"))                  # [12]
    customer["fields"].append(field("name", "text", "重名"))                     # [13]
    opportunity["fields"][1]["entity"] = "company"
    opportunity["fields"][9]["required_when"] = {"===>": [{"var": "stage"}, "lost"]}
    quote["fields"][4]["expression"] = {"*": [{"var": "discount"}, 2]}
    quote_line["fields"].append(field("back", "subtable", "反向", entity="quote"))  # [4]
    app["entities"].append(entity("Bad Key", "坏"))
    app["entities"].append(entity("1abc", "坏"))

    with pytest.raises(ValidationFailed) as caught:
        validate_definition(app)
    error = caught.value
    assert error.status == 422 and error.message
    found = {p.path: p.code for p in error.details}
    expected = {
        "entities[0].fields[12].type": "unknown_field_type",
        "entities[0].fields[13].key": "duplicate_key",
        "entities[1].fields[1].entity": "unknown_entity",
        "entities[3].fields[4].entity": "subtable_cycle",
        "entities[4].key": "invalid_key",
        "entities[5].key": "invalid_key",
    }
    for path, code in expected.items():
        assert found.get(path) == code, (path, found)
    paths = [p.path for p in error.details]
    assert any(p.startswith("entities[1].fields[9].required_when") for p in paths)
    assert any(p.startswith("entities[2].fields[4].expression") for p in paths)
    assert all(p.message for p in error.details)
    assert len(paths) == len(set((p.path, p.message) for p in error.details))


def test_unknown_type_is_one_problem() -> None:
    app = minimal_app(entity("item", "条目", fields=[field("rating", "stars", "评级")]))
    assert codes(app) == {"entities[0].fields[0].type": "unknown_field_type"}


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda a: a["entities"].append(a["entities"][0]), "entities[4].key"),
    (lambda a: a["entities"][0]["fields"][2]["options"].append(
        {"key": "retail", "title": {"zh-CN": "又一个"}}),
     "entities[0].fields[2].options[3].key"),
    (lambda a: a["entities"][0]["forms"].append(a["entities"][0]["forms"][0]),
     "entities[0].forms[1].key"),
    (lambda a: a["entities"][0]["views"].append(a["entities"][0]["views"][0]),
     "entities[0].views[1].key"),
    (lambda a: a["entities"][1]["validations"].append(a["entities"][1]["validations"][0]),
     "entities[1].validations[1].key"),
    (lambda a: a["stage_flows"].append(a["stage_flows"][0]), "stage_flows[1].key"),
    (lambda a: a["stage_flows"][0]["stages"].insert(1, {"key": "lead"}),
     "stage_flows[0].stages[1].key"),
    (lambda a: a["approval_chains"][0]["steps"].append(a["approval_chains"][0]["steps"][0]),
     "approval_chains[0].steps[3].key"),
    (lambda a: a["approval_chains"].append(a["approval_chains"][0]), "approval_chains[1].key"),
    (lambda a: a["automations"].append(a["automations"][0]), "automations[1].key"),
    (lambda a: a["assignment_rules"].append(a["assignment_rules"][0]),
     "assignment_rules[1].key"),
    (lambda a: a["sla_policies"].append(a["sla_policies"][0]), "sla_policies[1].key"),
    (lambda a: a["metrics"].append(a["metrics"][0]), "metrics[1].key"),
    (lambda a: a["dashboards"].append(a["dashboards"][0]), "dashboards[1].key"),
    (lambda a: a["dashboards"][0]["widgets"].append(a["dashboards"][0]["widgets"][0]),
     "dashboards[0].widgets[1].key"),
    (lambda a: a["roles"].append(a["roles"][0]), "roles[2].key"),
])
def test_duplicate_keys(mutate: Any, path: str) -> None:
    app = full_app()
    mutate(app)
    assert codes(app).get(path) == "duplicate_key"


def test_relation_and_subtable_targets() -> None:
    app = minimal_app(entity("item", "条目", fields=[
        field("parent", "relation", "上级", entity="nowhere"),
        field("rows", "subtable", "明细", entity="lines"),
        field("link", "relation", "无目标")]))
    assert codes(app) == {"entities[0].fields[0].entity": "unknown_entity",
                          "entities[0].fields[1].entity": "unknown_entity",
                          "entities[0].fields[2].entity": "entity_required"}


def _owning(key: str, *targets: str) -> dict[str, Any]:
    return entity(key, key, fields=[field("name", "text", "名称")] + [
        field(f"rows_{t}", "subtable", t, entity=t) for t in targets])


def test_subtable_two_cycle() -> None:
    app = minimal_app(_owning("a", "b"), _owning("b", "a"))
    assert codes(app) == {"entities[1].fields[1].entity": "subtable_cycle"}


def test_subtable_long_cycle_names_the_cycle() -> None:
    app = minimal_app(_owning("a", "b"), _owning("b", "c"), _owning("c", "a"))
    _, problems = check_definition(app)
    assert [(p.path, p.code) for p in problems] == [
        ("entities[2].fields[1].entity", "subtable_cycle")]
    assert "a → b → c → a" in problems[0].message


def test_subtable_self_cycle() -> None:
    app = minimal_app(_owning("a", "a"))
    assert codes(app) == {"entities[0].fields[1].entity": "subtable_cycle"}


def test_entity_owned_twice() -> None:
    app = minimal_app(_owning("a", "c"), _owning("b", "c"), _owning("c"))
    assert codes(app) == {"entities[1].fields[1].entity": "subtable_owned_twice"}


def test_a_chain_of_subtables_is_fine() -> None:
    app = minimal_app(_owning("a", "b"), _owning("b", "c"), _owning("c"))
    assert codes(app) == {}


@pytest.mark.parametrize(("mutate", "path", "code"), [
    (lambda a: a["entities"][0].update(title_field="nickname"),
     "entities[0].title_field", "unknown_field"),
    (lambda a: a["entities"][0]["forms"][0]["sections"][1]["fields"].append("fax"),
     "entities[0].forms[0].sections[1].fields[3]", "unknown_field"),
    (lambda a: a["entities"][0]["views"][0]["columns"].append("fax"),
     "entities[0].views[0].columns[4]", "unknown_field"),
    (lambda a: a["entities"][0]["views"][0]["sort"].append({"field": "fax"}),
     "entities[0].views[0].sort[1].field", "unknown_field"),
    (lambda a: a["entities"][1]["views"][0].update(group_by="colour"),
     "entities[1].views[0].group_by", "unknown_field"),
    (lambda a: a["entities"][1]["views"][0].pop("group_by"),
     "entities[1].views[0].group_by", "required"),
    (lambda a: a["entities"][1]["views"][0].update(type="calendar", date_field="name"),
     "entities[1].views[0].date_field", "field_kind"),
    (lambda a: a["entities"][1]["validations"][0].update(fields=["budget"]),
     "entities[1].validations[0].fields[0]", "unknown_field"),
])
def test_forms_views_and_title_field(mutate: Any, path: str, code: str) -> None:
    app = full_app()
    mutate(app)
    assert codes(app) == {path: code}


@pytest.mark.parametrize(("mutate", "path", "code"), [
    (lambda a: a["stage_flows"][0].update(entity="deal"), "stage_flows[0].entity",
     "unknown_entity"),
    (lambda a: a["stage_flows"][0].update(field="amount"), "stage_flows[0].field", "field_type"),
    (lambda a: a["stage_flows"][0].update(field="phase"), "stage_flows[0].field",
     "unknown_field"),
    (lambda a: a["stage_flows"][0]["stages"].append({"key": "negotiation"}),
     "stage_flows[0].stages[5].key", "stage_not_option"),
    (lambda a: a["stage_flows"][0]["transitions"].append({"from": "won", "to": "closed"}),
     "stage_flows[0].transitions[4].to", "unknown_stage"),
    (lambda a: a["stage_flows"][0]["stages"][2]["deliverables"][0].update(field="report"),
     "stage_flows[0].stages[2].deliverables[0].field", "unknown_field"),
    (lambda a: a["stage_flows"][0]["stages"][4].update(reason_field="why"),
     "stage_flows[0].stages[4].reason_field", "unknown_field"),
    (lambda a: a["approval_chains"][0].update(entity="offer"), "approval_chains[0].entity",
     "unknown_entity"),
    (lambda a: a["approval_chains"][0]["steps"][1]["approver"].update(role="cfo"),
     "approval_chains[0].steps[1].approver.role", "unknown_role"),
    (lambda a: a["approval_chains"][0]["steps"][0].update(
        approver={"type": "field", "field": "price"}),
     "approval_chains[0].steps[0].approver.field", "field_type"),
    (lambda a: a["approval_chains"][0]["steps"][0]["approver"].update(of="price"),
     "approval_chains[0].steps[0].approver.of", "field_type"),
    (lambda a: a["approval_chains"][0]["on_approved"]["set"].update(state="ok"),
     "approval_chains[0].on_approved.set.state", "unknown_field"),
    (lambda a: a["automations"][0].update(entity="deal"), "automations[0].entity",
     "unknown_entity"),
    (lambda a: a["automations"][0]["trigger"].update(field="phase"),
     "automations[0].trigger.field", "unknown_field"),
    (lambda a: a["automations"][0]["actions"].append(
        {"type": "set_fields", "set": {"phase": "x"}}),
     "automations[0].actions[1].set.phase", "unknown_field"),
    (lambda a: a["assignment_rules"][0].update(field="name"), "assignment_rules[0].field",
     "field_type"),
    (lambda a: a["assignment_rules"][0]["rules"][0]["pool"].update(role="sales"),
     "assignment_rules[0].rules[0].pool.role", "unknown_role"),
    (lambda a: a["sla_policies"][0].update(entity="ticket"), "sla_policies[0].entity",
     "unknown_entity"),
    (lambda a: a["sla_policies"][0].update(start="field_set"), "sla_policies[0].field",
     "required"),
    (lambda a: a["metrics"][0].update(entity="deal"), "metrics[0].entity", "unknown_entity"),
    (lambda a: a["metrics"][0].update(field="budget"), "metrics[0].field", "unknown_field"),
    (lambda a: a["metrics"][0].update(field="name"), "metrics[0].field", "field_kind"),
    (lambda a: a["metrics"][0].update(time_field="closing"), "metrics[0].time_field",
     "unknown_field"),
    (lambda a: a["metrics"].append({"key": "win_rate", "title": {"zh-CN": "赢率"},
                                    "aggregate": "ratio", "numerator": "won_amount",
                                    "denominator": "all_amount"}),
     "metrics[1].denominator", "unknown_metric"),
    (lambda a: a["dashboards"][0]["widgets"][0]["metrics"].append("lost_amount"),
     "dashboards[0].widgets[0].metrics[1]", "unknown_metric"),
    (lambda a: a["roles"][0]["permissions"][0].update(entity="invoice"),
     "roles[0].permissions[0].entity", "unknown_entity"),
    (lambda a: a["roles"][1]["permissions"][0]["fields"]["hidden"].append("margin"),
     "roles[1].permissions[0].fields.hidden[0]", "unknown_field"),
    (lambda a: a["entities"][1]["fields"][1].update(entity="company"),
     "entities[1].fields[1].entity", "unknown_entity"),
])
def test_references(mutate: Any, path: str, code: str) -> None:
    app = full_app()
    mutate(app)
    assert codes(app) == {path: code}


def test_stage_flow_on_a_non_select_reports_once() -> None:
    app = full_app()
    app["stage_flows"][0]["field"] = "name"
    assert codes(app) == {"stage_flows[0].field": "field_type"}


def test_builtin_admin_role_and_ratio_metrics() -> None:
    app = full_app()
    app["approval_chains"][0]["steps"][2]["approver"]["role"] = "admin"
    app["metrics"].append({"key": "deals", "title": {"zh-CN": "商机数"}, "entity": "opportunity",
                           "aggregate": "count"})
    app["metrics"].append({"key": "avg_deal", "title": {"zh-CN": "平均"}, "aggregate": "ratio",
                           "numerator": "won_amount", "denominator": "deals"})
    assert codes(app) == {}


@pytest.mark.parametrize(("where", "logic"), [
    ("entities[1].fields[9].required_when", {"==": [{"var": "budget"}, 1]}),
    ("entities[1].validations[0].rule", {">=": [{"var": "amount_usd"}, 0]}),
    ("entities[1].views[0].filter", {"!=": [{"var": "phase"}, "lost"]}),
    ("stage_flows[0].stages[1].entry", {"!!": {"var": "survey"}}),
    ("approval_chains[0].when", {"<": [{"var": "ratio"}, 0.85]}),
    ("approval_chains[0].steps[0].when", {"<": [{"var": "ratio"}, 0.85]}),
    ("automations[0].condition", {"==": [{"var": "phase"}, "won"]}),
    ("assignment_rules[0].rules[0].when", {"==": [{"var": "sector"}, "x"]}),
    ("sla_policies[0].stop", {"!!": {"var": "contacted"}}),
    ("metrics[0].filter", {"==": [{"var": "phase"}, "won"]}),
    ("roles[1].permissions[0].scope", {"==": [{"var": "phase"}, "won"]}),
    ("entities[2].fields[4].expression", {"*": [{"var": "discount"}, 2]}),
])
def test_logic_names_known_fields(where: str, logic: Any) -> None:
    app = full_app()
    _set(app, where, logic)
    paths = [p for p in codes(app)]
    assert paths and all(p.startswith(where) for p in paths), paths


def test_logic_unknown_operator() -> None:
    app = full_app()
    app["metrics"][0]["filter"] = {"like": [{"var": "name"}, "a%"]}
    paths = list(codes(app))
    assert paths and all(p.startswith("metrics[0].filter") for p in paths)


def test_logic_context_and_system_fields_are_known() -> None:
    app = full_app()
    app["approval_chains"][0]["when"] = {"and": [
        {"<": [{"var": "price_ratio"}, 0.85]}, {"!=": [{"var": "created_by"}, {"var": "$user.id"}]},
        {"<": [{"var": "updated_at"}, {"var": "$now"}]}]}
    app["entities"][0]["fields"][1]["default"] = {"logic": {"cat": ["客户", {"var": "id"}]}}
    assert codes(app) == {}


def test_field_default_logic_is_checked() -> None:
    app = full_app()
    app["entities"][0]["fields"][1]["default"] = {"logic": {"var": "nickname"}}
    paths = list(codes(app))
    assert paths and all(p.startswith("entities[0].fields[1].default.logic") for p in paths)


def test_linker_survives_garbage() -> None:
    assert link([]) == []
    assert link({"entities": "many"}) == []
    garbage = {"entities": [3, {"key": 5, "fields": ["x", {"type": 3}]}],
               "stage_flows": [{"entity": None, "stages": "all"}], "metrics": [None],
               "roles": [{"permissions": [{"entity": ["a"], "fields": []}]}]}
    assert link(garbage) == []
    _, problems = check_definition(garbage)
    assert problems


def test_basic_check_stands_in_for_the_rules_checker() -> None:
    known = {"name", "items"}
    assert basic_check({"==": [{"var": "name"}, "x"]}, "r", known) == []
    assert basic_check({"var": "$user.id"}, "r", known) == []
    assert basic_check({"some": [{"var": "items"}, {">": [{"var": "qty"}, 1]}]}, "r", known) == []
    assert [p.code for p in basic_check({"nope": [1]}, "r", known)] == ["logic_operator"]
    assert [p.code for p in basic_check({"a": 1, "b": 2}, "r", known)] == ["logic_shape"]
    assert [(p.path, p.code) for p in basic_check({"!": {"var": "age"}}, "r", known)] == [
        ("r.![0]", "logic_var")]
    assert basic_check({"var": "age"}, "r", None) == []
    assert [p.code for p in basic_check([object()], "r")] == ["logic_value"]


def _set(app: dict[str, Any], path: str, value: Any) -> None:
    """Set ``value`` at a path such as ``entities[1].fields[9].required_when``."""
    import re

    target: Any = app
    parts = re.findall(r"[a-z_]+|\[\d+\]", path)
    for part in parts[:-1]:
        target = target[int(part[1:-1])] if part.startswith("[") else target[part]
    target[parts[-1]] = value
