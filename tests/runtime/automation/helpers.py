"""A small sales app for the automation tests, and steps over the HTTP API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.definitions import entity, field, minimal_app, option
from tests.runtime.records.helpers import create, publish

APP = "sales"


def sales_app(automations: list[dict[str, Any]] | None = None,
              sla_policies: list[dict[str, Any]] | None = None,
              **parts: Any) -> dict[str, Any]:
    """Leads with tasks and follow-ups; the processes are the given ones."""
    lead = entity("lead", "线索", "Lead", [
        field("name", "text", "名称", "Name", required=True),
        field("status", "select", "状态", "Status", default="new", options=[
            option("new", "新建", "New"), option("contacted", "已联系", "Contacted"),
            option("qualified", "已确认", "Qualified"), option("lost", "无效", "Lost")]),
        field("priority", "select", "优先级", "Priority", options=[
            option("low", "低", "Low"), option("normal", "中", "Normal"),
            option("high", "高", "High"), option("urgent", "紧急", "Urgent")]),
        field("score", "number", "评分", "Score"),
        field("sales_rep", "user", "销售", "Sales rep"),
        field("flagged", "boolean", "标红", "Flagged"),
        field("next_touch", "date", "下次跟进", "Next touch"),
        field("first_contact_at", "datetime", "首次联系", "First contact"),
        field("key_account", "boolean", "重点客户", "Key account"),
        field("notes", "text", "备注", "Notes"),
    ], title_field="name")
    task = entity("task", "任务", "Task", [
        field("title", "text", "标题", "Title", required=True),
        field("assignee", "user", "负责人", "Assignee"),
        field("lead", "relation", "线索", "Lead", entity="lead"),
        field("due", "date", "截止日期", "Due"),
    ], title_field="title")
    followup = entity("followup", "跟进记录", "Follow-up", [
        field("lead", "relation", "线索", "Lead", entity="lead", required=True),
        field("note", "text", "内容", "Note"),
    ])
    definition = minimal_app(lead, task, followup, automations=automations or [],
                             sla_policies=sla_policies or [], **parts)
    definition["key"] = APP
    return definition


def automation(key: str, trigger: dict[str, Any], actions: list[dict[str, Any]],
               condition: Any = None, entity_key: str = "lead") -> dict[str, Any]:
    found = {"key": key, "entity": entity_key, "trigger": trigger, "actions": actions}
    if condition is not None:
        found["condition"] = condition
    return found


def setup(client: Any, headers: dict[str, str], *automations: dict[str, Any],
          **parts: Any) -> dict[str, Any]:
    return publish(client, headers, sales_app(list(automations), **parts))


def new_lead(client: Any, headers: dict[str, str], **data: Any) -> dict[str, Any]:
    return create(client, headers, "lead", {"name": "华东制造", **data}, app=APP)


def get_record(client: Any, headers: dict[str, str], entity_key: str,
               record_id: int) -> dict[str, Any]:
    response = client.get(f"/api/apps/{APP}/{entity_key}/records/{record_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def list_records(client: Any, headers: dict[str, str], entity_key: str,
                 **query: Any) -> list[dict[str, Any]]:
    response = client.get(f"/api/apps/{APP}/{entity_key}/records", headers=headers,
                          query_string={"limit": 500, **query})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]  # type: ignore[no-any-return]


def runs(client: Any, headers: dict[str, str], key: str, **query: Any) -> list[dict[str, Any]]:
    response = client.get(f"/api/apps/{APP}/automations/{key}/runs", headers=headers,
                          query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]  # type: ignore[no-any-return]


class Received:
    """What a local HTTP server was sent."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.event = threading.Event()


@contextmanager
def http_server() -> Iterator[tuple[str, Received]]:
    """A real HTTP server on localhost recording each request's path, headers and JSON."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8")
            received.requests.append({"path": self.path, "headers": dict(self.headers),
                                      "json": json.loads(raw) if raw else None})
            self.send_response(received.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"errcode": 0}')
            received.event.set()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
