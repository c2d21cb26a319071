"""List queries: keyset pages walk every record exactly once, in order, whatever the sort,
with NULLs last; filters, search, field subsets and totals."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.definitions import full_app
from tests.runtime.records.helpers import create, publish, records_url

ROWS = 37


@pytest.fixture
def seeded(client: Any, admin_headers: Any) -> list[dict[str, Any]]:
    """Opportunities with repeated and missing amounts, dates and stages (set directly:
    without a stage flow, the stage is an ordinary select field)."""
    definition = full_app()
    definition["stage_flows"] = []
    publish(client, admin_headers, definition)
    customer = create(client, admin_headers, "customer", {"name": "甲"})
    rows = []
    for i in range(ROWS):
        rows.append({
            "name": f"商机 {i:02d}" if i % 5 else f"100%_deal\\{i}",
            "customer": customer["id"],
            "amount": None if i % 4 == 0 else (i % 6) * 100,
            "expected_close": None if i % 3 == 0 else f"2026-0{1 + i % 3}-1{i % 2}",
            "last_contact": None if i % 7 == 0 else f"2026-01-0{1 + i % 5}T08:00:00Z",
            "stage": ["lead", "tech_exchange", "proposal", "won", None][i % 5],
            "probability": None if i % 2 else i,
        })
    response = client.post(records_url("opportunity") + "/bulk", json={"rows": rows},
                           headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["items"]  # type: ignore[no-any-return]


def _walk(client: Any, headers: Any, limit: int, **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        query = dict(params, limit=limit)
        if cursor:
            query["cursor"] = cursor
        response = client.get(records_url("opportunity"), query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["items"]) <= limit
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("pagination does not end")


def _expected(rows: list[dict[str, Any]], sort: str) -> list[int]:
    keys = [(k.lstrip("-"), k.startswith("-")) for k in sort.split(",")]
    ordered = sorted(rows, key=lambda r: r["id"])
    for key, desc in reversed(keys):
        present = [r for r in ordered if r[key] is not None]
        missing = [r for r in ordered if r[key] is None]
        ordered = sorted(present, key=lambda r: r[key], reverse=desc) + missing
    return [r["id"] for r in ordered]


@pytest.mark.parametrize("sort", ["amount", "-amount", "-amount,name", "expected_close,-amount",
                                  "-last_contact,stage", "stage,-probability", "-created_at",
                                  "name", "-id"])
def test_keyset_pages_walk_every_record_once(client: Any, admin_headers: Any,
                                            seeded: list[dict[str, Any]], sort: str) -> None:
    for limit in (1, 4, 50):
        seen = _walk(client, admin_headers, limit, sort=sort)
        ids = [r["id"] for r in seen]
        assert len(ids) == len(set(ids)) == ROWS
        if sort not in ("name", "-created_at"):  # collation and same-instant ties aside
            assert ids == _expected(seeded, sort), (sort, limit)


def test_filter_search_fields_and_count(client: Any, admin_headers: Any,
                                       seeded: list[dict[str, Any]]) -> None:
    url = records_url("opportunity")
    logic = {"and": [{">=": [{"var": "amount"}, 300]}, {"!=": [{"var": "stage"}, "won"]}]}
    body = client.get(url, query_string={"filter": json.dumps(logic), "count": "true",
                                         "limit": 3}, headers=admin_headers).get_json()
    expected = [r for r in seeded if (r["amount"] or 0) >= 300 and r["stage"] != "won"]
    assert body["total"] == len(expected)
    walked = _walk(client, admin_headers, 3, filter=json.dumps(logic))
    assert sorted(r["id"] for r in walked) == sorted(r["id"] for r in expected)

    found = client.get(url, query_string={"q": "100%_deal\\1"},
                       headers=admin_headers).get_json()["items"]
    assert sorted(r["name"] for r in found) == ["100%_deal\\10", "100%_deal\\15"]
    assert client.get(url, query_string={"q": "%"}, headers=admin_headers
                      ).get_json()["items"] != []
    assert client.get(url, query_string={"q": "_x"}, headers=admin_headers
                      ).get_json()["items"] == []

    subset = client.get(url, query_string={"fields": "name,amount", "limit": 1},
                        headers=admin_headers).get_json()["items"][0]
    assert set(subset) == {"id", "version", "created_at", "created_by", "updated_at",
                           "updated_by", "owner", "deleted", "name", "amount"}
    no_total = client.get(url, headers=admin_headers).get_json()
    assert "total" not in no_total and len(no_total["items"]) == ROWS


def test_cursor_of_another_sort_is_refused(client: Any, admin_headers: Any,
                                          seeded: list[dict[str, Any]]) -> None:
    url = records_url("opportunity")
    cursor = client.get(url, query_string={"sort": "amount", "limit": 2},
                        headers=admin_headers).get_json()["next_cursor"]
    response = client.get(url, query_string={"sort": "name", "cursor": cursor},
                          headers=admin_headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["details"][0]["path"] == "cursor"


def test_sub_table_children_come_with_the_page(client: Any, admin_headers: Any,
                                               seeded: list[dict[str, Any]]) -> None:
    for price in (1, 2):
        create(client, admin_headers, "quote", {
            "opportunity": seeded[0]["id"], "price": price,
            "lines": [{"product": f"p{price}-{n}"} for n in range(price)]})
    items = client.get(records_url("quote") + "?sort=price", headers=admin_headers
                       ).get_json()["items"]
    assert [[line["product"] for line in q["lines"]] for q in items] == [
        ["p1-0"], ["p2-0", "p2-1"]]
