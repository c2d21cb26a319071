"""Every condition the designer's condition builder writes (``tests/fixtures/
condition_builder_cases.json``, checked on the frontend side by vitest) filters records
through the records API exactly as the rule evaluator decides, on both databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from builder.runtime.rules import evaluate, truthy
from tests.definitions import entity, minimal_app
from tests.runtime.records.helpers import create, publish

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "condition_builder_cases.json")
                     .read_text(encoding="utf-8"))


@pytest.fixture
def stored(client: Any, admin: Any, admin_headers: dict[str, str], make_user: Any,
           tenant: Any) -> dict[str, Any]:
    other = make_user(tenant, "other")
    publish(client, admin_headers, minimal_app(entity("deal", "交易", "Deal", FIXTURE["fields"])))
    rows = [
        {"name": "华东制造", "level": "a", "tags": ["x"], "budget": 500, "signed_on": "2025-06-01",
         "active": True, "manager": admin.id},
        {"name": "华南零售", "level": "b", "tags": ["y"], "budget": 0, "signed_on": "2026-02-01",
         "active": False, "manager": other.id},
        {},
        {"name": "北方制造", "level": "a", "tags": ["x", "y"], "budget": 50,
         "signed_on": "2026-01-01", "active": True},
    ]
    records = [create(client, admin_headers, "deal", data, app="demo") for data in rows]
    return {"records": records, "user": {"id": admin.id}}


def test_builder_conditions_filter_like_the_evaluator(client: Any, admin_headers: dict[str, str],
                                                     stored: dict[str, Any]) -> None:
    records = stored["records"]
    failures = []
    for case in FIXTURE["cases"]:
        expected = {r["id"] for r in records
                    if truthy(evaluate(case["logic"], {**r, "$user": stored["user"]}))}
        assert 0 < len(expected) < len(records), f"{case['name']}: select some records, not all"
        response = client.get("/api/apps/demo/deal/records", headers=admin_headers,
                              query_string={"filter": json.dumps(case["logic"])})
        got = ({r["id"] for r in response.get_json()["items"]}
               if response.status_code == 200 else response.get_json())
        if got != expected:
            failures.append(f"{case['name']}: expected {sorted(expected)}, got {got}")
    assert len(FIXTURE["cases"]) >= 25
    assert not failures, "\n".join(failures)
