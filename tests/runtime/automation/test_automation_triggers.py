"""Each record trigger over the real API: created, updated, field changed (from/to),
opened by the owner, an inbound webhook; conditions see the record, $old and $user."""

from __future__ import annotations

from typing import Any

from tests.runtime.automation.helpers import (
    APP,
    automation,
    get_record,
    list_records,
    new_lead,
    runs,
    setup,
)
from tests.runtime.records.helpers import patch

FLAG = [{"type": "set_fields", "set": {"flagged": True}}]


def test_field_changed_fires_on_the_given_transition_only(
        client: Any, admin_headers: Any, run_jobs: Any) -> None:
    setup(client, admin_headers, automation(
        "qualified", {"type": "field_changed", "field": "status", "from": ["new", "contacted"],
                      "to": "qualified"},
        [{"type": "set_fields", "set": {"notes": {"cat": [
            {"var": "$trigger.old"}, "→", {"var": "$trigger.new"}]}}}]))
    lead = new_lead(client, admin_headers)
    lead = patch(client, admin_headers, "lead", lead, {"status": "lost"}, app=APP).get_json()
    lead = patch(client, admin_headers, "lead", lead, {"status": "qualified"},
                 app=APP).get_json()  # from lost: not a watched transition
    run_jobs()
    assert runs(client, admin_headers, "qualified") == []
    lead = patch(client, admin_headers, "lead", lead, {"status": "contacted"},
                 app=APP).get_json()
    patch(client, admin_headers, "lead", lead, {"status": "qualified"}, app=APP)
    run_jobs()
    assert get_record(client, admin_headers, "lead", lead["id"])["notes"] == \
        "contacted→qualified"
    [run] = runs(client, admin_headers, "qualified")
    assert run["trigger"] == "field_changed" and run["status"] == "succeeded"


def test_field_changed_counts_a_record_created_with_the_value(
        client: Any, admin_headers: Any, run_jobs: Any) -> None:
    setup(client, admin_headers, automation(
        "key_account", {"type": "field_changed", "field": "key_account", "to": True}, FLAG))
    plain = new_lead(client, admin_headers, name="普通")
    key = new_lead(client, admin_headers, name="重点", key_account=True)
    run_jobs()
    assert get_record(client, admin_headers, "lead", key["id"])["flagged"] is True
    assert get_record(client, admin_headers, "lead", plain["id"])["flagged"] is None


def test_conditions_see_the_record_old_values_and_the_user(
        client: Any, admin_headers: Any, make_user: Any, auth_headers: Any, tenant: Any,
        run_jobs: Any) -> None:
    setup(client, admin_headers, automation(
        "big_jump", {"type": "updated"}, FLAG,
        condition={"and": [{">=": [{"-": [{"var": "score"}, {"var": "$old.score"}]}, 50]},
                   {"in": ["sales", {"var": "$user.roles"}]}]}))
    rep = make_user(tenant, "rep", roles=["sales"])
    other = make_user(tenant, "other")
    first = new_lead(client, auth_headers(rep), name="一", score=10)
    second = new_lead(client, auth_headers(rep), name="二", score=10)
    patch(client, auth_headers(rep), "lead", first, {"score": 30}, app=APP)
    patch(client, auth_headers(other), "lead", second, {"score": 90}, app=APP)
    run_jobs()
    assert runs(client, admin_headers, "big_jump") == []
    first = get_record(client, admin_headers, "lead", first["id"])
    patch(client, auth_headers(rep), "lead", first, {"score": 80}, app=APP)
    run_jobs()
    assert get_record(client, admin_headers, "lead", first["id"])["flagged"] is True
    assert get_record(client, admin_headers, "lead", second["id"])["flagged"] is None


