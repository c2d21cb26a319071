"""The marshmallow schemas of the app definition: shapes, defaults, keys, language maps."""

from __future__ import annotations

import json
from typing import Any

import pytest

from builder.errors import ValidationFailed
from builder.i18n import use_language
from builder.schema import check_definition, validate_definition
from builder.schema.common import Message, problems_from_errors
from tests.definitions import entity, field, full_app, minimal_app, title


def problems_of(data: Any) -> dict[str, str]:
    """path → code of every problem of ``data``."""
    _, problems = check_definition(data)
    return {p.path: p.code for p in problems}


def test_full_app_is_valid_and_json() -> None:
    result = validate_definition(full_app())
    assert json.loads(json.dumps(result)) == result
    assert [e["key"] for e in result["entities"]] == [
        "customer", "opportunity", "quote", "quote_line"]


def test_full_app_uses_every_builtin_type() -> None:
    from builder.schema.field_types import field_type_registry

    used = {f["type"] for e in full_app()["entities"] for f in e["fields"]}
    builtin = {"text", "long_text", "number", "money", "percent", "date", "datetime", "boolean",
               "select", "multi_select", "user", "relation", "subtable", "attachment", "image",
               "email", "phone", "url", "autonumber", "formula"}
    assert builtin <= used
    assert builtin <= set(field_type_registry.types())


def test_normalization_fills_defaults_and_is_stable() -> None:
    result = validate_definition(full_app())
    name = result["entities"][0]["fields"][1]
    assert name["required"] is True and name["index"] is False
    assert result["entities"][0]["validations"] == []
    chain = result["approval_chains"][0]
    assert chain["allow_self_approval"] is False and chain["steps"][0]["mode"] == "any"
    assert result["automations"][0]["enabled"] is True
    assert validate_definition(result) == result


def test_minimal_app_gets_empty_collections() -> None:
    result = validate_definition({"format": 1, "key": "a", "title": {"zh-CN": "应用"}})
    assert result["version"] == "1.0.0"
    for name in ("entities", "stage_flows", "approval_chains", "automations",
                 "assignment_rules", "sla_policies", "metrics", "dashboards", "roles"):
        assert result[name] == []


def test_numbers_keep_their_json_type() -> None:
    result = validate_definition(full_app())
    stage = result["stage_flows"][0]["stages"][0]
    assert stage["probability"] == 10 and isinstance(stage["probability"], int)


@pytest.mark.parametrize("key", ["Bad Key", "1abc", "客户", "", "a" * 64, "a-b", "_a"])
def test_invalid_keys(key: str) -> None:
    app = minimal_app(entity(key, "坏", fields=[field("name", "text", "名称")]))
    assert problems_of(app)["entities[0].key"] == "invalid_key"


def test_longest_key_is_fine() -> None:
    app = minimal_app(entity("a" * 63, "长", fields=[field("name", "text", "名称")]))
    validate_definition(app)


@pytest.mark.parametrize("key", ["id", "created_at", "created_by", "updated_at", "updated_by",
                                 "owner", "version", "deleted", "parent_id"])
def test_system_field_keys_are_reserved(key: str) -> None:
    app = minimal_app(entity("item", "条目", fields=[field(key, "text", "x")]))
    assert problems_of(app) == {"entities[0].fields[0].key": "reserved_key"}


@pytest.mark.parametrize(("value", "code"), [
    ({"en": "Item"}, "language_required"),
    ({"zh-CN": "条目", "fr": "Objet"}, "language_unknown"),
    ({"zh-CN": ""}, "language_empty"),
    ({"zh-CN": "  "}, "language_empty"),
    ({"zh-CN": 3}, "language_empty"),
    ("条目", "language_map"),
])
def test_language_maps(value: Any, code: str) -> None:
    app = minimal_app()
    app["entities"][0]["title"] = value
    assert problems_of(app) == {"entities[0].title": code}


def test_language_map_keeps_both_languages() -> None:
    result = validate_definition(minimal_app())
    assert result["title"] == {"zh-CN": "演示", "en": "Demo"}


def test_non_object_input() -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_definition([])
    assert [p.path for p in caught.value.details] == ["$"]


def test_required_properties() -> None:
    assert problems_of({}) == {"format": "required", "key": "required", "title": "required"}


def test_format_and_version() -> None:
    app = minimal_app(format=2, version="v1")
    assert problems_of(app) == {"format": "one_of", "version": "version"}


@pytest.mark.parametrize("where", ["app", "entity", "field", "option", "stage", "transition",
                                   "step", "role", "widget"])
def test_unknown_properties_are_errors(where: str) -> None:
    app = full_app()
    targets = {
        "app": (app, ""),
        "entity": (app["entities"][0], "entities[0]."),
        "field": (app["entities"][0]["fields"][1], "entities[0].fields[1]."),
        "option": (app["entities"][0]["fields"][2]["options"][0],
                   "entities[0].fields[2].options[0]."),
        "stage": (app["stage_flows"][0]["stages"][0], "stage_flows[0].stages[0]."),
        "transition": (app["stage_flows"][0]["transitions"][0],
                       "stage_flows[0].transitions[0]."),
        "step": (app["approval_chains"][0]["steps"][0], "approval_chains[0].steps[0]."),
        "role": (app["roles"][0], "roles[0]."),
        "widget": (app["dashboards"][0]["widgets"][0], "dashboards[0].widgets[0]."),
    }
    target, prefix = targets[where]
    target["colour"] = "red"
    assert problems_of(app) == {f"{prefix}colour": "unknown_property"}


