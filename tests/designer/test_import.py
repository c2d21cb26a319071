"""Importing definitions over HTTP: bad ones are refused whole, with every problem listed."""

from __future__ import annotations

import copy

import sqlalchemy as sa

from builder.designer.models import App
from builder.extensions import db
from tests.designer.helpers import items_app, title


def _malformed() -> dict:
    definition = items_app()
    definition["entities"].append({
        "key": "order", "title": title("订单", "Order"),
        "fields": [
            {"key": "item", "type": "relation", "title": title("物品"), "entity": "ghost"},
            {"key": "lines", "type": "subtable", "title": title("明细"), "entity": "order_line"},
            {"key": "total", "type": "formula", "title": title("合计"),
             "expression": {"*": [{"var": "qty"}, {"var": "missing_price"}]}},
            {"key": "qty", "type": "number", "title": title("数量"),
             "required_when": {"frobnicate": [{"var": "qty"}, 1]}},
            {"key": "qty", "type": "number", "title": title("重复")},
            {"key": "colour", "type": "rainbow", "title": title("颜色")},
            {"key": "Bad Key", "type": "text", "title": title("坏")},
        ],
    })
    definition["entities"].append({
        "key": "order_line", "title": title("订单明细"),
        "fields": [{"key": "back", "type": "subtable", "title": title("回环"), "entity": "order"}],
    })
    return definition


def test_malformed_definition_lists_every_problem_and_stores_nothing(app, client, admin_headers):
    response = client.post("/api/apps", json={"definition": _malformed()}, headers=admin_headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    paths = {d["path"] for d in error["details"]}
    expected = {
        "entities[1].fields[0].entity",           # relation to a missing entity
        "entities[1].fields[3].required_when",    # invalid JsonLogic (prefix)
        "entities[1].fields[4].key",              # duplicate key
        "entities[1].fields[5].type",             # unknown field type
        "entities[1].fields[6].key",              # invalid key
        "entities[1].fields[2].expression",       # formula naming a missing field (prefix)
    }
    for path in expected:
        assert any(p == path or p.startswith(path + ".") or p.startswith(path + "[")
                   for p in paths), (path, sorted(paths))
    cycle = [d for d in error["details"] if "subtable" in d.get("code", "")
             or "cycle" in d.get("code", "")]
    assert cycle, sorted(paths)
    assert all(d["message"] for d in error["details"])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(App)) == 0


def test_problem_messages_follow_the_users_language(client, admin_headers):
    definition = copy.deepcopy(items_app())
    definition["entities"][0]["fields"][0]["type"] = "rainbow"
    zh = client.post("/api/apps", json={"definition": definition}, headers=admin_headers)
    en = client.post("/api/apps", json={"definition": definition},
                     headers={**admin_headers, "Accept-Language": "en"})
    assert zh.status_code == en.status_code == 422
    zh_message = zh.get_json()["error"]["details"][0]["message"]
    en_message = en.get_json()["error"]["details"][0]["message"]
    assert zh_message != en_message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh_message)


def test_importing_the_same_key_twice_is_a_conflict(client, admin_headers):
    assert client.post("/api/apps", json={"definition": items_app()},
                       headers=admin_headers).status_code == 201
    response = client.post("/api/apps", json={"definition": items_app()}, headers=admin_headers)
    assert response.status_code == 409


def test_not_json_is_a_clear_error_not_a_crash(client, admin_headers):
    for body in ("{not json", "[]", '{"definition": 5}', '{"definition": []}'):
        response = client.post("/api/apps", data=body, headers={
            **admin_headers, "Content-Type": "application/json"})
        assert response.status_code in (400, 422), (body, response.status_code)
        assert "error" in response.get_json()
