"""Static checks of rules: unknown operators, arity, fields, JSON values, depth."""

from __future__ import annotations

from typing import Any

from builder.i18n import use_language
from builder.runtime.rules import check_logic
from builder.runtime.rules.check import MAX_DEPTH

FIELDS = ["status", "budget", "region", "customer"]
BASE = "entities[0].fields[2].required_when"


def problems(logic: Any, known: list[str] | None = FIELDS) -> list[tuple[str, str]]:
    return [(p.path, p.code) for p in check_logic(logic, BASE, known)]


def test_valid_rules_have_no_problems() -> None:
    rules = [
        {"==": [{"var": "status"}, "following"]},
        {"and": [{"<": [{"var": "budget"}, 100000]}, {"!!": {"var": "region"}}]},
        {"<=": [0, {"var": "budget"}, 10]},
        {"==": [{"var": "customer.name"}, "x"]},
        {"==": [{"var": "$user.id"}, 1]},
        {"!": {"missing": ["status", "budget"]}},
        {"missing_some": [1, ["status", "region"]]},
        {"some": [{"var": "region"}, {"==": [{"var": "code"}, "x"]}]},
        {"reduce": [[1, 2], {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]},
        {"if": [True, 1, 2]},
        True,
        None,
    ]
    for rule in rules:
        assert problems(rule) == [], rule


def test_paths_extend_the_given_path() -> None:
    rule = {"and": [{"==": [{"var": "status"}, 1]}, {"foo": [1]}]}
    assert problems(rule) == [(f"{BASE}.and[1].foo", "unknown_operator")]


def test_unknown_field() -> None:
    rule = {"and": [{"==": [{"var": "nope"}, 1]}, {"missing": ["status", "gone"]}]}
    assert problems(rule) == [
        (f"{BASE}.and[0].==[0].var", "unknown_field"),
        (f"{BASE}.and[1].missing[1]", "unknown_field"),
    ]
    assert problems({"var": ["nope", 1]}) == [(f"{BASE}.var[0]", "unknown_field")]
    assert problems({"missing_some": [1, ["x"]]}) == [
        (f"{BASE}.missing_some[1][0]", "unknown_field")
    ]


def test_var_check_skipped_without_known_fields() -> None:
    assert problems({"==": [{"var": "anything"}, 1]}, known=None) == []


def test_arity() -> None:
    assert problems({"==": [1]}) == [(f"{BASE}.==", "arity")]
    assert problems({"<": [1, 2, 3, 4]}) == [(f"{BASE}.<", "arity")]
    assert problems({">": [1, 2, 3]}) == [(f"{BASE}.>", "arity")]
    assert problems({"!": [1, 2]}) == [(f"{BASE}.!", "arity")]
    assert problems({"+": [1, 2, 3, 4]}) == []


def test_non_json_values() -> None:
    assert problems({"==": [float("nan"), 1]}) == [(f"{BASE}.==[0]", "not_json")]
    assert problems({"in": [1, {1, 2}]}) == [(f"{BASE}.in[1]", "not_json")]
    assert problems({"a": 1, "b": 2}) == [(BASE, "invalid_object")]


def test_depth() -> None:
    rule: Any = {"var": "status"}
    for _ in range(MAX_DEPTH):
        rule = {"!": rule}
    found = problems(rule)
    assert [code for _, code in found] == ["too_deep"]
    shallow: Any = {"var": "status"}
    for _ in range(MAX_DEPTH - 1):
        shallow = {"!": shallow}
    assert problems(shallow) == []


def test_messages_are_translated() -> None:
    with use_language("en"):
        (en,) = check_logic({"foo": 1}, "", None)
    with use_language("zh-CN"):
        (zh,) = check_logic({"foo": 1}, "", None)
    assert en.path == "foo" and "foo" in en.message and "Unknown" in en.message
    assert zh.message != en.message and "foo" in zh.message
