"""Generated app definitions against the validator and linker.

Valid definitions (the test app and the store-sales market app) mutated at random places
(wrong types, unknown field types, deleted keys, huge texts, deep nesting, sub-tables that
point at themselves or at each other) and arbitrary JSON: ``check_definition`` answers with
a list of problems, each with a path and a message, and never raises; over HTTP the import
answers 201 or a 422 with that list, never a server error, and a refused import stores no app.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from builder.errors import Problem, ValidationFailed
from builder.schema.validate import check_definition, validate_definition
from tests.definitions import entity, field, full_app, minimal_app
from tests.trust.figures import record

EXAMPLES = int(os.environ.get("TRUST_EXAMPLES", "4")) * 25
SEED = 20261122
STORE = json.loads((Path(__file__).resolve().parents[2] / "templates_market" / "store_sales"
                    / "app.json").read_text(encoding="utf-8"))
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
              st.sampled_from(["subtable", "text", "nope", "' OR 1=1 --", "<script>", "{{7*7}}",
                               "x" * 5000, "customer", "quote_line", "$user", "../../etc"])),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=10)
FIGURES = {"tried": 0}


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": [value]}
    return value


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if len(prefix) > 12:
        return found
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(definition: dict[str, Any], path: tuple[Any, ...], action: str, value: Any) -> Any:
    if not path:
        return value
    parent: Any = definition
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "wrap":
        parent[last] = [parent[last], parent[last]]
    elif action == "deep":
        parent[last] = _deep(200)
    elif action == "huge":
        parent[last] = "长" * 20_000
    else:
        parent[last] = value
    return definition


@st.composite
def definitions(draw: Any) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    definition = copy.deepcopy(draw(st.sampled_from([full_app(), STORE])))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(definition)))
        action = draw(st.sampled_from(["replace", "replace", "delete", "wrap", "deep", "huge"]))
        definition = _mutate(definition, path, action, draw(JSON))
        if not isinstance(definition, dict):
            break
    return definition


def _assert_clean(data: Any) -> None:
    FIGURES["tried"] += 1
    loaded, problems = check_definition(data)
    assert all(isinstance(p, Problem) and isinstance(p.path, str) and p.message
               for p in problems)
    assert loaded is not None or problems
    try:
        validate_definition(data)
    except ValidationFailed as error:
        assert error.details


ADVERSARIAL: list[Any] = [
    None, [], "app", 5, {}, _deep(5000), {"key": "x" * 1_000_000},
    # a sub-table whose rows are its own entity, and two that hold each other
    minimal_app(entity("a", "甲", fields=[field("rows", "subtable", "行", entity="a")])),
    minimal_app(entity("a", "甲", fields=[field("bs", "subtable", "乙", entity="b")]),
                entity("b", "乙", fields=[field("as", "subtable", "甲", entity="a")])),
    minimal_app(entity("a", "甲", fields=[field("x", "no_such_type", "X")])),
    minimal_app(entity("a", "甲", fields=[field("x", "text", "X")] * 3)),
    minimal_app(*[entity(f"e{i}", f"实体{i}", fields=[field(f"f{j}", "text", f"字段{j}")
                                                    for j in range(200)]) for i in range(50)]),
    minimal_app(entity("a", "甲", fields=[{"key": {"nested": 1}, "type": ["text"],
                                            "title": 5}])),
]


def test_adversarial_definitions_answer_with_problems() -> None:
    for data in ADVERSARIAL:
        _assert_clean(data)


@settings(max_examples=EXAMPLES, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@seed(SEED)
@given(data=definitions())
def test_generated_definitions_answer_with_problems(data: Any) -> None:
    _assert_clean(data)


def test_refused_imports_store_nothing(client: Any, admin_headers: Any) -> None:
    deep = '{"definition": ' + '{"a": [' * 100_000 + '"x"' + ']}' * 100_000 + "}"
    bodies = [json.dumps({"definition": data})
              for data in [*ADVERSARIAL[:5], *ADVERSARIAL[6:8], ADVERSARIAL[9]]]
    for body in [deep, *bodies]:
        response = client.post("/api/apps", data=body, content_type="application/json",
                               headers=admin_headers)
        assert response.status_code in (400, 409, 413, 422), (response.status_code, body[:80])
        assert response.get_json()["error"]["message"]
    assert client.get("/api/apps", headers=admin_headers).get_json() == []
    record("definitions", examples_tried=FIGURES["tried"] + 8, server_errors=0)
