"""Stage flows driven over HTTP as a sales rep would: transitions refused with every
reason, the stage field guarded, auto-advance on save, back/skip rules, lost with a reason,
events for automations and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from builder.runtime.records import events
from tests.runtime.records.helpers import problems, publish, upload
from tests.runtime.workflow.funnel import funnel_app, move, url

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


def _create(client: Any, headers: Any, data: dict[str, Any], key: str = "sales",
            entity_key: str = "opportunity") -> dict[str, Any]:
    response = client.post(url(key, entity_key), json={"data": data}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _patch(client: Any, headers: Any, record: dict[str, Any], data: dict[str, Any],
           key: str = "sales") -> Any:
    return client.patch(f"{url(key)}/{record['id']}", headers=headers,
                        json={"version": record["version"], "data": data})


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def _messages(response: Any) -> dict[str, str]:
    return {d["path"]: d["message"] for d in response.get_json()["error"]["details"]}


@pytest.fixture
def sales(client: Any, admin_headers: Any) -> dict[str, Any]:
    return publish(client, admin_headers, funnel_app())


@pytest.fixture
def seen() -> Iterator[list[tuple[str, dict[str, Any], int, int | None]]]:
    """``(name, data, record id, user id)`` of each stage event, as subscribers get them."""
    got: list[tuple[str, dict[str, Any], int, int | None]] = []

    def note(event: events.ProcessEvent) -> None:
        got.append((event.name, dict(event.data), event.record_id, event.user_id))

    events.record_hooks.on("stage_entered", "test.stages")(note)
    events.record_hooks.on("stage_left", "test.stages")(note)
    yield got
    events.record_hooks.remove("test.stages")


def test_a_refused_transition_lists_every_unmet_condition(
        client: Any, admin_headers: Any, sales: Any) -> None:
    deal = _create(client, admin_headers, {"name": "阀门改造", "amount": 500000})
    assert deal["stage"] == "initial"

    refused = move(client, {**admin_headers, **ZH}, deal, "needs")
    assert refused.status_code == 422
    assert _messages(refused) == {"budget": "进入「需求确认」前，请填写「预算」"}
    assert refused.get_json()["error"]["message"] == "无法进入「需求确认」：还有 1 项未满足"
    deal = _ok(move(client, admin_headers, deal, "needs", data={"budget": 400000}))
    assert deal["stage"] == "needs" and deal["budget"] == 400000

    zh = move(client, {**admin_headers, **ZH}, deal, "tech")
    assert zh.status_code == 422 and problems(zh) == {
        "needs_summary": "deliverable", "decision_member": "deliverable",
        "site_survey_report": "entry_criteria"}
    assert _messages(zh) == {
        "needs_summary": "离开「需求确认」前，请填写「需求摘要」",
        "decision_member": "离开「需求确认」前，「决策人」至少需要 2 项（现有 0 项）",
        "site_survey_report": "进入「技术交流」前，「现场勘测报告」至少需要 1 项（现有 0 项）"}
    en = move(client, {**admin_headers, **EN}, deal, "tech")
    assert _messages(en) == {
        "needs_summary": 'Before leaving "Needs confirmed", fill in "Needs summary"',
        "decision_member": 'Before leaving "Needs confirmed", "Decision maker" needs at least '
                           '2 (now 0)',
        "site_survey_report": 'Before entering "Technical exchange", "Site survey report" '
                              'needs at least 1 (now 0)'}
    assert en.get_json()["error"]["message"] == \
        'Cannot move to "Technical exchange": 3 condition(s) not met'

    # field values sent with the move count, and bad ones are reported with the rest
    partly = move(client, {**admin_headers, **ZH}, deal, "tech",
                  data={"needs_summary": "产线改造", "budget": "很多"})
    assert problems(partly) == {"budget": "not_number", "decision_member": "deliverable",
                                "site_survey_report": "entry_criteria"}
    # nothing was saved by the refused moves
    current = _ok(client.get(f"{url()}/{deal['id']}", headers=admin_headers))
    assert current["version"] == deal["version"] and current["needs_summary"] is None


def test_the_stage_field_moves_only_by_transition(
        client: Any, admin_headers: Any, sales: Any) -> None:
    started = client.post(url(), headers={**admin_headers, **ZH},
                          json={"data": {"name": "跳级", "stage": "quote"}})
    assert started.status_code == 422 and problems(started) == {"stage": "stage_locked"}
    assert _messages(started)["stage"] == \
        "新记录的「阶段」从「初步接洽」开始，之后请通过推进阶段修改"
    bulk = client.post(f"{url()}/bulk", headers=admin_headers, json={
        "rows": [{"name": "甲"}, {"name": "乙", "stage": "won"}]})
    assert bulk.status_code == 422

    # no stage given at all: the flow puts the record at its first stage
    blank = _create(client, admin_headers, {"name": "空白", "stage": None})
    assert blank["stage"] == "initial"

    deal = _create(client, admin_headers, {"name": "直改", "budget": 1})
    patched = _patch(client, {**admin_headers, **EN}, deal, {"stage": "needs"})
    assert patched.status_code == 422 and problems(patched) == {"stage": "stage_locked"}
    assert _messages(patched)["stage"] == '"Stage" changes only through a stage transition'
    # sending the record back with its stage unchanged is fine
    deal = _ok(_patch(client, admin_headers, deal, dict(deal, name="直改2")))

    in_data = move(client, admin_headers, deal, "needs", data={"stage": "tech"})
    assert problems(in_data) == {"data.stage": "invalid"}
    unknown = move(client, admin_headers, deal, "nowhere")
    assert problems(unknown) == {"to": "unknown_stage"}
    stale = move(client, admin_headers, dict(deal, version=deal["version"] - 1), "needs")
    assert stale.status_code == 409
    assert stale.get_json()["error"]["current_version"] == deal["version"]
    assert _ok(move(client, admin_headers, deal, "needs"))["stage"] == "needs"


def test_moves_are_audited_and_announced(client: Any, admin: Any, admin_headers: Any,
                                         sales: Any, seen: list[Any]) -> None:
    deal = _create(client, admin_headers, {"name": "审计", "budget": 10})
    assert [e[:2] for e in seen] == [
        ("stage_entered", {"flow": "funnel", "from": None, "to": "initial"})]
    seen.clear()
    moved = _ok(move(client, admin_headers, deal, "needs"))
    assert seen == [
        ("stage_left", {"flow": "funnel", "from": "initial", "to": "needs"}, deal["id"], admin.id),
        ("stage_entered", {"flow": "funnel", "from": "initial", "to": "needs"}, deal["id"],
         admin.id)]

    history = _ok(client.get(f"{url()}/{deal['id']}/history", headers=admin_headers))
    latest = history["items"][0]
    assert latest["action"] == "update" and latest["user"]["id"] == admin.id
    assert latest["changes"]["stage"] == ["initial", "needs"]
    assert moved["version"] == deal["version"] + 1


def test_auto_advance_when_the_criteria_become_true_on_save(
        client: Any, admin_headers: Any, sales: Any, seen: list[Any]) -> None:
    deal = _create(client, admin_headers, {"name": "自动推进", "amount": 300000,
                                           "budget": 300000})
    # the first stage has no exit conditions: saving never moves it on by itself
    deal = _ok(_patch(client, admin_headers, deal, {"needs_summary": "早写好了"}))
    assert deal["stage"] == "initial"
    deal = _ok(move(client, admin_headers, deal, "needs"))

    for person in ("王主任", "李科长"):
        _create(client, admin_headers, {"person": person, "opportunity": deal["id"]},
                entity_key="decision_member")
    report = upload(client, admin_headers, b"%PDF survey", "勘测.pdf").get_json()
    # needs: summary and two members are there; the report makes 技术交流 enterable
    seen.clear()
    deal = _ok(_patch(client, admin_headers, deal, {"site_survey_report": [report["id"]]}))
    assert deal["stage"] == "tech"
    assert [(e[0], e[1]["to"]) for e in seen] == [("stage_left", "tech"),
                                                  ("stage_entered", "tech")]

    # two parameter rows meet the exit of 技术交流, but 方案报价 cannot be entered yet
    deal = _ok(_patch(client, admin_headers, deal, {"tech_params": [
        {"name": "口径", "value": "DN100"}, {"name": "压力", "value": "1.6MPa"}]}))
    assert deal["stage"] == "tech"
    # now it can: it moves on, and stops at 方案报价 (which has no exit conditions)
    deal = _ok(_patch(client, admin_headers, deal, {"quote_amount": 280000}))
    assert deal["stage"] == "quote"

    visits = _ok(client.get(f"{url()}/{deal['id']}/stages", headers=admin_headers))["items"]
    assert [(v["from"], v["to"], v["how"]) for v in visits] == [
        (None, "initial", "created"), ("initial", "needs", "manual"),
        ("needs", "tech", "auto"), ("tech", "quote", "auto")]
    assert [v["current"] for v in visits] == [False, False, False, True]


def test_back_and_skip_rules(client: Any, admin_headers: Any, sales: Any) -> None:
    deal = _create(client, admin_headers, {"name": "跳跃", "budget": 5})
    skip = move(client, {**admin_headers, **ZH}, deal, "tech")
    assert problems(skip) == {"to": "skip_not_allowed"}
    assert _messages(skip)["to"] == \
        "不能跳过阶段：「初步接洽」之后应先进入「需求确认」，不能直接到「技术交流」"
    same = move(client, admin_headers, deal, "initial")
    assert problems(same) == {"to": "same_stage"}
    deal = _ok(move(client, admin_headers, deal, "needs"))
    deal = _ok(move(client, admin_headers, deal, "initial"))  # allow_back
    assert deal["stage"] == "initial"
    won = move(client, admin_headers, deal, "won")
    assert problems(won) == {"to": "skip_not_allowed"}

    # another app: no going back, but skipping is allowed (criteria still apply)
    publish(client, admin_headers, funnel_app("strict", allow_back=False, allow_skip=True))
    other = _create(client, admin_headers, {"name": "严格", "budget": 5}, key="strict")
    jumped = move(client, admin_headers, other, "tech", key="strict")
    assert problems(jumped) == {"site_survey_report": "entry_criteria"}
    report = upload(client, admin_headers, b"%PDF", "r.pdf").get_json()
    other = _ok(move(client, admin_headers, other, "tech", key="strict",
                     data={"site_survey_report": [report["id"]]}))
    assert other["stage"] == "tech"
    back = move(client, {**admin_headers, **EN}, other, "needs", key="strict")
    assert problems(back) == {"to": "back_not_allowed"}
    assert _messages(back)["to"] == \
        '"Sales funnel" does not allow going back from "Technical exchange" to "Needs confirmed"'

    # a listed flow allows exactly its transitions (plus going back when allowed)
    publish(client, admin_headers, funnel_app("listed", transitions=[
        {"from": "initial", "to": "needs"}, {"from": "needs", "to": "lost"}]))
    listed = _create(client, admin_headers, {"name": "清单", "budget": 5}, key="listed")
    assert problems(move(client, admin_headers, listed, "lost", key="listed",
                         data={"lost_reason": "x"})) == {"to": "not_listed"}
    listed = _ok(move(client, admin_headers, listed, "needs", key="listed"))
    listed = _ok(move(client, admin_headers, listed, "lost", key="listed",
                      data={"lost_reason": "预算取消"}))
    assert listed["stage"] == "lost"


def test_lost_needs_a_reason_and_closed_deals_stay_closed(
        client: Any, admin_headers: Any, sales: Any) -> None:
    deal = _create(client, admin_headers, {"name": "丢单", "budget": 5})
    hidden = _patch(client, admin_headers, deal, {"lost_reason": "太早"})
    assert problems(hidden) == {"lost_reason": "hidden"}
    refused = move(client, {**admin_headers, **ZH}, deal, "lost")
    assert refused.status_code == 422
    assert _messages(refused) == {"lost_reason": "进入「输单」需要填写「输单原因」"}
    en = move(client, {**admin_headers, **EN}, deal, "lost")
    assert _messages(en) == {"lost_reason": 'Moving to "Lost" needs "Lost reason"'}
    lost = _ok(move(client, admin_headers, deal, "lost",
                    data={"lost_reason": "竞品价格低 15%"}))
    assert lost["stage"] == "lost" and lost["lost_reason"] == "竞品价格低 15%"
    visits = _ok(client.get(f"{url()}/{deal['id']}/stages", headers=admin_headers))["items"]
    assert visits[-1]["to"] == "lost" and visits[-1]["reason"] == "竞品价格低 15%"

    closed = move(client, admin_headers, lost, "won")
    assert problems(closed) == {"to": "closed"}
    # reopening is a move back: allowed by allow_back, and the reason is kept but hidden
    reopened = _ok(move(client, admin_headers, lost, "needs", reason="客户重新询价"))
    assert reopened["stage"] == "needs" and reopened["lost_reason"] == "竞品价格低 15%"
    visits = _ok(client.get(f"{url()}/{deal['id']}/stages", headers=admin_headers))["items"]
    assert visits[-1]["reason"] == "客户重新询价"


def test_won_after_the_contract_is_signed(client: Any, admin_headers: Any, sales: Any) -> None:
    deal = _create(client, admin_headers, {"name": "签约", "budget": 5, "amount": 100,
                                           "needs_summary": "x", "quote_amount": 90})
    for person in ("甲", "乙"):
        _create(client, admin_headers, {"person": person, "opportunity": deal["id"]},
                entity_key="decision_member")
    report = upload(client, admin_headers, b"%PDF", "r.pdf").get_json()
    deal = _ok(move(client, admin_headers, deal, "needs"))
    deal = _ok(move(client, admin_headers, deal, "tech",
                    data={"site_survey_report": [report["id"]]}))
    deal = _ok(move(client, admin_headers, deal, "quote",
                    data={"tech_params": [{"name": "a"}, {"name": "b"}]}))
    deal = _ok(move(client, admin_headers, deal, "negotiation"))
    refused = move(client, {**admin_headers, **ZH}, deal, "won")
    assert _messages(refused) == {"contract": "请上传双方签字的合同"}
    contract = upload(client, admin_headers, b"%PDF signed", "合同.pdf").get_json()
    # uploading the contract meets the exit of 商务谈判: auto-advance wins the deal
    deal = _ok(_patch(client, admin_headers, deal, {"contract": [contract["id"]]}))
    assert deal["stage"] == "won"
