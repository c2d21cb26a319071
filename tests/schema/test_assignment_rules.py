"""The ``assignment_rules`` part of the definition: shape, defaults and references."""

from __future__ import annotations

from typing import Any

import pytest

from builder.runtime.automation.assignment_strategies import strategy_registry
from builder.schema import check_definition, validate_definition
from builder.schema.processes import STRATEGIES
from tests.runtime.automation.assignment_helpers import lead_app


def codes(data: Any) -> dict[str, str]:
    _, problems = check_definition(data)
    return {p.path: p.code for p in problems}


FULL_RULE = {
    "key": "inbound", "field": "sales_rep", "priority_field": "score",
    "open": {"!=": [{"var": "status"}, "closed"]},
    "managers": {"role": "sales_manager"},
    "claim": {"pool": {"team": "sales"}, "max_open": 30,
              "when": {"<": [{"var": "score"}, 60]}},
    "rules": [
        {"key": "a_class", "when": {">=": [{"var": "score"}, 85]}, "strategy": "least_open",
         "pool": {"team": "key_accounts", "role": "sales"}, "available_only": True,
         "max_open": 20},
        {"key": "named", "strategy": "field", "source": "sales_rep"},
        {"key": "by_region", "strategy": "field", "source": "region",
         "map": {"east": {"users": ["zhang.san", 7]}, "north": {"team": "north"}}},
        {"pool": {"users": [3]}, "strategy": "available_only"}]}


def test_a_full_rule_is_valid_and_gets_defaults() -> None:
    loaded = validate_definition(lead_app(FULL_RULE, {"key": "minimal", "claim": {}}))
    full, minimal = loaded["assignment_rules"]
    assert full["on_create"] is True and full["rules"][3]["available_only"] is False
    assert full["rules"][1]["strategy"] == "field"
    assert minimal["field"] == "owner" and minimal["rules"] == []
    assert minimal["on_create"] is True and minimal["claim"] == {}


def test_every_strategy_of_the_format_has_a_class() -> None:
    assert strategy_registry.types() == sorted(STRATEGIES)


@pytest.mark.parametrize(("change", "path", "code"), [
    ({"field": "name"}, "assignment_rules[0].field", "field_type"),
    ({"field": "nope"}, "assignment_rules[0].field", "unknown_field"),
    ({"priority_field": "sales_rep_x"}, "assignment_rules[0].priority_field", "unknown_field"),
    ({"open": {"==": [{"var": "stage"}, 1]}}, "assignment_rules[0].open.==[0].var",
     "unknown_field"),
    ({"managers": {"role": "boss"}}, "assignment_rules[0].managers.role", "unknown_role"),
    ({"managers": {}}, "assignment_rules[0].managers", "pool_required"),
    ({"claim": {"max_open": 0}}, "assignment_rules[0].claim.max_open", "at_least"),
    ({"claim": {"when": {"==": [{"var": "x"}, 1]}}}, "assignment_rules[0].claim.when.==[0].var",
     "unknown_field"),
    ({"claim": {"pool": {"role": "boss"}}}, "assignment_rules[0].claim.pool.role",
     "unknown_role"),
    ({"rules": [{"strategy": "round_robin"}]}, "assignment_rules[0].rules[0].pool",
     "required"),
    ({"rules": [{"strategy": "coin_flip", "pool": {"users": [1]}}]},
     "assignment_rules[0].rules[0].strategy", "one_of"),
    ({"rules": [{"strategy": "field"}]}, "assignment_rules[0].rules[0].source", "required"),
    ({"rules": [{"strategy": "field", "source": "region"}]},
     "assignment_rules[0].rules[0].source", "field_type"),
    ({"rules": [{"strategy": "field", "source": "region", "map": {"west": {"users": [1]}}}]},
     "assignment_rules[0].rules[0].map.west", "unknown_option"),
    ({"rules": [{"strategy": "field", "source": "region", "map": {"east": {}}}]},
     "assignment_rules[0].rules[0].map.east.value", "pool_required"),
    ({"rules": [{"pool": {"users": [True]}}]}, "assignment_rules[0].rules[0].pool.users[0]",
     "user_ref"),
    ({"rules": [{"pool": {"users": [1]}, "max_open": 0}]},
     "assignment_rules[0].rules[0].max_open", "at_least"),
    ({"rules": [{"key": "a", "pool": {"users": [1]}}, {"key": "a", "pool": {"users": [2]}}]},
     "assignment_rules[0].rules[1].key", "duplicate_key"),
])
def test_problems_name_the_place(change: dict[str, Any], path: str, code: str) -> None:
    rule = {"key": "inbound", "rules": [{"pool": {"team": "sales"}}], **change}
    found = codes(lead_app(rule))
    assert found.get(path) == code, found
