"""Injection: SQL, HTML/JS and template payloads in keys, titles, option values, record
values, filters and sort parameters are refused with a clear error or stored verbatim and
rendered escaped (JSON API, print HTML, xlsx export, notifications, the web app); robot and
webhook URLs that point at internal addresses are refused (SSRF)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from builder.errors import ValidationFailed
from builder.runtime.notify import send
from builder.runtime.notify.channels.base import DeliveryFailed
from builder.runtime.notify.channels.http import post_json
from tests.definitions import entity, field, minimal_app, option, title
from tests.runtime.records.helpers import create, publish, records_url
from tests.trust.figures import record

SQL = ["'; DROP TABLE t1_e1; --", "\" OR 1=1 --", "1; DELETE FROM users", "x' UNION SELECT 1--"]
HTML = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)"]
TEMPLATE = ["{{7*7}}", "{% for x in range(3) %}loop{% endfor %}", "${7*7}", "#{7*7}"]
FORMULA = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1,1)", "=HYPERLINK(\"http://x\")"]
PAYLOADS = SQL + HTML + TEMPLATE + FORMULA
FRONTEND = Path(__file__).resolve().parents[2] / "frontend" / "src"
PRINT = "<h1>{{ record.name }}</h1><p>{{ record.notes }}</p><p>{{ record.level }}</p>"


def _definition() -> dict[str, Any]:
    customer = entity("customer", "客户<script>alert(1)</script>", "{{7*7}} Customer", [
        field("name", "text", "名称' OR 1=1 --", "<img src=x onerror=alert(1)>",
              required=True),
        field("notes", "long_text", "备注${7*7}", "Notes"),
        field("level", "select", "等级", "Level", options=[
            option("a", "<b>A</b>{{7*7}}", "'; DROP TABLE users; --"), option("b", "B")])],
        title_field="name")
    definition = minimal_app(customer)
    definition["key"] = "inj"
    definition["print_templates"] = [{"key": "card", "title": title("卡片", "Card"),
                                      "entity": "customer", "template": PRINT}]
    return definition


@pytest.fixture
def inj(client: Any, admin_headers: dict[str, str]) -> dict[str, Any]:
    publish(client, admin_headers, _definition())
    made = [create(client, admin_headers, "customer",
                   {"name": payload, "notes": payload, "level": "a"}, app="inj")
            for payload in PAYLOADS]
    return {"headers": admin_headers, "records": made}


@pytest.mark.parametrize("key", ["x'; DROP TABLE users; --", "a\" OR 1=1", "<script>",
                                 "{{7*7}}", "a b", "../x", "x;y", "${x}", "名称"])
def test_keys_crafted_as_injections_are_refused_at_their_path(
        client: Any, admin_headers: dict[str, str], key: str) -> None:
    definition = _definition()
    definition["entities"][0]["fields"][1]["key"] = key
    definition["entities"][0]["fields"][2]["options"][1]["key"] = key
    response = client.post("/api/apps", json={"definition": definition}, headers=admin_headers)
    assert response.status_code == 422, response.get_json()
    paths = {d["path"] for d in response.get_json()["error"]["details"]}
    assert "entities[0].fields[1].key" in paths, paths
    assert client.get("/api/apps", headers=admin_headers).get_json() == []


def test_values_are_stored_verbatim_and_filters_and_sorts_stay_data(
        client: Any, inj: dict[str, Any]) -> None:
    headers, url = inj["headers"], records_url("customer", "inj")
    for made, payload in zip(inj["records"], PAYLOADS, strict=True):
        got = client.get(f"{url}/{made['id']}", headers=headers).get_json()
        assert got["name"] == payload and got["notes"] == payload
        found = client.get(url, headers=headers, query_string={
            "filter": json.dumps({"==": [{"var": "name"}, payload]})}).get_json()["items"]
        assert [r["id"] for r in found] == [made["id"]]
        searched = client.get(url, headers=headers, query_string={"q": payload})
        assert searched.status_code == 200
        assert made["id"] in [r["id"] for r in searched.get_json()["items"]]
    probes = 0
    for payload in PAYLOADS:
        for query in ({"sort": payload}, {"sort": f"-{payload}"}, {"fields": f"name,{payload}"},
                      {"filter": json.dumps({"==": [{"var": payload}, 1]})},
                      {"filter": json.dumps({payload: [{"var": "name"}, 1]})},
                      {"filter": payload}, {"cursor": payload}, {"limit": payload}):
            response = client.get(url, headers=headers, query_string=query)
            probes += 1
            assert response.status_code < 500, query
            if "filter" not in query or payload in FORMULA[:1]:
                assert response.status_code in (400, 422), (query, response.status_code)
            if response.status_code >= 400:
                assert response.get_json()["error"]["message"]
    listing = client.get(url, headers=headers, query_string={"count": "true"}).get_json()
    assert listing["total"] == len(PAYLOADS)  # no table dropped, no row added or lost
    assert client.get("/api/auth/me", headers=headers).status_code == 200
    record("injection", probes_sent=probes + 3 * len(PAYLOADS), server_errors=0)


def test_titles_and_options_come_back_verbatim_in_the_definition(
        client: Any, inj: dict[str, Any]) -> None:
    app = client.get("/api/apps/inj", headers=inj["headers"]).get_json()
    text = json.dumps(app, ensure_ascii=False)
    assert "客户<script>alert(1)</script>" in text and "'; DROP TABLE users; --" in text


def test_print_html_escapes_values_and_does_not_run_their_templates(
        client: Any, inj: dict[str, Any]) -> None:
    for made, payload in zip(inj["records"], PAYLOADS, strict=True):
        response = client.get(f"{records_url('customer', 'inj')}/{made['id']}/print/card",
                              query_string={"format": "html"}, headers=inj["headers"])
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<script>" not in html and "<img src=x" not in html
        assert ">49<" not in html and "looploop" not in html
        if payload.startswith("{{"):
            assert "{{7*7}}" in html
        assert "&lt;b&gt;A&lt;/b&gt;" in html or "<b>A</b>" not in html


def test_exports_never_start_a_cell_with_a_formula(client: Any, inj: dict[str, Any]) -> None:
    response = client.get("/api/apps/inj/customer/export", headers=inj["headers"],
                          query_string={"fields": "name,notes"})
    assert response.status_code == 200
    content = response.data
    response.close()
    rows = list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows(values_only=True))
    cells = [str(v) for row in rows[1:] for v in row]
    assert len(cells) == 2 * len(PAYLOADS)
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], cells
    for payload in FORMULA:
        assert "'" + payload in cells


def test_notification_texts_keep_payloads_as_text(client: Any, tenant: Any, admin: Any,
                                                  admin_headers: dict[str, str]) -> None:
    for payload in PAYLOADS:
        send(tenant.id, [admin.id], {"zh-CN": payload, "en": payload},
             {"zh-CN": f"正文 {payload}", "en": f"body {payload}"}, channels=["inbox"])
    from builder.extensions import db

    db.session.commit()
    items = client.get("/api/notifications", headers=admin_headers,
                       query_string={"limit": 50}).get_json()["items"]
    texts = {json.dumps(item, ensure_ascii=False) for item in items}
    assert len(items) == len(PAYLOADS)
    for payload in PAYLOADS:
        assert any(json.dumps(payload, ensure_ascii=False)[1:-1] in t for t in texts), payload
    shown = [f"{item['subject']} {item['body']}" for item in items]  # not ids or times
    assert not any("49" in t for t in shown)


def test_the_web_app_never_renders_user_values_as_html() -> None:
    sources = [p for p in FRONTEND.rglob("*") if p.suffix in (".vue", ".js", ".ts")]
    assert sources
    offending = [str(p) for p in sources
                 if any(marker in p.read_text(encoding="utf-8")
                        for marker in ("v-html", "innerHTML", "outerHTML", "insertAdjacentHTML",
                                       "dangerouslySetInnerHTML", "document.write"))]
    assert not offending, offending


INTERNAL = ["http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/x",
            "http://169.254.169.254/latest/meta-data/", "http://[::1]/x", "http://0.0.0.0/x",
            "http://192.168.1.1/x", "http://172.16.0.1/x", "https://metadata.localhost/x"]


@pytest.fixture
def guarded(app: Any) -> Any:
    app.config["NOTIFY_ALLOW_PRIVATE_URLS"] = False
    return app


@pytest.mark.parametrize("url", INTERNAL)
def test_robot_urls_to_internal_addresses_are_refused(guarded: Any, tenant: Any,
                                                      url: str) -> None:
    with pytest.raises(ValidationFailed) as error:
        send(tenant.id, [], "x", "y", channels=["dingtalk"], webhook={"url": url})
    assert [p.path for p in error.value.details] == ["webhook.url"]


@pytest.mark.parametrize("url", [*INTERNAL, "file:///etc/passwd", "ftp://example.com/x",
                                 "gopher://127.0.0.1:6379/_x"])
def test_webhook_calls_to_internal_addresses_are_refused(guarded: Any, url: str) -> None:
    with pytest.raises(DeliveryFailed, match="refused"):
        post_json(url, b"{}")
    record("ssrf", probes_sent=1, server_errors=0)
