"""Diff of two definitions: matched by key, deterministic, summarized in both languages."""

from __future__ import annotations

from typing import Any

from builder.schema import Change, diff, summarize, validate_definition
from tests.definitions import field, full_app


def app() -> dict[str, Any]:
    return validate_definition(full_app())


def ops(changes: list[Change]) -> list[tuple[str, str, tuple[str, ...], list[str]]]:
    return [(c.op, c.kind, c.path, c.properties) for c in changes]


def test_no_change() -> None:
    assert diff(app(), app()) == []


def test_new_app_adds_everything_in_order() -> None:
    changes = diff(None, app())
    assert changes[0] == Change("add", "app", (), None, changes[0].after)
    assert "entities" not in changes[0].after and changes[0].after["key"] == "crm"
    assert all(c.op == "add" for c in changes)
    kinds = [c.kind for c in changes]
    assert kinds.index("entity") < kinds.index("field") < kinds.index("stage_flow")
    assert ("add", "field", ("customer", "code"), []) in ops(changes)
    assert ("add", "stage", ("funnel", "won"), []) in ops(changes)
    entity = next(c for c in changes if c.kind == "entity")
    assert "fields" not in entity.after
    assert diff(None, app()) == changes


def test_add_remove_and_change_fields() -> None:
    old, new = app(), app()
    customer = new["entities"][0]
    customer["fields"].append(field("budget", "money", "预算", "Budget"))
    del customer["fields"][6]  # website
    customer["fields"][1]["required"] = False
    assert ops(diff(old, new)) == [
        ("change", "field", ("customer", "name"), ["required"]),
        ("add", "field", ("customer", "budget"), []),
        ("remove", "field", ("customer", "website"), []),
    ]


def test_rename_of_a_key_is_remove_and_add() -> None:
    old, new = app(), app()
    new["metrics"][0]["key"] = "won_total"
    new["dashboards"][0]["widgets"][0]["metrics"] = ["won_total"]
    assert ops(diff(old, new)) == [
        ("add", "metric", ("won_total",), []),
        ("remove", "metric", ("won_amount",), []),
        ("change", "dashboard", ("sales",), ["widgets"]),
    ]


def test_reorder_marks_only_moved_items() -> None:
    old, new = app(), app()
    fields = new["entities"][0]["fields"]
    fields.insert(0, fields.pop(5))  # phone first
    assert ops(diff(old, new)) == [("change", "field", ("customer", "phone"), ["order"])]


def test_reorder_of_entities_and_stages() -> None:
    old, new = app(), app()
    new["entities"].reverse()
    changes = ops(diff(old, new))
    assert {c[2] for c in changes} == {("quote",), ("opportunity",), ("customer",)}
    assert all(c[1] == "entity" and c[3] == ["order"] for c in changes)


def test_type_change_and_stage_change() -> None:
    old, new = app(), app()
    new["entities"][1]["fields"][3]["type"] = "text"
    new["entities"][1]["fields"][3].pop("precision")
    new["entities"][1]["fields"][3].pop("currency")
    new["stage_flows"][0]["stages"][1]["sla_hours"] = 24
    new["stage_flows"][0]["allow_skip"] = True
    assert ops(diff(old, new)) == [
        ("change", "field", ("opportunity", "amount"), ["currency", "precision", "type"]),
        ("change", "stage_flow", ("funnel",), ["allow_skip"]),
        ("change", "stage", ("funnel", "tech_exchange"), ["sla_hours"]),
    ]


def test_removed_entity_removes_its_children() -> None:
    old, new = app(), app()
    del new["entities"][3]
    new["entities"][2]["fields"].pop(5)  # lines
    changes = ops(diff(old, new))
    assert changes[0] == ("remove", "field", ("quote", "lines"), [])
    assert changes[1] == ("remove", "entity", ("quote_line",), [])
    assert {c[2] for c in changes[2:]} == {("quote_line", f) for f in
                                           ("product", "quantity", "unit_price", "line_total")}


def test_app_properties_and_processes() -> None:
    old, new = app(), app()
    new["version"] = "1.1.0"
    new["approval_chains"][0]["steps"].pop()
    new["roles"][0]["title"] = {"zh-CN": "财务部", "en": "Finance dept."}
    assert ops(diff(old, new)) == [
        ("change", "app", (), ["version"]),
        ("change", "approval_chain", ("low_price",), ["steps"]),
        ("change", "role", ("finance",), ["title"]),
    ]


def test_summaries_in_chinese() -> None:
    old, new = app(), app()
    customer = new["entities"][0]
    customer["fields"].append(field("budget", "number", "预算", "Budget"))
    amount = new["entities"][1]["fields"][3]
    amount.update(type="text")
    amount.pop("precision"), amount.pop("currency")
    new["entities"][1]["fields"][0]["title"] = {"zh-CN": "商机标题", "en": "Title"}
    del new["entities"][0]["fields"][6]
    sentences = summarize(diff(old, new), "zh-CN")
    assert sentences == [
        "新增字段「预算」",
        "删除字段「网址」",
        "字段「商机名称」改名为「商机标题」",
        "字段「金额」类型从 金额 改为 单行文本",
        "修改字段「金额」的币种、小数位数",
    ]


def test_summaries_in_english() -> None:
    old, new = app(), app()
    fields = new["entities"][0]["fields"]
    fields.insert(0, fields.pop(5))
    new["metrics"][0]["period"] = "week"
    sentences = summarize(diff(old, new), "en")
    assert sentences[0] == "Moved field “Phone”"
    assert sentences[1].startswith("Changed the period of metric “Won amount”")
    assert summarize(diff(None, app()), "en")[0] == "Added app “CRM”"


def test_change_as_dict() -> None:
    change = Change("add", "field", ("lead", "budget"), None, {"key": "budget"})
    assert change.as_dict() == {"op": "add", "kind": "field", "path": ["lead", "budget"],
                                "before": None, "after": {"key": "budget"}, "properties": []}
