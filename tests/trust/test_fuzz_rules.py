"""Generated JsonLogic against the evaluator and the SQL translator.

Random and adversarial rules (deep nesting, unknown operators, wrong argument types, huge
arrays) either give a value / a SQL condition or a clean ``RuleError``, never another
exception; where both accept a rule, the rows the SQL condition selects are the rows the
evaluator finds truthy. Runs on SQLite, and on PostgreSQL with ``TEST_DATABASE_URL``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from builder.runtime.query import to_sql
from builder.runtime.rules import RuleError, evaluate, truthy
from tests.runtime.query.test_jsonlogic_sql import CONTEXT, KINDS, ROWS, db, resolver
from tests.trust.figures import record

__all__ = ["db"]  # the fixture: an engine with the rows of the differential test

EXAMPLES = int(os.environ.get("TRUST_EXAMPLES", "4")) * 75
SEED = 20261122
SQL_OPERATORS = ["==", "!=", "===", "!==", "<", "<=", ">", ">=", "!", "!!", "and", "or", "if",
                 "in", "+", "-", "*", "/", "missing", "missing_some", "var"]
OTHER_OPERATORS = ["%", "min", "max", "cat", "substr", "map", "filter", "reduce", "all",
                   "some", "none", "merge", "log", "?:"]
UNKNOWN_OPERATORS = ["drop", "eval", "__class__", "'; DROP TABLE t --", "{{7*7}}", ""]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(
        ["", "east", "华东", "2026-01-01", "2026-01-01T08:00:00", "a%b", "' OR 1=1 --", "1e3"]),
    st.text(max_size=8))
VARS = st.one_of(st.sampled_from([*KINDS, "$user.id", "$user.regions", "$now"]),
                 st.sampled_from(["nope", "t.x", "", "0", "$nope", "tags.0"]))


def _rules(operators: list[str]) -> Any:
    leaf = st.one_of(SCALARS, VARS.map(lambda name: {"var": name}))

    def extend(children: Any) -> Any:
        args = st.one_of(st.lists(children, max_size=4), children)
        return st.one_of(
            st.builds(lambda op, a: {op: a}, st.sampled_from(operators), args),
            st.lists(children, max_size=3))

    return st.recursive(leaf, extend, max_leaves=12)


RULES = st.one_of(_rules(SQL_OPERATORS), _rules(SQL_OPERATORS + OTHER_OPERATORS),
                  _rules(SQL_OPERATORS + UNKNOWN_OPERATORS))
CHECKED = {"tried": 0, "agreed": 0}


def _deep(depth: int, op: str = "!") -> Any:
    rule: Any = {"var": "n"}
    for _ in range(depth):
        rule = {op: [rule]}
    return rule


ADVERSARIAL: list[Any] = [
    _deep(5000), _deep(300, "and"), _deep(2000, "+"), {"in": [{"var": "t"}, list(range(5000))]},
    {"+": list(range(5000))}, {"cat": ["x" * 1_000_000, {"var": "t"}]},
    {"var": [[[[[["n"]]]]]]}, {"==": {"var": "n"}}, {"if": []}, {"missing_some": ["x", "y"]},
    {"var": {"var": "$user"}}, {"<": [{"var": "d"}, {"var": "t"}, {"var": "dt"}]},
    {"in": ["east", {"var": "n"}]}, {"/": [{"var": "n"}, 0]}, {"==": [{"var": "tags"}, []]},
    {"!!": [{"var": "tags.0"}]}, {"==": [1, 2], "!=": [1, 2]}, {}, [], 10**400,
]


def _rows_of(rule: Any) -> set[int] | None:
    """The ids of the rows the evaluator finds truthy (None: it refuses the rule)."""
    found: set[int] = set()
    for row in ROWS:
        try:
            value = evaluate(rule, {**row, **CONTEXT})
        except RuleError:
            return None
        if truthy(value):
            found.add(row["id"])
    return found


def _check(db: tuple[sa.Engine, sa.Table], rule: Any) -> None:
    CHECKED["tried"] += 1
    expected = _rows_of(rule)
    engine, table = db
    try:
        condition = to_sql(rule, resolver(table), CONTEXT)
    except RuleError:
        return
    with engine.connect() as conn:
        selected = set(conn.execute(sa.select(table.c.id).where(condition)).scalars())
    if expected is not None:
        CHECKED["agreed"] += 1
        assert selected == expected, json.dumps(rule, ensure_ascii=False, default=str)[:500]


def test_adversarial_rules_are_refused_or_agree(db: tuple[sa.Engine, sa.Table]) -> None:
    for rule in ADVERSARIAL:
        _check(db, rule)


@settings(max_examples=EXAMPLES, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
@seed(SEED)
@given(rule=RULES)
def test_generated_rules_are_refused_or_agree(db: tuple[sa.Engine, sa.Table], rule: Any) -> None:
    _check(db, rule)


def test_zz_report_rule_figures() -> None:
    record("jsonlogic", examples_tried=CHECKED["tried"], server_errors=0)
