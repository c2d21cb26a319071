"""Field rules the server enforces on every write, driven over HTTP: ``visible_when``,
``readonly_when`` and the ``$count`` names in rules (files, sub-table rows, records pointing
at the record)."""

from __future__ import annotations

from typing import Any

from builder.runtime.records import RecordService, events
from builder.runtime.storage.tables import entity_store
from tests.definitions import entity, field, minimal_app, option, title
from tests.runtime.records.helpers import create, patch, problems, publish, records_url, upload


def _app() -> dict[str, Any]:
    deal = entity("deal", "交易", "Deal", [
        field("name", "text", "名称", "Name", required=True),
        field("status", "select", "状态", "Status", default="open", options=[
            option("open", "进行中", "Open"), option("lost", "输单", "Lost"),
            option("closed", "已关闭", "Closed")]),
        field("lost_reason", "text", "输单原因", "Lost reason", required=True,
              visible_when={"==": [{"var": "status"}, "lost"]}),
        field("locked", "boolean", "锁定", "Locked", default=False),
        field("amount", "money", "金额", "Amount",
              readonly_when={"==": [{"var": "locked"}, True]}),
        field("channel", "text", "渠道", "Channel", default="web",
              readonly_when={"!": {"var": "$user.roles"}}),
        field("photos", "attachment", "照片", "Photos", multiple=True, max_files=5),
        field("lines", "subtable", "明细", "Lines", entity="deal_line"),
        field("line_count", "formula", "明细行数", "Line count", result_type="number",
              precision=0, expression={"var": "$count.lines"}),
        field("members_seen", "formula", "成员数", "Members", result_type="number",
              precision=0, expression={"var": "$count.member.deal"}),
    ], validations=[
        {"key": "closing_needs_photos",
         "rule": {"or": [{"!=": [{"var": "status"}, "closed"]},
                         {">=": [{"var": "$count.photos"}, 2]}]},
         "message": title("关闭前至少上传 2 张照片", "Upload at least 2 photos before closing"),
         "fields": ["photos"]},
        {"key": "closing_needs_lines",
         "rule": {"or": [{"!=": [{"var": "status"}, "closed"]},
                         {">": [{"var": "$count.lines"}, 0]}]},
         "message": title("关闭前至少填写一行明细", "Add a line before closing"),
         "fields": ["lines"]},
        {"key": "closing_needs_members",
         "rule": {"or": [{"!=": [{"var": "status"}, "closed"]},
                         {">=": [{"var": "$count.member.deal"}, 1]}]},
         "message": title("关闭前至少登记一位决策人", "Register a decision maker first")}])
    line = entity("deal_line", "明细", "Line", [
        field("product", "text", "产品", "Product", required=True),
        field("note", "text", "备注", "Note",
              visible_when={"!!": {"var": "product"}})])
    member = entity("member", "决策人", "Decision maker", [
        field("person", "text", "姓名", "Name", required=True),
        field("deal", "relation", "交易", "Deal", entity="deal")])
    definition = minimal_app(deal, line, member)
    definition["key"] = "deals"
    return definition


def _url(entity_key: str = "deal") -> str:
    return records_url(entity_key, "deals")


def _create(client: Any, headers: Any, data: dict[str, Any], entity_key: str = "deal") -> Any:
    return create(client, headers, entity_key, data, app="deals")


def _patch(client: Any, headers: Any, record: dict[str, Any], data: dict[str, Any]) -> Any:
    return patch(client, headers, "deal", record, data, app="deals")


def test_hidden_fields_are_never_required_and_refuse_new_values(
        client: Any, admin_headers: Any) -> None:
    publish(client, admin_headers, _app())
    deal = _create(client, admin_headers, {"name": "一期"})  # lost_reason required but hidden
    assert deal["lost_reason"] is None

    sent = client.post(_url(), headers=admin_headers,
                       json={"data": {"name": "二期", "lost_reason": "价格"}})
    assert sent.status_code == 422 and problems(sent) == {"lost_reason": "hidden"}
    zh = client.post(_url(), headers={**admin_headers, "Accept-Language": "zh-CN"},
                     json={"data": {"name": "二期", "lost_reason": "价格"}}).get_json()
    assert zh["error"]["details"][0]["message"] == "该字段在当前记录中不显示，不能填写"
    en = client.post(_url(), headers={**admin_headers, "Accept-Language": "en"},
                     json={"data": {"name": "二期", "lost_reason": "价格"}}).get_json()
    assert "hidden" in en["error"]["details"][0]["message"]
    # empty is no value
    assert client.post(_url(), headers=admin_headers, json={
        "data": {"name": "三期", "lost_reason": ""}}).status_code == 201

    # visible once the status is lost: then required, and accepted
    missing = _patch(client, admin_headers, deal, {"status": "lost"})
    assert problems(missing) == {"lost_reason": "required"}
    lost = _patch(client, admin_headers, deal, {"status": "lost", "lost_reason": "价格太高"})
    assert lost.status_code == 200, lost.get_json()
    lost = lost.get_json()

    # hidden again: the stored value is kept, sending it back unchanged is fine
    reopened = _patch(client, admin_headers, lost, {"status": "open"}).get_json()
    assert reopened["lost_reason"] == "价格太高"
    echoed = _patch(client, admin_headers, reopened, dict(reopened))
    assert echoed.status_code == 200, echoed.get_json()
    changed = _patch(client, admin_headers, reopened, {"lost_reason": "别的"})
    assert problems(changed) == {"lost_reason": "hidden"}
    cleared = _patch(client, admin_headers, reopened, {"lost_reason": None})
    assert problems(cleared) == {"lost_reason": "hidden"}
    # hiding and changing in one request is refused too
    both = _patch(client, admin_headers, lost, {"status": "open", "lost_reason": "新原因"})
    assert both.status_code == 409  # lost is stale: the record moved on
    both = _patch(client, admin_headers, reopened,
                  {"status": "closed", "lost_reason": "新原因"})
    assert problems(both)["lost_reason"] == "hidden"


