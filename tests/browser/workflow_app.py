"""A small sales app written for the browser tests of kanban, stage flows, approvals and
inline rows: customers, opportunities moving through a funnel whose criteria name a field
and decision-chain members (to leave 需求确认), and quotes with lines that a low price
sends to three approvers. People work in it through the roles ``sales``, ``finance`` and
``general_manager``."""

from __future__ import annotations

from typing import Any

from tests.definitions import entity, field, minimal_app, option, title


def sales_app() -> dict[str, Any]:
    customer = entity("customer", "客户", "Customer", [
        field("name", "text", "客户名称", "Name", required=True)], title_field="name")
    opportunity = entity("opportunity", "商机", "Opportunity", [
        field("name", "text", "商机名称", "Name", required=True),
        field("customer", "relation", "客户", "Customer", entity="customer"),
        field("stage", "select", "阶段", "Stage", options=[
            option("lead", "初步接洽", "First contact"),
            option("needs", "需求确认", "Needs confirmed"),
            option("proposal", "方案报价", "Proposal"),
            option("won", "赢单", "Won"), option("lost", "输单", "Lost")]),
        field("amount", "money", "金额", "Amount"),
        field("needs_summary", "long_text", "需求摘要", "Needs summary"),
        field("lost_reason", "long_text", "输单原因", "Lost reason"),
    ], title_field="name", views=[{
        "key": "pipeline", "title": title("销售漏斗", "Pipeline"), "type": "kanban",
        "group_by": "stage", "columns": ["customer", "amount"]}])
    member = entity("decision_member", "决策人", "Decision maker", [
        field("name", "text", "姓名", "Name", required=True),
        field("role", "text", "职务", "Role"),
        field("opportunity", "relation", "商机", "Opportunity", entity="opportunity",
              required=True)], title_field="name")
    quote = entity("quote", "报价单", "Quote", [
        field("name", "text", "报价名称", "Name", required=True),
        field("opportunity", "relation", "商机", "Opportunity", entity="opportunity"),
        field("list_price", "money", "目录价", "List price", required=True),
        field("price", "money", "报价", "Price", required=True),
        field("price_ratio", "formula", "价格比例", "Price ratio", result_type="number",
              precision=4, expression={"if": [{">": [{"var": "list_price"}, 0]},
                                              {"/": [{"var": "price"}, {"var": "list_price"}]},
                                              1]}),
        field("lines", "subtable", "报价明细", "Lines", entity="quote_line"),
        field("approval_status", "select", "审批状态", "Approval status", options=[
            option("approved", "已批准", "Approved"), option("rejected", "已驳回", "Rejected")]),
    ], title_field="name")
    line = entity("quote_line", "报价明细", "Quote line", [
        field("product", "text", "产品", "Product", required=True),
        field("quantity", "number", "数量", "Quantity", min=1),
        field("unit_price", "money", "单价", "Unit price"),
        field("line_total", "formula", "小计", "Line total", result_type="number", precision=2,
              expression={"*": [{"var": "quantity"}, {"var": "unit_price"}]}),
    ], title_field="product")
    return minimal_app(
        customer, opportunity, member, quote, line, key="sales",
        title=title("销售管理", "Sales"),
        stage_flows=[{
            "key": "funnel", "title": title("销售漏斗", "Funnel"), "entity": "opportunity",
            "field": "stage", "amount_field": "amount", "stages": [
                {"key": "lead", "probability": 10},
                {"key": "needs", "probability": 30, "entry": {"!!": {"var": "customer"}},
                 "deliverables": [
                     {"field": "needs_summary"},
                     {"entity": "decision_member", "field": "opportunity", "min_count": 1}]},
                {"key": "proposal", "probability": 60},
                {"key": "won", "probability": 100, "terminal": "won"},
                {"key": "lost", "probability": 0, "terminal": "lost",
                 "reason_field": "lost_reason"}],
        }],
        approval_chains=[{
            "key": "low_price", "title": title("低价审批", "Low price approval"),
            "entity": "quote", "when": {"<": [{"var": "price_ratio"}, 0.85]},
            "steps": [
                {"key": "manager", "title": title("直属上级", "Manager"),
                 "approver": {"type": "manager_of", "of": "submitter"}},
                {"key": "finance", "title": title("财务", "Finance"),
                 "approver": {"type": "role", "role": "finance"}},
                {"key": "general_manager", "title": title("总经理", "General manager"),
                 "approver": {"type": "role", "role": "general_manager"}}],
            "on_approved": {"set": {"approval_status": "approved"}},
            "on_rejected": {"set": {"approval_status": "rejected"}}}],
        roles=[{"key": key, "title": title(zh, en), "permissions": [
            {"entity": "*", "actions": ["read", "create", "update", "delete", "export",
                                         "approve"]}]}
            for key, zh, en in (("sales", "销售", "Sales"), ("finance", "财务", "Finance"),
                                ("general_manager", "总经理", "General manager"))])

