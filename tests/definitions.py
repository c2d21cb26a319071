"""Reusable app definitions for tests: small builders and ``full_app()``.

``full_app()`` is a valid CRM-style app that uses every built-in field type; tests across
the suite rely on its keys, so change it only by adding.
"""

from __future__ import annotations

import copy
from typing import Any


def title(zh: str, en: str | None = None) -> dict[str, str]:
    return {"zh-CN": zh, "en": en} if en else {"zh-CN": zh}


def field(key: str, type_: str, zh: str, en: str | None = None, **props: Any) -> dict[str, Any]:
    return {"key": key, "type": type_, "title": title(zh, en), **props}


def option(key: str, zh: str, en: str | None = None, **props: Any) -> dict[str, Any]:
    return {"key": key, "title": title(zh, en), **props}


def entity(key: str, zh: str, en: str | None = None, fields: list[dict[str, Any]] | None = None,
           **props: Any) -> dict[str, Any]:
    return {"key": key, "title": title(zh, en), "fields": list(fields or []), **props}


def minimal_app(*entities: dict[str, Any], **props: Any) -> dict[str, Any]:
    """An app with the given entities (one ``item`` entity with a ``name`` if none)."""
    chosen = list(entities) or [entity("item", "条目", "Item",
                                       [field("name", "text", "名称", "Name")])]
    return {"format": 1, "key": "demo", "version": "1.0.0", "title": title("演示", "Demo"),
            "entities": chosen, **props}


def customer() -> dict[str, Any]:
    return entity("customer", "客户", "Customer", [
        field("code", "autonumber", "客户编号", "Customer No.", template="KH-{YYYY}-{seq:5}"),
        field("name", "text", "客户名称", "Name", required=True, unique=True, max_length=200),
        field("industry", "select", "行业", "Industry", options=[
            option("manufacturing", "制造业", "Manufacturing", color="blue"),
            option("finance", "金融", "Finance", color="green"),
            option("retail", "零售", "Retail")]),
        field("tags", "multi_select", "标签", "Tags", options=[
            option("key_account", "重点客户", "Key account"),
            option("partner", "合作伙伴", "Partner")]),
        field("email", "email", "邮箱", "Email"),
        field("phone", "phone", "电话", "Phone"),
        field("website", "url", "网址", "Website"),
        field("account_manager", "user", "客户经理", "Account manager"),
        field("logo", "image", "标志", "Logo", multiple=False, max_files=1),
        field("notes", "long_text", "备注", "Notes"),
        field("active", "boolean", "有效", "Active", default=True),
        field("founded_on", "date", "成立日期", "Founded on", min="1900-01-01"),
    ], title_field="name",
        forms=[{"key": "main", "title": title("客户信息", "Customer"), "sections": [
            {"title": title("基本信息", "Basics"), "columns": 2,
             "fields": ["name", "industry", "tags", "account_manager"]},
            {"title": title("联系方式", "Contact"), "columns": 2,
             "fields": ["email", "phone", "website"]}]}],
        views=[{"key": "all", "title": title("全部客户", "All customers"), "type": "list",
                "columns": ["code", "name", "industry", "account_manager"],
                "sort": [{"field": "created_at", "desc": True}]}])


def opportunity() -> dict[str, Any]:
    return entity("opportunity", "商机", "Opportunity", [
        field("name", "text", "商机名称", "Name", required=True),
        field("customer", "relation", "客户", "Customer", entity="customer", required=True),
        field("stage", "select", "阶段", "Stage", options=[
            option("lead", "线索", "Lead"),
            option("tech_exchange", "技术交流", "Technical exchange"),
            option("proposal", "方案报价", "Proposal"),
            option("won", "赢单", "Won"),
            option("lost", "输单", "Lost")], default="lead"),
        field("amount", "money", "金额", "Amount", precision=2, currency="CNY", min=0),
        field("probability", "percent", "赢率", "Probability", precision=0, min=0, max=100),
        field("expected_close", "date", "预计成交日期", "Expected close"),
        field("last_contact", "datetime", "最近联系", "Last contact"),
        field("site_survey_report", "attachment", "现场勘查报告", "Site survey report",
              multiple=True, max_files=5, accept=[".pdf", ".docx"]),
        field("sales_rep", "user", "销售代表", "Sales rep"),
        field("lost_reason", "long_text", "输单原因", "Lost reason",
              required_when={"==": [{"var": "stage"}, "lost"]},
              visible_when={"in": [{"var": "stage"}, ["lost"]]}),
    ], title_field="name",
        validations=[{"key": "amount_positive", "rule": {">=": [{"var": "amount"}, 0]},
                      "message": title("金额不能为负", "Amount cannot be negative"),
                      "fields": ["amount"]}],
        views=[{"key": "pipeline", "title": title("销售漏斗", "Pipeline"), "type": "kanban",
                "columns": ["name", "customer", "amount"], "group_by": "stage",
                "filter": {"!=": [{"var": "stage"}, "lost"]}}])


def quote() -> dict[str, Any]:
    return entity("quote", "报价单", "Quote", [
        field("code", "autonumber", "报价单号", "Quote No.", template="BJ-{YY}{MM}-{seq:4}"),
        field("opportunity", "relation", "商机", "Opportunity", entity="opportunity",
              required=True),
        field("list_price", "money", "目录价", "List price"),
        field("price", "money", "报价", "Price", required=True),
        field("price_ratio", "formula", "价格比例", "Price ratio", result_type="number",
              precision=4, expression={"if": [
                  {">": [{"var": "list_price"}, 0]},
                  {"/": [{"var": "price"}, {"var": "list_price"}]}, 1]}),
        field("lines", "subtable", "报价明细", "Lines", entity="quote_line"),
        field("approval_status", "select", "审批状态", "Approval status", options=[
            option("draft", "草稿", "Draft"), option("approved", "已批准", "Approved"),
            option("rejected", "已驳回", "Rejected")]),
    ], title_field="code")