def test_free_form_parameters_are_kept() -> None:
    app = full_app()
    app["dashboards"][0]["widgets"][0]["options"] = {"stack": True, "colors": ["#f00"]}
    app["automations"][0]["trigger"]["debounce_seconds"] = 30
    app["automations"][0]["actions"][0]["channel"] = "wecom"
    result = validate_definition(app)
    assert result["dashboards"][0]["widgets"][0]["options"]["colors"] == ["#f00"]
    assert result["automations"][0]["trigger"]["debounce_seconds"] == 30
    assert result["automations"][0]["actions"][0]["channel"] == "wecom"


def test_type_properties_belong_to_their_type() -> None:
    app = minimal_app(entity("item", "条目", fields=[
        field("name", "text", "名称", options=[{"key": "a", "title": title("甲")}]),
        field("count", "number", "数量", currency="CNY"),
        field("price", "money", "价格", currency="USD", precision=2)]))
    assert problems_of(app) == {"entities[0].fields[0].options": "property_not_for_type",
                                "entities[0].fields[1].currency": "property_not_for_type"}


@pytest.mark.parametrize(("props", "path", "code"), [
    ({"required": "yes"}, "required", "not_boolean"),
    ({"min_length": -1}, "min_length", "at_least"),
    ({"min": "yesterday"}, "min", "bound"),
    ({"pattern": "(unclosed"}, "pattern", "pattern"),
    ({"default": {"value": 1}}, "default", "default"),
    ({"help": {"zh-CN": "说明"}, "default": {"logic": {"var": "name"}}}, None, None),
])
def test_common_field_properties(props: dict[str, Any], path: str | None,
                                 code: str | None) -> None:
    app = minimal_app(entity("item", "条目", fields=[
        field("name", "text", "名称"), field("other", "text", "其他", **props)]))
    expected = {f"entities[0].fields[1].{path}": code} if path else {}
    assert problems_of(app) == expected


@pytest.mark.parametrize(("mutate", "path", "code"), [
    (lambda a: a["entities"][1]["views"][0].update(type="table"),
     "entities[1].views[0].type", "one_of"),
    (lambda a: a["stage_flows"][0]["stages"][0].update(probability=120),
     "stage_flows[0].stages[0].probability", "between"),
    (lambda a: a["approval_chains"][0]["steps"][1]["approver"].pop("role"),
     "approval_chains[0].steps[1].approver.role", "required"),
    (lambda a: a["approval_chains"][0].update(on_reject="nobody"),
     "approval_chains[0].on_reject", "one_of"),
    (lambda a: a["automations"][0]["trigger"].update(type="sometimes"),
     "automations[0].trigger.type", "one_of"),
    (lambda a: a["metrics"][0].pop("field"), "metrics[0].field", "required"),
    (lambda a: a["metrics"][0].update(aggregate="ratio"), "metrics[0].numerator", "required"),
    (lambda a: a["sla_policies"][0]["working_hours"].update(start="9am"),
     "sla_policies[0].working_hours.start", "time_of_day"),
    (lambda a: a["assignment_rules"][0]["rules"][0].update(pool={}),
     "assignment_rules[0].rules[0].pool", "pool_required"),
    (lambda a: a["roles"][0]["permissions"][0].update(actions=["fly"]),
     "roles[0].permissions[0].actions[0]", "one_of"),
    (lambda a: a["entities"][0]["forms"][0]["sections"][0].update(columns=5),
     "entities[0].forms[0].sections[0].columns", "between"),
    (lambda a: a["dashboards"][0]["widgets"][0].update(layout={"x": 0, "y": 0, "w": 0, "h": 1}),
     "dashboards[0].widgets[0].layout.w", "at_least"),
    (lambda a: a.update(entities={}), "entities", "not_list"),
    (lambda a: a["entities"].append("customer"), "entities[4]", "not_object"),
])
def test_shapes_of_parts(mutate: Any, path: str, code: str) -> None:
    app = full_app()
    mutate(app)
    assert problems_of(app).get(path) == code


def test_messages_follow_the_language() -> None:
    app = minimal_app(entity("Bad", "坏"))
    with use_language("en"):
        _, problems = check_definition(app)
        assert "Invalid key" in problems[0].message
    with use_language("zh-CN"):
        _, problems = check_definition(app)
        assert "标识「Bad」无效" in problems[0].message


def test_problems_from_errors_paths() -> None:
    errors = {"entities": {1: {"fields": {3: {"entity": [Message("schema.error.required")]}}}},
              "_schema": ["Unknown field."], "key": ["something odd"]}
    problems = problems_from_errors(errors)
    assert [(p.path, p.code) for p in problems] == [
        ("entities[1].fields[3].entity", "required"), ("$", "unknown_property"),
        ("key", "invalid")]
