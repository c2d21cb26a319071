"""Two people acting at once: the database decides who wins, the other gets a 409.

The first request is held inside its transaction (a process-event subscriber waits until
the second request has been sent), so the second one really runs while the first has
not committed yet; each request runs in its own thread, application context and session.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from builder.extensions import db
from builder.runtime.records import events
from tests.runtime.workflow.approvals_helpers import QUOTES, Org, build_org, low_price_chain

Call = tuple[str, dict[str, str], dict[str, Any]]


@pytest.fixture
def hold_first() -> Iterator[Callable[[str], tuple[threading.Event, threading.Event]]]:
    """``hold_first(event_name)``: the first request emitting that event waits inside its
    transaction until the second request has been sent."""
    names: list[str] = []

    def install(name: str) -> tuple[threading.Event, threading.Event]:
        inside, second_sent = threading.Event(), threading.Event()
        held = [False]

        def hold(event: events.ProcessEvent) -> None:
            if not held[0]:
                held[0] = True
                inside.set()
                second_sent.wait(10)
                time.sleep(0.3)  # let the second request reach the database

        events.record_hooks.on(name, f"test.hold.{name}")(hold)
        names.append(name)
        return inside, second_sent

    yield install
    for name in names:
        events.record_hooks.remove(f"test.hold.{name}")


def _race(app: Flask, first: Call, second: Call, inside: threading.Event,
          second_sent: threading.Event) -> tuple[Any, Any]:
    db.session.commit()
    results: dict[str, Any] = {}

    def send(label: str, call: Call) -> None:
        url, headers, body = call
        if label == "second":
            assert inside.wait(10), "the first request never got inside its transaction"
            second_sent.set()
        results[label] = app.test_client().post(url, json=body, headers=headers)

    threads = [threading.Thread(target=send, args=(label, call))
               for label, call in (("first", first), ("second", second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results["first"], results["second"]


@pytest.fixture
def one_step_org(client: Any, admin: Any, admin_headers: Any, auth_headers: Any) -> Org:
    return build_org(client, admin, admin_headers, auth_headers, low_price_chain(
        steps=[{"key": "finance", "approver": {"type": "role", "role": "finance"},
                "mode": "any"}]))


def test_the_same_task_approved_twice_at_once(app: Flask, one_step_org: Org,
                                              hold_first: Any) -> None:
    org = one_step_org
    quote = org.quote("rep", price=80000)
    task = org.task("fin1")
    url = f"/api/approvals/tasks/{task['task_id']}"
    inside, sent = hold_first("approval_decided")
    first, second = _race(app, (url, org.headers["fin1"], {"action": "approve", "comment": "1"}),
                          (url, org.headers["fin1"], {"action": "approve", "comment": "2"}),
                          inside, sent)
    assert first.status_code == 200, first.get_json()
    assert second.status_code == 409, second.get_json()
    assert second.get_json()["error"]["code"] == "conflict"
    [run] = org.trail(quote["id"])
    assert [a["comment"] for a in run["actions"] if a["action"] == "approve"] == ["1"]
    assert run["status"] == "approved"
    history = org.get("admin", f"{QUOTES}/{quote['id']}/history").get_json()["items"]
    assert [h["action"] for h in history] == ["update", "create"]


def test_two_approvers_of_one_step_act_at_once(app: Flask, one_step_org: Org,
                                               hold_first: Any) -> None:
    org = one_step_org
    quote = org.quote("rep", price=80000)
    calls = [(f"/api/approvals/tasks/{org.task(who)['task_id']}", org.headers[who],
              {"action": action, "comment": who}) for who, action in
             (("fin1", "approve"), ("fin2", "reject"))]
    inside, sent = hold_first("approval_decided")
    first, second = _race(app, calls[0], calls[1], inside, sent)
    assert (first.status_code, second.status_code) == (200, 409), (
        first.get_json(), second.get_json())
    [run] = org.trail(quote["id"])
    assert run["status"] == "approved"
    assert [(a["action"], a["comment"]) for a in run["actions"]
            if a["action"] in ("approve", "reject")] == [("approve", "fin1")]
    assert sorted(t["status"] for t in run["steps"][0]["tasks"]) == ["approved", "cancelled"]
    assert org.record(quote["id"])["approval_status"] == "approved"


def test_two_submits_at_once_start_one_approval(app: Flask, client: Any, admin: Any,
                                                admin_headers: Any, auth_headers: Any,
                                                hold_first: Any) -> None:
    org = build_org(client, admin, admin_headers, auth_headers,
                    low_price_chain(trigger="submit"))
    quote = org.quote("rep", price=80000)
    url = f"{QUOTES}/{quote['id']}/approvals"
    inside, sent = hold_first("approval_submitted")
    first, second = _race(app, (url, org.headers["rep"], {"chain": "low_price"}),
                          (url, org.headers["rep2"], {"chain": "low_price"}), inside, sent)
    assert first.status_code == 201, first.get_json()
    assert second.status_code == 409, second.get_json()
    assert [r["status"] for r in org.trail(quote["id"])] == ["pending"]
    assert len(org.inbox("east_mgr")) == 1