def test_opened_by_its_owner_fires_the_first_time_only(
        client: Any, admin_headers: Any, make_user: Any, auth_headers: Any, tenant: Any,
        run_jobs: Any) -> None:
    setup(client, admin_headers, automation(
        "seen", {"type": "opened"},
        [{"type": "set_fields", "set": {"status": "contacted"}}]))
    rep = make_user(tenant, "rep")
    lead = new_lead(client, auth_headers(rep))
    get_record(client, admin_headers, "lead", lead["id"])  # not the owner
    run_jobs()
    assert runs(client, admin_headers, "seen") == []
    get_record(client, auth_headers(rep), "lead", lead["id"])
    get_record(client, auth_headers(rep), "lead", lead["id"])
    run_jobs()
    [run] = runs(client, admin_headers, "seen")
    assert run["status"] == "succeeded" and run["user_id"] == rep.id
    assert get_record(client, admin_headers, "lead", lead["id"])["status"] == "contacted"


def test_an_inbound_webhook_runs_the_automation_with_its_payload(
        client: Any, admin_headers: Any, run_jobs: Any) -> None:
    setup(client, admin_headers,
          automation("web_form", {"type": "webhook"}, [
              {"type": "create_record", "entity": "lead", "set": {
                  "name": {"var": "$payload.company"}, "notes": {"var": "$payload.message"},
                  "score": {"if": [{"in": ["报价", {"var": "$payload.message"}]}, 80, 20]}}}],
              condition={"!!": {"var": "$payload.company"}}),
          automation("touch", {"type": "webhook", "record": {"var": "$payload.lead_id"}},
                     [{"type": "set_fields", "set": {"status": {"var": "$payload.status"}}}]))
    hook = client.post(f"/api/apps/{APP}/automations/web_form/hook", headers=admin_headers)
    assert hook.status_code == 201
    url = hook.get_json()["url"]
    called = client.post(url, json={"company": "杭州智造", "message": "请尽快报价"})
    assert called.status_code == 202 and called.get_json()["run"] > 0
    ignored = client.post(url, json={"message": "no company"})
    assert ignored.status_code == 202 and ignored.get_json()["run"] is None
    run_jobs()
    [lead] = list_records(client, admin_headers, "lead")
    assert (lead["name"], lead["score"], lead["owner"]) == ("杭州智造", 80, None)

    touch = client.post(f"/api/apps/{APP}/automations/touch/hook",
                        headers=admin_headers).get_json()["url"]
    assert client.post(touch, json={"lead_id": lead["id"], "status": "qualified"}
                       ).status_code == 202
    run_jobs()
    assert get_record(client, admin_headers, "lead", lead["id"])["status"] == "qualified"
    assert client.post(touch, json={"lead_id": 999999}).status_code == 404
    missing = client.post(touch, json={"status": "x"})
    assert missing.status_code == 422 and "$payload" in missing.get_json()["error"][
        "details"][0]["path"]


def test_webhook_urls_are_secret_rotated_and_removable(
        client: Any, admin_headers: Any, make_user: Any, auth_headers: Any,
        tenant: Any) -> None:
    setup(client, admin_headers, automation("web_form", {"type": "webhook"}, FLAG),
          automation("on_new", {"type": "created"}, FLAG))
    first = client.post(f"/api/apps/{APP}/automations/web_form/hook",
                        headers=admin_headers).get_json()["url"]
    second = client.post(f"/api/apps/{APP}/automations/web_form/hook",
                         headers=admin_headers).get_json()["url"]
    assert first != second
    assert client.post(first, json={}).status_code == 404
    assert client.post(second, data="{not json", content_type="application/json"
                       ).status_code == 400
    assert client.delete(f"/api/apps/{APP}/automations/web_form/hook",
                         headers=admin_headers).status_code == 204
    assert client.post(second, json={}).status_code == 404
    assert client.post(f"/api/apps/{APP}/automations/on_new/hook",
                       headers=admin_headers).status_code == 422
    assert client.post(f"/api/apps/{APP}/automations/nope/hook",
                       headers=admin_headers).status_code == 404
    rep = make_user(tenant, "rep")
    assert client.post(f"/api/apps/{APP}/automations/web_form/hook",
                       headers=auth_headers(rep)).status_code == 403