def test_hidden_child_fields(client: Any, admin_headers: Any) -> None:
    publish(client, admin_headers, _app())
    lines = [{"product": "阀门", "note": "ok"}, {"product": "", "note": "x"}]
    refused = client.post(_url(), headers=admin_headers,
                          json={"data": {"name": "一期", "lines": lines}})
    assert problems(refused) == {"lines[1].product": "required", "lines[1].note": "hidden"}


def test_readonly_fields_cannot_change_unless_an_engine_writes(
        client: Any, admin: Any, admin_headers: Any, make_user: Any, tenant: Any,
        auth_headers: Any) -> None:
    publish(client, admin_headers, _app())
    deal = _create(client, admin_headers, {"name": "一期", "amount": 100})
    # locking and changing the amount in one save: the rule reads the record as it was
    locked = _patch(client, admin_headers, deal, {"locked": True, "amount": 120})
    assert locked.status_code == 200, locked.get_json()
    locked = locked.get_json()
    refused = _patch(client, admin_headers, locked, {"amount": 150})
    assert refused.status_code == 422 and problems(refused) == {"amount": "readonly"}
    message = client.patch(f"{_url()}/{deal['id']}", json={"version": locked["version"],
                           "data": {"amount": 1}},
                           headers={**admin_headers, "Accept-Language": "en"}).get_json()
    assert "read-only" in message["error"]["details"][0]["message"]
    same = _patch(client, admin_headers, locked, {"amount": "120.00", "name": "一期改"})
    assert same.status_code == 200, same.get_json()
    assert same.get_json()["amount"] == 120

    # an engine acting for itself may write it
    service = RecordService(entity_store(admin.tenant_id, "deals", "deal"), admin)
    with events.acting("test_engine"):
        written = service.update(deal["id"], {"amount": 99}, same.get_json()["version"])
    assert written["amount"] == 99

    # on create the rule reads the proposed record: a user without roles may not pick a
    # channel, but sending the default back is no change
    rep = make_user(tenant, "rep")
    rep_headers = auth_headers(rep)
    refused = client.post(_url(), headers=rep_headers,
                          json={"data": {"name": "二期", "channel": "partner"}})
    assert problems(refused) == {"channel": "readonly"}
    created = _create(client, rep_headers, {"name": "二期", "channel": "web"})
    assert created["channel"] == "web"
    sales = make_user(tenant, "sales", roles=["sales"])
    assert _create(client, auth_headers(sales),
                   {"name": "三期", "channel": "partner"})["channel"] == "partner"


def test_counts_of_files_rows_and_pointing_records(client: Any, admin_headers: Any) -> None:
    publish(client, admin_headers, _app())
    photo = upload(client, admin_headers, b"p1", "a.jpg").get_json()
    other = upload(client, admin_headers, b"p2", "b.jpg").get_json()
    deal = _create(client, admin_headers, {"name": "一期", "photos": [photo["id"]],
                                           "lines": [{"product": "阀门"}, {"product": "泵"}]})
    assert deal["line_count"] == 2 and deal["members_seen"] == 0

    refused = _patch(client, admin_headers, deal, {"status": "closed", "lines": []})
    assert problems(refused) == {"photos": "closing_needs_photos",
                                 "lines": "closing_needs_lines",
                                 "$": "closing_needs_members"}
    en = client.patch(f"{_url()}/{deal['id']}", headers={**admin_headers, "Accept-Language": "en"},
                      json={"version": deal["version"], "data": {"status": "closed"}}).get_json()
    assert {d["message"] for d in en["error"]["details"]} == {
        "Upload at least 2 photos before closing", "Register a decision maker first"}

    _create(client, admin_headers, {"person": "王主任", "deal": deal["id"]}, "member")
    gone = _create(client, admin_headers, {"person": "李科长", "deal": deal["id"]}, "member")
    client.delete(f"{_url('member')}/{gone['id']}", headers=admin_headers)
    closed = _patch(client, admin_headers, deal,
                    {"status": "closed", "photos": [photo["id"], other["id"]]})
    assert closed.status_code == 200, closed.get_json()
    closed = closed.get_json()
    assert closed["members_seen"] == 1  # the deleted member does not count
    assert closed["line_count"] == 2


def test_the_linker_checks_count_names(client: Any, admin_headers: Any) -> None:
    definition = _app()
    deal = definition["entities"][0]
    deal["validations"].append({"key": "bad", "message": title("错", "Wrong"), "rule": {"and": [
        {"var": "$count.name"}, {"var": "$count.nothing.deal"}, {"var": "$count.member"},
        {"var": "$count.member.person"}, {"var": "$count"}]}})
    response = client.post("/api/apps", json={"definition": definition}, headers=admin_headers)
    assert response.status_code == 422
    bad = {d["path"]: d["code"] for d in response.get_json()["error"]["details"]}
    assert bad == {f"entities[0].validations[3].rule.and[{i}].var": "unknown_field"
                   for i in range(5)}
