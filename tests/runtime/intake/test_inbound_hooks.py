"""Inbound webhooks over HTTP: mapping, idempotency by external id (also under two
concurrent calls), signatures, clear 422s, call logs and tenant isolation."""

from __future__ import annotations

import json
import threading
import time

from builder.runtime import signing
from tests.runtime.intake.intake_app import leads, setup
from tests.runtime.records.helpers import problems

CALL = {"call_id": "C-20261124-0001", "caller": {"name": "赵女士", "number": "13900002222"},
        "transcript": "想要样品,明天能签", "meta": {"region": "south"},
        "offers": [{"amount": 80000}]}


def post(client, item, document, **kwargs):
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return client.post(item["path"], data=body, content_type="application/json", **kwargs)


def test_a_call_becomes_a_lead_once(client, admin_headers):
    hook = setup(client, admin_headers)["call_center"]
    assert hook["kind"] == "hook" and hook["path"].startswith("/api/hooks/")
    response = post(client, hook, CALL)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["created"] is True
    record = created["record"]
    assert (record["name"], record["phone"], record["notes"], record["region"],
            record["budget"], record["source"]) == (
        "赵女士", "13900002222", "想要样品,明天能签", "south", 80000, "phone400")

    again = post(client, hook, CALL)
    assert again.status_code == 200
    assert again.get_json() == {"record": record, "created": False}
    assert len(leads(client, admin_headers)) == 1

    other_call = {**CALL, "call_id": 20261124002, "offers": []}  # ids may be numbers
    response = post(client, hook, other_call)
    assert response.status_code == 201 and response.get_json()["record"]["budget"] is None
    assert len(leads(client, admin_headers)) == 2


def test_two_identical_calls_at_once_create_one_lead(app, client, admin_headers):
    hook = setup(client, admin_headers)["call_center"]
    start = threading.Barrier(2)
    results: list[tuple[int, dict]] = []

    def call() -> None:
        caller = app.test_client()
        start.wait()
        response = post(caller, hook, CALL)
        results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [200, 201], results
    ids = {body["record"]["id"] for _, body in results}
    assert len(ids) == 1
    assert [lead["id"] for lead in leads(client, admin_headers)] == list(ids)


def test_bad_payloads_are_422s_naming_the_field(client, admin_headers):
    hook = setup(client, admin_headers)["call_center"]
    response = post(client, hook, b"{not json")
    assert response.status_code == 422 and problems(response) == {"$": "invalid_json"}
    response = post(client, hook, {**CALL, "call_id": None})
    assert response.status_code == 422 and problems(response) == {"$.call_id": "required"}
    response = post(client, hook, {**CALL, "caller": {"number": "13900002222"}})
    assert response.status_code == 422
    [detail] = response.get_json()["error"]["details"]
    assert detail["path"] == "$.caller.name" and detail["code"] == "required"
    assert detail["message"].startswith("name: ")
    response = post(client, hook, {**CALL, "caller": {"name": "x" * 60, "number": "13900002222"},
                                   "meta": {"region": "x"}})
    found = {d["path"]: d for d in response.get_json()["error"]["details"]}
    assert set(found) == {"$.caller.name", "$.meta['region']"}
    assert found["$.caller.name"]["message"].startswith("name: ")
    assert found["$.meta['region']"]["message"].startswith("region: ")
    assert leads(client, admin_headers) == []
    # the failed id was not consumed: a corrected call goes through
    assert post(client, hook, CALL).status_code == 201


def test_signed_hooks_refuse_unsigned_calls(client, admin_headers):
    hook = setup(client, admin_headers)["official_account"]
    assert hook["signature"] is True and hook["secret"]
    message = {"msg_id": "wx-1", "user": {"nickname": "小李", "email": "li@example.cn"},
               "content": "请问有代理政策吗"}
    body = json.dumps(message).encode()
    assert post(client, hook, body).status_code == 401
    stamp = int(time.time())
    wrong = signing.signed_headers("not-the-secret", stamp, body)
    assert post(client, hook, body, headers=wrong).status_code == 401
    old = signing.signed_headers(hook["secret"], stamp - 3600, body)
    assert post(client, hook, body, headers=old).status_code == 401
    good = signing.signed_headers(hook["secret"], stamp, body)
    response = client.post("/api/hooks", data=body, content_type="application/json",
                           headers={**good, "X-Hook-Token": hook["token"]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["record"]["source"] == "wechat"
    assert client.post("/api/hooks", data=body, headers=good).status_code == 404


def test_calls_are_logged_for_the_admin(client, admin_headers, make_user, tenant, auth_headers):
    hook = setup(client, admin_headers)["call_center"]
    post(client, hook, CALL)
    post(client, hook, CALL)
    post(client, hook, {"call_id": "C-2"})
    response = client.get(f"/api/admin/intake/{hook['id']}/calls", headers=admin_headers)
    assert response.status_code == 200
    calls = response.get_json()
    assert [c["status"] for c in calls] == [422, 200, 201]
    assert calls[0]["external_id"] == "C-2" and calls[0]["record_id"] is None
    assert calls[0]["problems"][0]["path"] == "$.caller.name"
    assert calls[1]["record_id"] == calls[2]["record_id"] is not None
    assert json.loads(calls[2]["payload"]) == CALL
    rep = make_user(tenant, "rep")
    assert client.get(f"/api/admin/intake/{hook['id']}/calls",
                      headers=auth_headers(rep)).status_code == 403


def test_a_hook_token_writes_only_into_its_own_tenant(client, admin_headers, make_tenant,
                                                      make_user, auth_headers):
    ours = setup(client, admin_headers)["call_center"]
    other_headers = auth_headers(make_user(make_tenant("other"), "admin", is_tenant_admin=True))
    theirs = setup(client, other_headers)["call_center"]
    assert post(client, theirs, CALL).status_code == 201
    assert leads(client, admin_headers) == []
    assert len(leads(client, other_headers)) == 1
    # the same external id is another tenant's business: it creates a lead here too
    assert post(client, ours, CALL).status_code == 201
    assert len(leads(client, admin_headers)) == 1
    assert client.get(f"/api/admin/intake/{theirs['id']}/calls",
                      headers=admin_headers).status_code == 404
    assert client.post(f"/api/admin/intake/{theirs['id']}/rotate",
                       headers=admin_headers).status_code == 404
    assert post(client, {"path": "/api/hooks/" + "A" * 32}, CALL).status_code == 404


def test_only_the_last_calls_are_kept(client, admin_headers):
    from builder.runtime.intake.hooks import KEEP_CALLS

    hook = setup(client, admin_headers)["call_center"]
    for _ in range(KEEP_CALLS + 2):
        post(client, hook, CALL)
    calls = client.get(f"/api/admin/intake/{hook['id']}/calls", headers=admin_headers).get_json()
    assert len(calls) == KEEP_CALLS
    assert [c["status"] for c in calls] == [200] * KEEP_CALLS  # the 201 was the oldest
    assert len(leads(client, admin_headers)) == 1