def quote_line() -> dict[str, Any]:
    return entity("quote_line", "报价明细", "Quote line", [
        field("product", "text", "产品", "Product", required=True),
        field("quantity", "number", "数量", "Quantity", precision=0, min=1),
        field("unit_price", "money", "单价", "Unit price"),
        field("line_total", "formula", "小计", "Line total", result_type="number",
              precision=2, expression={"*": [{"var": "quantity"}, {"var": "unit_price"}]}),
    ], title_field="product")


def full_app() -> dict[str, Any]:
    """A valid app covering every built-in field type and each kind of process."""
    return copy.deepcopy({
        "format": 1, "key": "crm", "version": "1.0.0", "title": title("客户管理", "CRM"),
        "description": title("客户、商机与报价", "Customers, opportunities and quotes"),
        "entities": [customer(), opportunity(), quote(), quote_line()],
        "stage_flows": [{
            "key": "funnel", "title": title("销售漏斗", "Funnel"), "entity": "opportunity",
            "field": "stage", "allow_back": True, "allow_skip": False, "stages": [
                {"key": "lead", "title": title("线索", "Lead"), "probability": 10},
                {"key": "tech_exchange", "probability": 30, "sla_hours": 48,
                 "entry": {"!!": {"var": "customer"}}},
                {"key": "proposal", "probability": 60,
                 "deliverables": [{"field": "site_survey_report", "min_count": 1,
                                   "message": title("请上传现场勘查报告",
                                                    "Upload the site survey report")}]},
                {"key": "won", "probability": 100, "terminal": "won"},
                {"key": "lost", "probability": 0, "terminal": "lost",
                 "reason_field": "lost_reason"}],
            "transitions": [{"from": "lead", "to": "tech_exchange"},
                            {"from": "tech_exchange", "to": "proposal"},
                            {"from": "proposal", "to": "won"},
                            {"from": "proposal", "to": "lost"}]}],
        "approval_chains": [{
            "key": "low_price", "title": title("低价审批", "Low price approval"),
            "entity": "quote", "trigger": "submit",
            "when": {"<": [{"var": "price_ratio"}, 0.85]},
            "steps": [
                {"key": "manager", "title": title("直属上级", "Manager"), "mode": "any",
                 "approver": {"type": "manager_of", "of": "submitter"}},
                {"key": "finance", "title": title("财务", "Finance"), "mode": "any",
                 "approver": {"type": "role", "role": "finance"}},
                {"key": "general_manager", "title": title("总经理", "General manager"),
                 "mode": "any", "approver": {"type": "role", "role": "general_manager"}}],
            "on_reject": "submitter", "lock_record": True,
            "on_approved": {"set": {"approval_status": "approved"}},
            "on_rejected": {"set": {"approval_status": "rejected"}}}],
        "automations": [{
            "key": "won_notice", "title": title("赢单通知", "Won notice"),
            "entity": "opportunity", "enabled": True,
            "trigger": {"type": "field_changed", "field": "stage"},
            "condition": {"==": [{"var": "stage"}, "won"]},
            "actions": [{"type": "notify", "to": "owner",
                         "message": title("商机已赢单", "Opportunity won")}]}],
        "assignment_rules": [{
            "key": "assign_customer", "title": title("客户分配", "Customer assignment"),
            "entity": "customer", "field": "account_manager",
            "rules": [{"when": {"==": [{"var": "industry"}, "finance"]},
                       "pool": {"role": "finance"}, "strategy": "round_robin"}]}],
        "sla_policies": [{
            "key": "first_contact", "title": title("首次联系", "First contact"),
            "entity": "opportunity", "start": "created",
            "stop": {"!!": {"var": "last_contact"}}, "minutes": 1440,
            "working_hours": {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"},
            "escalations": [{"key": "remind", "offset_minutes": 0,
                             "action": {"type": "notify", "to": "owner"}}]}],
        "metrics": [{
            "key": "won_amount", "title": title("赢单金额", "Won amount"),
            "entity": "opportunity", "aggregate": "sum", "field": "amount",
            "filter": {"==": [{"var": "stage"}, "won"]}, "time_field": "expected_close",
            "period": "month"}],
        "dashboards": [{
            "key": "sales", "title": title("销售看板", "Sales"),
            "widgets": [{"key": "won_trend", "type": "line", "title": title("赢单趋势", "Won"),
                         "metrics": ["won_amount"], "options": {"smooth": True},
                         "layout": {"x": 0, "y": 0, "w": 6, "h": 4}}]}],
        "roles": [
            {"key": "finance", "title": title("财务", "Finance"), "permissions": [
                {"entity": "quote", "actions": ["read", "update"]},
                {"entity": "quote_line", "actions": ["read"]}]},
            {"key": "general_manager", "title": title("总经理", "General manager"),
             "permissions": [
                 {"entity": "opportunity", "actions": ["read", "export"],
                  "scope": {"!=": [{"var": "stage"}, "lost"]},
                  "fields": {"hidden": [], "readonly": ["amount"]}},
                 {"entity": "quote", "actions": ["read", "update", "delete"]}]}],
    })
