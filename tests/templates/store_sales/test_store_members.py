"""Members register at the counter by mobile number, or by scanning the store's QR code
(a public form); a number registered before is refused and the answer points at the
member who has it, whom a lookup by phone finds too."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from builder.database import utcnow
from builder.extensions import db
from builder.runtime.intake.forms import issue_submit_token
from builder.runtime.intake.models import IntakeEndpoint
from tests.templates.store_sales.package import install, url


@pytest.fixture
def shop(client: Any, admin_headers: dict[str, str]) -> Any:
    return install(client, admin_headers, with_demo=False)


def _register(client: Any, headers: dict[str, str], data: dict[str, Any],
              language: str = "zh-CN") -> Any:
    return client.post(url("member"), json={"data": data},
                       headers={**headers, "Accept-Language": language})


def test_registration_by_phone_refuses_duplicates_and_finds_the_member(
        client: Any, admin_headers: dict[str, str], shop: Any) -> None:
    first = _register(client, admin_headers, {"phone": "13912345678", "name": "赵敏"})
    assert first.status_code == 201, first.get_json()
    member = first.get_json()
    assert member["member_no"].startswith("HY") and member["points"] == 0
    assert member["source"] == "counter" and member["level"] == "normal"
    again = _register(client, admin_headers, {"phone": "13912345678"}, language="en")
    assert again.status_code == 422
    [problem] = again.get_json()["error"]["details"]
    assert (problem["path"], problem["code"], problem["record"]) == (
        "phone", "unique", member["id"])
    assert problem["message"] == "This value is already used by Member \u201c赵敏\u201d"
    found = client.get(url("member"), headers=admin_headers, query_string={
        "filter": json.dumps({"==": [{"var": "phone"}, "13912345678"]})}).get_json()["items"]
    assert [m["id"] for m in found] == [member["id"]]
    bad = _register(client, admin_headers, {"phone": "12345"})
    assert {d["path"]: d["code"] for d in bad.get_json()["error"]["details"]} == {
        "phone": "pattern"}


def test_registration_by_scanning_the_store_code(client: Any, admin_headers: dict[str, str],
                                                 shop: Any) -> None:
    endpoints = client.get("/api/admin/intake", headers=admin_headers).get_json()
    [form] = [e for e in endpoints if e["key"] == "join"]
    page = client.get(form["path"]).get_json()
    assert [f["key"] for f in page["fields"]] == ["phone", "name", "gender", "birthday"]
    endpoint = db.session.get(IntakeEndpoint, form["id"])
    assert endpoint is not None

    def submit(data: dict[str, Any]) -> Any:
        token = issue_submit_token(endpoint, utcnow() - timedelta(seconds=30))
        return client.post(form["path"], json={"data": data, "submit_token": token})

    created = submit({"phone": "13700001111", "name": "钱多多"})
    assert created.status_code == 201, created.get_json()
    [member] = client.get(url("member"), headers=admin_headers).get_json()["items"]
    assert (member["phone"], member["source"]) == ("13700001111", "scan")
    duplicate = submit({"phone": "13700001111", "name": "别人"})
    assert duplicate.status_code == 422
    [problem] = duplicate.get_json()["error"]["details"]
    assert problem["code"] == "unique" and "record" not in problem  # nothing told a visitor
    assert "钱多多" not in problem["message"]
