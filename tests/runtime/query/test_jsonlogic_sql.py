"""JsonLogic -> SQL: unit tests, and a differential test against the Python evaluator.

Runs on SQLite always and on PostgreSQL when ``TEST_DATABASE_URL`` is set (in a schema of its
own, dropped afterwards).
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from builder.runtime.query import ColumnRef, to_sql
from builder.runtime.rules import RuleError, evaluate, truthy

KINDS = {
    "id": "id",
    "n": "number",
    "qty": "number",
    "t": "text",
    "b": "boolean",
    "d": "date",
    "d2": "date",
    "dt": "datetime",
    "d_text": "date",
    "tags": "list",
}
CONTEXT = {"$user": {"id": 5, "regions": ["east", "华东"]}, "$now": "2026-01-01T08:00:00"}

NUMBERS = [None, 0, 0.0, -1, 1, 2.5, -3.75, 5, 100000, 99999.5, 1e6, 0.1, 0.2, 0.3]
TEXTS = [
    None,
    "",
    "east",
    "west",
    "华东",
    "华南",
    "a%b",
    "a_b",
    "A",
    "a",
    "abc",
    "100%",
    "0",
    "1",
    " ",
]
DATES = [None, "2025-12-31", "2026-01-01", "2026-01-02", "2024-02-29"]
DATETIMES = [
    None,
    "2025-12-31T23:59:59",
    "2026-01-01T00:00:00",
    "2026-01-01T08:00:00",
    "2026-01-01T08:30:00",
    "2026-06-01T12:00:00",
]
TAGS = [None, [], ["east"], ["east", "west"], ["华东"], ["west"], ["a%b"]]


def make_table(schema: str | None) -> sa.Table:
    return sa.Table(
        "jl_rows",
        sa.MetaData(schema=schema),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("n", sa.Float),
        sa.Column("qty", sa.Integer),
        sa.Column("t", sa.String(50)),
        sa.Column("b", sa.Boolean),
        sa.Column("d", sa.Date),
        sa.Column("d2", sa.Date),
        sa.Column("dt", sa.DateTime),
        sa.Column("d_text", sa.String(10)),
        sa.Column("tags", sa.Text),
    )


def make_rows(count: int = 80, seed: int = 20260101) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(1, count + 1):
        rows.append(
            {
                "id": i,
                "n": rng.choice(NUMBERS),
                "qty": rng.choice([None, 0, 1, -2, 5, 10]),
                "t": rng.choice(TEXTS),
                "b": rng.choice([None, True, False]),
                "d": rng.choice(DATES),
                "d2": rng.choice(DATES),
                "dt": rng.choice(DATETIMES),
                "d_text": rng.choice(DATES),
                "tags": rng.choice(TAGS),
            }
        )
    return rows


def stored(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "d": row["d"] and date.fromisoformat(row["d"]),
        "d2": row["d2"] and date.fromisoformat(row["d2"]),
        "dt": row["dt"] and datetime.fromisoformat(row["dt"]),
        "tags": None if row["tags"] is None else json.dumps(row["tags"], ensure_ascii=False),
    }


ROWS = make_rows()


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def db(request: pytest.FixtureRequest) -> Iterator[tuple[sa.Engine, sa.Table]]:
    if request.param == "sqlite":
        engine = sa.create_engine("sqlite://")
        schema = None
    else:
        url = os.environ.get("TEST_DATABASE_URL", "")
        if not url.startswith("postgresql"):
            pytest.skip("TEST_DATABASE_URL does not point at PostgreSQL")
        engine = sa.create_engine(url)
        schema = f"jl_test_{uuid.uuid4().hex[:12]}"
        with engine.begin() as conn:
            conn.execute(sa.schema.CreateSchema(schema))
    table = make_table(schema)
    try:
        table.metadata.create_all(engine)
        with engine.begin() as conn:
            conn.execute(table.insert(), [stored(row) for row in ROWS])
        yield engine, table
    finally:
        if schema:
            with engine.begin() as conn:
                conn.execute(sa.schema.DropSchema(schema, cascade=True))
        engine.dispose()


def resolver(table: sa.Table) -> Any:
    def resolve(key: str) -> ColumnRef | None:
        return ColumnRef(table.c[key], KINDS[key]) if key in KINDS else None

    return resolve


def sql_ids(db: tuple[sa.Engine, sa.Table], rule: Any, context: Any = CONTEXT) -> set[int]:
    engine, table = db
    condition = to_sql(rule, resolver(table), context)
    with engine.connect() as conn:
        return set(conn.execute(sa.select(table.c.id).where(condition)).scalars())


def python_ids(rule: Any, context: Any = CONTEXT) -> set[int]:
    return {row["id"] for row in ROWS if truthy(evaluate(rule, {**row, **context}))}


def agree(db: tuple[sa.Engine, sa.Table], rule: Any) -> None:
    assert sql_ids(db, rule) == python_ids(rule), json.dumps(rule, ensure_ascii=False)


# --- unit tests ----------------------------------------------------------------------------

UNIT_RULES = [
    {"<": [{"var": "n"}, 100000]},
    {">": [{"var": "n"}, 100000]},
    {"<": [{"var": "n"}, -1]},
    {">=": [{"var": "n"}, 0]},
    {"==": [{"var": "n"}, None]},
    {"==": [{"var": "n"}, 0]},
    {"!=": [{"var": "n"}, 0]},
    {"==": [{"var": "n"}, ""]},
    {"==": [{"var": "n"}, "2.5"]},
    {"===": [{"var": "n"}, "2.5"]},
    {"<": [0, {"var": "n"}, 10]},
    {"<=": [-1, {"var": "qty"}, 5]},
    {"<": [{"var": "n"}, {"var": "qty"}]},
    {"==": [{"var": "n"}, {"var": "qty"}]},
    {"==": [{"var": "t"}, "华东"]},
    {"!=": [{"var": "t"}, "华东"]},
    {"==": [{"var": "t"}, None]},
    {"!": {"var": "t"}},
    {"!!": {"var": "t"}},
    {"in": [{"var": "t"}, ["east", "华东", None]]},
    {"in": ["%", {"var": "t"}]},
    {"in": ["_", {"var": "t"}]},
    {"in": ["a", {"var": "t"}]},
    {"in": ["", {"var": "t"}]},
    {"in": [{"var": "t"}, "east west 100% a_b"]},
    {"in": [{"var": "t"}, "a null value"]},
    {"in": [{"var": "qty"}, [1, 5, "10", True]]},
    {"==": [{"var": "b"}, True]},
    {"==": [{"var": "b"}, False]},
    {"!=": [{"var": "b"}, True]},
    {"==": [{"var": "b"}, 0]},
    {"==": [{"var": "b"}, ""]},
    {"<": [{"var": "b"}, 1]},
    {"!": {"var": "b"}},
    {"<": [{"var": "d"}, "2026-01-01"]},
    {"<": [{"var": "d"}, {"var": "$now"}]},
    {">=": [{"var": "d"}, {"var": "$now"}]},
    {"<": [{"var": "dt"}, "2026-01-01"]},
    {">": [{"var": "dt"}, "2026-01-01"]},
    {"<=": [{"var": "dt"}, {"var": "$now"}]},
    {"<": [{"var": "dt"}, "2026-01-01T08:00:00.500Z"]},
    {"==": [{"var": "d"}, "2026-01-01"]},
    {"==": [{"var": "d"}, "2026-01-01T00:00:00"]},
    {"<": [{"var": "d_text"}, "2026-01-01"]},
    {"<": [{"var": "d"}, 5]},
    {"<=": [{"var": "d"}, {"var": "d2"}]},
    {"<": [{"var": "d"}, {"var": "d2"}]},
    {"==": [{"var": "d"}, {"var": "d2"}]},
    {"in": ["east", {"var": "tags"}]},
    {"in": ["华东", {"var": "tags"}]},
    {"!!": {"var": "tags"}},
    {"!": {"var": "tags"}},
    {"==": [{"var": "tags"}, None]},
    {"missing": ["t", "n"]},
    {"!": {"missing": ["t"]}},
    {"missing_some": [1, ["t", "n", "b"]]},
    {"missing_some": [2, ["t", "n", "$user.id"]]},
    {"==": [{"var": "qty"}, {"var": "$user.id"}]},
    {"in": [{"var": "t"}, {"var": "$user.regions"}]},
    {"<": [{"+": [{"var": "n"}, 1]}, 3]},
    {"!!": {"+": [{"var": "n"}, 1]}},
    {">": [{"-": [{"var": "n"}, 1]}, -1]},
    {"==": [{"*": [{"var": "n"}, 2]}, 5]},
    {"==": [{"*": [{"var": "n"}]}, None]},
    {">": [{"/": [{"var": "qty"}, 4]}, 1]},
    {"==": [{"+": [0.1, {"var": "n"}]}, 0.30000000000000004]},
    {"==": [{"<": [{"var": "n"}, 1]}, True]},
    {"if": [{"var": "b"}, {"<": [{"var": "n"}, 3]}, {"==": [{"var": "t"}, "east"]}]},
    {"if": [{"var": "b"}, "yes"]},
    {"and": [{"!!": {"var": "t"}}, {"or": [{"<": [{"var": "n"}, 1]}, {"!": {"var": "b"}}]}]},
    {"!": {"and": [{">": [{"var": "n"}, 0]}, {"==": [{"var": "b"}, True]}]}},
    True,
    {"==": [1, 1]},
    {"var": "n"},
]


@pytest.mark.parametrize("rule", UNIT_RULES, ids=[json.dumps(r)[:70] for r in UNIT_RULES])
def test_rule_matches_python(db: tuple[sa.Engine, sa.Table], rule: Any) -> None:
    agree(db, rule)


def test_null_budget_is_below_any_positive_bound(db: tuple[sa.Engine, sa.Table]) -> None:
    null_ids = {row["id"] for row in ROWS if row["n"] is None}
    assert null_ids and null_ids <= sql_ids(db, {"<": [{"var": "n"}, 100000]})
    assert not null_ids & sql_ids(db, {"<": [{"var": "n"}, -100]})


def test_values_are_bound_as_parameters() -> None:
    table = make_table(None)
    condition = to_sql({"==": [{"var": "t"}, "x' OR 1=1 --"]}, resolver(table))
    compiled = condition.compile()
    assert "OR 1=1" not in str(compiled)
    assert "x' OR 1=1 --" in compiled.params.values()


def test_context_value_is_a_parameter() -> None:
    table = make_table(None)
    condition = to_sql({"==": [{"var": "qty"}, {"var": "$user.id"}]}, resolver(table), CONTEXT)
    assert 5 in condition.compile().params.values()


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"and": [True, {"cat": [{"var": "t"}, "x"]}]}, "and[1].cat"),
        ({"or": [{"foo": [{"var": "t"}]}]}, "or[0].foo"),
        ({"==": [{"var": "nope"}, 1]}, "==[0].var"),
        ({"==": [{"var": "t"}, 1]}, "=="),
        ({"<": [{"var": "t"}, "b"]}, "<"),
        ({"<": [{"var": "d"}, "2026-13"]}, "<"),
        ({"==": [{"var": ["t", "x"]}, "x"]}, "==[0].var"),
        ({"/": [{"var": "n"}, 0]}, "/"),
        ({"/": [1, {"var": "n"}]}, "/"),
        ({"==": [{"and": [{"var": "b"}]}, True]}, "=="),
        ({"==": [{"var": "t"}, {"var": "n"}]}, "=="),
        ({"some": [{"var": "tags"}, True]}, "some"),
        ({"in": [{"var": "t"}, {"var": "tags"}]}, "in"),
        ({"<": [{"var": "d"}, {"var": "d_text"}]}, "<"),
        ({"==": [{"var": "t"}]}, "=="),
    ],
)
def test_refused_with_path(rule: Any, path: str) -> None:
    with pytest.raises(RuleError) as caught:
        to_sql(rule, resolver(make_table(None)), CONTEXT)
    assert caught.value.path == path


def test_unknown_operator_in_a_constant_part_is_refused() -> None:
    with pytest.raises(RuleError) as caught:
        to_sql({"and": [{"var": "b"}, {"nope": [1]}]}, resolver(make_table(None)))
    assert caught.value.path == "and[1]"


# --- differential test ---------------------------------------------------------------------


class RuleGenerator:
    """Random rules from the operator subset the designer emits."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def pick(self, options: list[Any]) -> Any:
        return self.rng.choice(options)

    def rule(self, depth: int = 0) -> Any:
        if depth < 2 and self.rng.random() < 0.35:
            op = self.pick(["and", "or", "!", "!!", "if"])
            if op in ("!", "!!"):
                return {op: self.rule(depth + 1)}
            if op == "if":
                return {"if": [self.rule(depth + 1) for _ in range(self.pick([2, 3, 5]))]}
            return {op: [self.rule(depth + 1) for _ in range(self.pick([1, 2, 3]))]}
        return self.leaf()

    def leaf(self) -> Any:
        return self.pick(
            [
                self.number,
                self.text,
                self.boolean,
                self.temporal,
                self.tags,
                self.truthiness,
                self.missing,
                self.arithmetic,
            ]
        )()

    def number(self) -> Any:
        field = {"var": self.pick(["n", "qty"])}
        value = self.pick(
            [
                None,
                0,
                1,
                -1,
                2.5,
                5,
                100000,
                0.3,
                "5",
                "",
                "abc",
                True,
                False,
                {"var": "$user.id"},
                {"var": "qty"},
            ]
        )
        form = self.rng.random()
        if form < 0.15:
            return {self.pick(["<", "<="]): [self.pick([-1, 0, 1]), field, self.pick([5, 10, 1e6])]}
        op = self.pick(["==", "!=", "===", "!==", "<", "<=", ">", ">="])
        if form < 0.25:
            return {"in": [field, [self.pick(NUMBERS) for _ in range(3)]]}
        pair = [field, value] if self.rng.random() < 0.7 else [value, field]
        return {op: pair}

    def text(self) -> Any:
        field = {"var": "t"}
        form = self.rng.random()
        if form < 0.2:
            return {"in": [self.pick([*TEXTS[1:], "%", "_", "东"]), field]}
        if form < 0.35:
            return {
                "in": [field, self.pick(["east west", "华东华南", "a%b_c", "null", "", "100%"])]
            }
        if form < 0.5:
            return {"in": [field, [self.pick(TEXTS) for _ in range(3)]]}
        op = self.pick(["==", "!=", "===", "!=="])
        return {op: [field, self.pick([*TEXTS, [], ["east"]])]}

    def boolean(self) -> Any:
        op = self.pick(["==", "!=", "===", "!==", "<", ">", "<=", ">="])
        return {op: [{"var": "b"}, self.pick([True, False, None, 0, 1, "1", "", "0"])]}

    def temporal(self) -> Any:
        field = self.pick(["d", "dt", "d_text"])
        value = self.pick(
            [
                "2026-01-01",
                "2025-12-31",
                "2026-01-01T00:00:00",
                "2026-01-01T08:30:00",
                "2026-01-01T08:00:00.250Z",
                {"var": "$now"},
                None,
                0,
                5,
            ]
        )
        if field == "dt" and self.rng.random() < 0.2:
            return {self.pick(["<", ">="]): [{"var": "dt"}, {"var": "$now"}]}
        op = self.pick(["==", "!=", "<", "<=", ">", ">="])
        if field != "dt" and self.rng.random() < 0.1:
            return {op: [{"var": "d"}, {"var": "d2"}]}
        return {op: [{"var": field}, value]}

    def tags(self) -> Any:
        form = self.rng.random()
        if form < 0.6:
            return {
                "in": [
                    self.pick(["east", "west", "华东", "a%b", "x", {"var": "$user.id"}]),
                    {"var": "tags"},
                ]
            }
        return {self.pick(["!", "!!"]): {"var": "tags"}}

    def truthiness(self) -> Any:
        return {self.pick(["!", "!!"]): {"var": self.pick(["n", "qty", "t", "b", "d", "dt"])}}

    def missing(self) -> Any:
        fields = self.rng.sample(["n", "t", "b", "d", "tags", "$user.id", "$user.name"], 3)
        if self.rng.random() < 0.5:
            return {"missing": fields}
        return {"missing_some": [self.pick([0, 1, 2, 3]), fields]}

    def arithmetic(self) -> Any:
        field = {"var": self.pick(["n", "qty"])}
        expr = self.pick(
            [
                {"+": [field, self.pick([1, -2.5, "3"])]},
                {"-": [field, self.pick([1, 0.5])]},
                {"-": [field]},
                {"*": [field, self.pick([2, -1, 0.5])]},
                {"/": [field, self.pick([2, 4, -0.5])]},
                {"+": [field, {"var": "qty"}]},
            ]
        )
        op = self.pick(["==", "!=", "<", "<=", ">", ">="])
        return {op: [expr, self.pick([0, 1, 3, -1, 100000])]}


RULE_COUNT = 400


def test_differential(db: tuple[sa.Engine, sa.Table]) -> None:
    generator = RuleGenerator(seed=7)
    mismatches = []
    for _ in range(RULE_COUNT):
        rule = generator.rule()
        expected = python_ids(rule)
        got = sql_ids(db, rule)
        if got != expected:
            mismatches.append((json.dumps(rule, ensure_ascii=False), sorted(got ^ expected)))
    assert not mismatches, "\n".join(f"{rule}: rows {rows}" for rule, rows in mismatches[:20])
