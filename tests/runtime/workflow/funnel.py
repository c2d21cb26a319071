"""A six-stage sales funnel written for the stage-flow tests (not a market template).

初步接洽 → 需求确认 → 技术交流 → 方案报价 → 商务谈判 → 赢单 / 输单, on ``opportunity``:

- 需求确认 needs a budget to enter; to leave it, a needs summary and at least two
  decision-chain members (``decision_member`` records pointing at the opportunity);
- 技术交流 needs a site-survey report uploaded to enter; to leave it, two rows of technical
  parameters;
- 方案报价 needs a quoted amount no higher than the amount to enter;
- 商务谈判 needs the signed contract uploaded to leave;
- 输单 needs a lost reason (a field shown only for lost opportunities).
"""

from __future__ import annotations

from typing import Any

from tests.definitions import entity, field, minimal_app, option, title

STAGES = ["initial", "needs", "tech", "quote", "negotiation", "won", "lost"]


def funnel_app(key: str = "sales", **flow: Any) -> dict[str, Any]:
    """The app; ``flow`` overrides properties of the stage flow (``allow_back``...)."""
    opportunity = entity("opportunity", "商机", "Opportunity", [
        field("name", "text", "商机名称", "Name", required=True),
        field("stage", "select", "阶段", "Stage", default="initial", options=[
            option("initial", "初步接洽", "First contact"),
            option("needs", "需求确认", "Needs confirmed"),
            option("tech", "技术交流", "Technical exchange"),
            option("quote", "方案报价", "Proposal"),
            option("negotiation", "商务谈判", "Negotiation"),
            option("won", "赢单", "Won"), option("lost", "输单", "Lost")]),
        field("amount", "money", "金额", "Amount"),
        field("budget", "money", "预算", "Budget"),
        field("region", "select", "区域", "Region", options=[
            option("east", "华东", "East"), option("west", "华西", "West")]),
        field("needs_summary", "long_text", "需求摘要", "Needs summary"),
        field("site_survey_report", "attachment", "现场勘测报告", "Site survey report",
              multiple=True, max_files=5),
        field("tech_params", "subtable", "技术参数", "Technical parameters",
              entity="tech_param"),
        field("quote_amount", "money", "报价金额", "Quoted amount"),
        field("contract", "attachment", "合同", "Contract", multiple=False),
        field("lost_reason", "long_text", "输单原因", "Lost reason",
              visible_when={"==": [{"var": "stage"}, "lost"]}),
    ], title_field="name")
    tech_param = entity("tech_param", "技术参数", "Technical parameter", [
        field("name", "text", "参数", "Parameter", required=True),
        field("value", "text", "取值", "Value")])
    member = entity("decision_member", "决策人", "Decision maker", [
        field("person", "text", "姓名", "Name", required=True),
        field("opportunity", "relation", "商机", "Opportunity", entity="opportunity")])
    definition = minimal_app(opportunity, tech_param, member)
    definition["key"] = key
    definition["stage_flows"] = [{
        "key": "funnel", "title": title("销售漏斗", "Sales funnel"), "entity": "opportunity",
        "field": "stage", "allow_back": True, "allow_skip": False, "auto_advance": True,
        "amount_field": "amount",
        "stages": [
            {"key": "initial", "probability": 10},
            {"key": "needs", "probability": 20, "entry": {"!!": {"var": "budget"}},
             "deliverables": [
                 {"field": "needs_summary"},
                 {"entity": "decision_member", "field": "opportunity", "min_count": 2}]},
            {"key": "tech", "probability": 40,
             "entry": {">=": [{"var": "$count.site_survey_report"}, 1]},
             "deliverables": [{"field": "tech_params", "min_count": 2}]},
            {"key": "quote", "probability": 60,
             "entry": {"and": [{"!!": {"var": "quote_amount"}},
                               {"<=": [{"var": "quote_amount"}, {"var": "amount"}]}]}},
            {"key": "negotiation", "probability": 80,
             "deliverables": [{"field": "contract", "min_count": 1,
                               "message": title("请上传双方签字的合同",
                                                "Upload the contract signed by both sides")}]},
            {"key": "won", "title": title("赢单", "Won"), "probability": 100,
             "terminal": "won"},
            {"key": "lost", "title": title("输单", "Lost"), "probability": 0,
             "terminal": "lost", "reason_field": "lost_reason"}],
        **flow}]
    return definition


def url(key: str = "sales", entity_key: str = "opportunity") -> str:
    return f"/api/apps/{key}/{entity_key}/records"


def move(client: Any, headers: Any, record: dict[str, Any], to: str, key: str = "sales",
         **body: Any) -> Any:
    """POST a transition of ``record`` (at its version) to ``to``."""
    return client.post(f"{url(key)}/{record['id']}/transition", headers=headers,
                       json={"to": to, "version": record["version"], **body})
