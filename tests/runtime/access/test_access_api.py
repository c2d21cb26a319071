"""Role-based access over HTTP: who sees which records and fields, who may change them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.runtime.access.helpers import APP, Org, make_org, sales_app, url
from tests.runtime.records.helpers import problems, publish, upload


@pytest.fixture
def org(client: Any, tenant: Any, admin_headers: Any, make_user: Any) -> Org:
    publish(client, admin_headers, sales_app())
    return make_org(tenant, make_user)


@pytest.fixture
def deals(client: Any, org: Org, auth_headers: Any) -> dict[str, dict[str, Any]]:
    """One deal each by rep, junior (a sub-team of rep's) and outsider (another team)."""
    made = {}
    for name in ("rep", "junior", "outsider"):
        response = client.post(url(), headers=auth_headers(getattr(org, name)), json={
            "data": {"name": f"{name} deal", "amount": 100, "lines": [{"product": "x"}]}})
        assert response.status_code == 201, response.get_json()
        made[name] = response.get_json()
    return made


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return sorted(item["name"] for item in response.get_json()["items"])


def set_cost(client: Any, headers: Any, deal: dict[str, Any], cost: float) -> dict[str, Any]:
    response = client.patch(url(record_id=deal["id"]), headers=headers,
                            json={"version": deal["version"], "data": {"cost": cost}})
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_a_rep_sees_only_own_records_and_never_the_cost(
        client: Any, org: Org, deals: Any, auth_headers: Any, admin_headers: Any) -> None:
    mine = set_cost(client, admin_headers, deals["rep"], 60)
    assert mine["cost"] == 60 and mine["margin"] == 40
    rep = auth_headers(org.rep)
    listed = client.get(url(), headers=rep, query_string={"count": "true"})
    assert names(listed) == ["rep deal"] and listed.get_json()["total"] == 1
    item = listed.get_json()["items"][0]
    assert "cost" not in item and "margin" not in item and item["amount"] == 100
    assert "unit_cost" not in item["lines"][0] and item["lines"][0]["product"] == "x"

    got = client.get(url(record_id=deals["rep"]["id"]), headers=rep)
    assert got.status_code == 200
    assert "cost" not in got.get_json() and "margin" not in got.get_json()

    history = client.get(url(record_id=deals["rep"]["id"], tail="/history"), headers=rep)
    assert history.status_code == 200
    entries = history.get_json()["items"]
    assert [e["action"] for e in entries] == ["update", "create"]
    text = json.dumps(entries)
    assert "cost" not in text and "margin" not in text
    assert entries[0]["changes"] == {}  # only hidden fields changed

    for other in ("junior", "outsider"):
        for path in ("", "/history"):
            response = client.get(url(record_id=deals[other]["id"], tail=path), headers=rep)
            assert response.status_code == 404, response.get_json()
            assert response.get_json()["error"]["code"] == "not_found"


def test_a_filter_cannot_reach_beyond_the_scope(
        client: Any, org: Org, deals: Any, auth_headers: Any) -> None:
    rep = auth_headers(org.rep)
    escapes: list[tuple[Any, list[str]]] = [
        ({"or": [True, {"var": "name"}]}, ["rep deal"]), (True, ["rep deal"]),
        ({"!=": [{"var": "owner"}, -1]}, ["rep deal"]),
        ({"==": [{"var": "owner"}, org.outsider.id]}, [])]
    for rule, expected in escapes:
        response = client.get(url(), headers=rep, query_string={
            "filter": json.dumps(rule), "count": "true", "deleted": "include"})
        assert names(response) == expected
        assert response.get_json()["total"] == len(expected)
    searched = client.get(url(), headers=rep, query_string={"q": "deal", "count": "true"})
    assert names(searched) == ["rep deal"]
    # hidden fields can be neither filtered, sorted, asked for nor searched
    for args, path in (({"filter": json.dumps({">": [{"var": "cost"}, 10]})}, "filter"),
                       ({"sort": "-cost"}, "sort"), ({"fields": "name,cost"}, "fields")):
        response = client.get(url(), headers=rep, query_string=args)
        assert response.status_code == 422, response.get_json()
        assert path in "".join(problems(response)), problems(response)


def test_a_rep_cannot_write_hidden_or_read_only_fields(
        client: Any, org: Org, deals: Any, auth_headers: Any) -> None:
    rep = auth_headers(org.rep)
    deal = deals["rep"]
    refused = client.patch(url(record_id=deal["id"]), headers=rep,
                           json={"version": deal["version"], "data": {"cost": 1}})
    assert refused.status_code == 403
    assert problems(refused) == {"cost": "hidden"}
    created = client.post(url(), headers=rep, json={"data": {"name": "n", "cost": 5}})
    assert created.status_code == 403 and problems(created) == {"cost": "hidden"}
    bulk = client.post(url(tail="") + "/bulk", headers=rep,
                       json={"rows": [{"name": "a"}, {"name": "b", "approved": True}]})
    assert bulk.status_code == 403 and problems(bulk) == {"rows[1].approved": "read_only"}
    lines = client.patch(url(record_id=deal["id"]), headers=rep, json={
        "version": deal["version"],
        "data": {"lines": [{"id": deal["lines"][0]["id"], "product": "y", "unit_cost": 3}]}})
    assert lines.status_code == 403 and problems(lines) == {"lines[0].unit_cost": "hidden"}
    # sending back the record as read (read-only value unchanged) is fine
    body = {k: v for k, v in deal.items() if k != "lines"}
    body["name"] = "renamed"
    saved = client.patch(url(record_id=deal["id"]), headers=rep,
                         json={"version": deal["version"], "data": body})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["name"] == "renamed" and "cost" not in saved.get_json()
    changed = client.patch(url(record_id=deal["id"]), headers=rep, json={
        "version": saved.get_json()["version"], "data": {"approved": True}})
    assert changed.status_code == 403 and problems(changed) == {"approved": "read_only"}
    assert client.get(url(), headers=rep, query_string={"count": "true"}).get_json()[
        "total"] == 1  # nothing refused was stored
    bulk_ok = client.post(url() + "/bulk", headers=rep, json={"rows": [{"name": "c"}]})
    assert bulk_ok.status_code == 201 and "cost" not in bulk_ok.get_json()["items"][0]


def test_a_manager_sees_the_team_and_its_sub_teams(
        client: Any, org: Org, deals: Any, auth_headers: Any) -> None:
    boss = auth_headers(org.boss)
    listed = client.get(url(), headers=boss, query_string={"count": "true"})
    assert names(listed) == ["junior deal", "rep deal"]
    assert listed.get_json()["total"] == 2
    assert "cost" in listed.get_json()["items"][0]  # managers see costs
    assert client.get(url(record_id=deals["junior"]["id"]), headers=boss).status_code == 200
    assert client.get(url(record_id=deals["outsider"]["id"]), headers=boss).status_code == 404
    junior = deals["junior"]
    changed = client.patch(url(record_id=junior["id"]), headers=boss,
                           json={"version": junior["version"], "data": {"cost": 7}})
    assert changed.status_code == 200 and changed.get_json()["cost"] == 7
    refused = client.delete(url(record_id=junior["id"]), headers=boss)
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    created = client.post(url(), headers=boss, json={"data": {"name": "boss deal"}})
    assert created.status_code == 403


def test_finance_reads_everything_and_changes_nothing(
        client: Any, org: Org, deals: Any, auth_headers: Any, admin_headers: Any) -> None:
    set_cost(client, admin_headers, deals["outsider"], 10)
    finance = auth_headers(org.auditor)
    listed = client.get(url(), headers=finance)
    assert names(listed) == ["junior deal", "outsider deal", "rep deal"]
    outsider = client.get(url(record_id=deals["outsider"]["id"]), headers=finance).get_json()
    assert outsider["cost"] == 10
    assert client.get(url("deal_line"), headers=finance).status_code == 200
    record = url(record_id=outsider["id"])
    for response in (
            client.patch(record, headers=finance, json={"version": outsider["version"],
                                                        "data": {"name": "x"}}),
            client.delete(record, headers=finance),
            client.post(record + "/restore", headers=finance),
            client.post(url(), headers=finance, json={"data": {"name": "x"}})):
        assert response.status_code == 403, response.get_json()
    zh = client.delete(record, headers={**finance, "Accept-Language": "zh-CN"})
    assert zh.get_json()["error"]["message"] == "您的角色无权删除“交易”的记录"
    en = client.delete(record, headers={**finance, "Accept-Language": "en"})
    assert en.get_json()["error"]["message"] == 'Your roles do not allow you to delete ' \
                                                'records of “Deal”'


def test_deleting_and_restoring_stay_within_the_scope(
        client: Any, org: Org, deals: Any, auth_headers: Any) -> None:
    rep = auth_headers(org.rep)
    mine, theirs = deals["rep"], deals["outsider"]
    assert client.delete(url(record_id=theirs["id"]), headers=rep).status_code == 404
    deleted = client.delete(url(record_id=mine["id"]), headers=rep)
    assert deleted.status_code == 200 and deleted.get_json()["deleted"] is True
    assert "cost" not in deleted.get_json()
    only = client.get(url(), headers=rep, query_string={"deleted": "only"})
    assert names(only) == ["rep deal"]
    restored = client.post(url(record_id=mine["id"], tail="/restore"), headers=rep)
    assert restored.status_code == 200 and restored.get_json()["deleted"] is False
    assert client.post(url(record_id=theirs["id"], tail="/restore"),
                       headers=rep).status_code == 404


def test_a_user_without_a_role_of_the_app_gets_nothing(
        client: Any, org: Org, deals: Any, auth_headers: Any) -> None:
    nobody = auth_headers(org.nobody)
    assert client.get(url(), headers=nobody).status_code == 403
    assert client.get(url(record_id=deals["rep"]["id"]), headers=nobody).status_code == 403
    assert client.post(url(), headers=nobody, json={"data": {"name": "x"}}).status_code == 403


def test_a_tenant_admin_sees_and_changes_everything(
        client: Any, org: Org, deals: Any, admin_headers: Any) -> None:
    assert names(client.get(url(), headers=admin_headers)) == [
        "junior deal", "outsider deal", "rep deal"]
    changed = set_cost(client, admin_headers, deals["outsider"], 3)
    assert changed["cost"] == 3
    assert client.delete(url(record_id=changed["id"]), headers=admin_headers).status_code == 200


def test_an_app_without_roles_is_open_to_the_tenant(
        client: Any, tenant: Any, admin_headers: Any, make_user: Any, auth_headers: Any) -> None:
    publish(client, admin_headers, sales_app(roles=False))
    first = auth_headers(make_user(tenant, "first"))
    second = auth_headers(make_user(tenant, "second"))
    created = client.post(url(), headers=first, json={"data": {"name": "d", "cost": 5}})
    assert created.status_code == 201
    deal = created.get_json()
    assert names(client.get(url(), headers=second)) == ["d"]
    changed = client.patch(url(record_id=deal["id"]), headers=second,
                           json={"version": deal["version"], "data": {"cost": 6}})
    assert changed.status_code == 200 and changed.get_json()["cost"] == 6
    assert client.delete(url(record_id=deal["id"]), headers=second).status_code == 200
    # configuring stays with tenant admins
    assert client.get(f"/api/apps/{APP}/draft", headers=second).status_code == 403


def download_status(client: Any, file_id: str, headers: Any) -> int:
    response = client.get(f"/api/files/{file_id}", headers=headers)
    response.close()
    return int(response.status_code)


def test_attachments_are_reached_through_readable_records(
        client: Any, org: Org, auth_headers: Any) -> None:
    rep = auth_headers(org.rep)
    contract = upload(client, rep, b"%PDF-1.4 contract", "contract.pdf").get_json()
    stray = upload(client, rep, b"not attached", "stray.txt").get_json()
    assert download_status(client, contract["id"], rep) == 200  # the uploader's own file
    created = client.post(url(), headers=rep, json={
        "data": {"name": "with contract", "contract": [contract["id"]]}})
    assert created.status_code == 201
    expected = {"boss": 200, "auditor": 200, "junior": 404, "outsider": 404, "nobody": 404}
    for name, status in expected.items():
        headers = auth_headers(getattr(org, name))
        assert download_status(client, contract["id"], headers) == status, name
        assert download_status(client, stray["id"], headers) == 404, name


def test_app_admins_configure_their_app(
        client: Any, org: Org, auth_headers: Any) -> None:
    designer = auth_headers(org.designer)
    draft = client.get(f"/api/apps/{APP}/draft", headers=designer)
    assert draft.status_code == 200
    definition = draft.get_json()["definition"]
    definition["title"] = {"zh-CN": "销售二期", "en": "Sales 2"}
    saved = client.put(f"/api/apps/{APP}/draft", headers=designer,
                       json={"definition": definition})
    assert saved.status_code == 200, saved.get_json()
    assert client.post(f"/api/apps/{APP}/publish", headers=designer).status_code == 200
    for user in (org.rep, org.boss, org.auditor):
        assert client.get(f"/api/apps/{APP}/draft",
                          headers=auth_headers(user)).status_code == 403
    assert client.post("/api/apps", headers=designer,
                       json={"definition": sales_app() | {"key": "other"}}).status_code == 403


def test_several_roles_add_up(
        client: Any, org: Org, deals: Any, auth_headers: Any, tenant: Any,
        make_user: Any) -> None:
    both = auth_headers(make_user(tenant, "lead", roles=("rep", "manager"),
                                  team="west"))
    theirs = deals["outsider"]  # west's deal: reached through the manager role only
    listed = client.get(url(), headers=both)
    assert names(listed) == ["outsider deal"]
    assert "cost" in listed.get_json()["items"][0]  # the manager role does not hide it
    changed = client.patch(url(record_id=theirs["id"]), headers=both, json={
        "version": theirs["version"], "data": {"approved": True, "cost": 2}})
    assert changed.status_code == 200, changed.get_json()
    # deleting comes from the rep role, whose scope is the user's own deals only
    assert client.delete(url(record_id=theirs["id"]), headers=both).status_code == 403
    own = client.post(url(), headers=both, json={"data": {"name": "lead deal"}}).get_json()
    assert client.delete(url(record_id=own["id"]), headers=both).status_code == 200
    rep = auth_headers(org.rep)
    assert client.patch(url(record_id=theirs["id"]), headers=rep, json={
        "version": 1, "data": {"name": "x"}}).status_code == 404


def test_roles_that_only_name_approvers_leave_the_app_open(
        client: Any, tenant: Any, admin_headers: Any, make_user: Any, auth_headers: Any) -> None:
    definition = sales_app(roles=False)
    definition["roles"] = [{"key": "finance", "title": {"zh-CN": "财务"}}]
    publish(client, admin_headers, definition)
    anyone = auth_headers(make_user(tenant, "anyone"))
    created = client.post(url(), headers=anyone, json={"data": {"name": "d", "cost": 1}})
    assert created.status_code == 201 and created.get_json()["cost"] == 1
