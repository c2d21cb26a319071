"""RecordService rules that full_app() does not exercise: context values in rules, pattern
messages, failing formulas, unique among live records only, no-op updates, child audit."""

from __future__ import annotations

from typing import Any

import pytest

from builder.errors import Conflict, ValidationFailed
from builder.i18n import use_language
from builder.runtime.records import RecordService
from builder.runtime.storage.tables import entity_store
from tests.definitions import entity, field, minimal_app, title
from tests.runtime.records.helpers import publish


def _definition() -> dict[str, Any]:
    ticket = entity("ticket", "工单", "Ticket", [
        field("code", "text", "编号", "Code", unique=True, pattern="^T-[0-9]{3}$",
              pattern_message=title("编号形如 T-001", "Codes look like T-001")),
        field("status", "select", "状态", "Status", default="open", options=[
            {"key": "open", "title": title("打开")}, {"key": "closed", "title": title("关闭")}]),
        field("resolution", "text", "处理结果", "Resolution",
              required_when={"and": [{"==": [{"var": "status"}, "closed"]},
                                     {"!=": [{"var": "$old.status"}, "closed"]}]}),
        field("reporter", "user", "报告人", "Reporter",
              default={"logic": {"var": "$user.id"}}),
        field("hours", "number", "工时", "Hours", precision=1),
        field("rate", "number", "单价", "Rate"),
        field("per_hour", "formula", "每小时", "Per hour", result_type="number",
              expression={"/": [{"var": "rate"}, {"var": "hours"}]}),
        field("summary", "formula", "摘要", "Summary", result_type="text",
              expression={"cat": [{"var": "code"}, " / ", {"var": "status"}]}),
        field("steps", "subtable", "步骤", "Steps", entity="step"),
    ], validations=[{"key": "hours_or_rate", "rule": {"or": [
        {"!": {"var": "rate"}}, {">": [{"var": "hours"}, 0]}]},
        "message": title("填写单价时工时必须大于 0", "Hours must be positive with a rate"),
        "fields": ["hours", "rate"]}])
    step = entity("step", "步骤", "Step", [field("text", "text", "内容", "Text",
                                                  required=True)])
    definition = minimal_app(ticket, step)
    definition["key"] = "desk"
    return definition


@pytest.fixture
def service(client: Any, admin: Any, admin_headers: Any) -> RecordService:
    publish(client, admin_headers, _definition())
    return RecordService(entity_store(admin.tenant_id, "desk", "ticket"), admin)


def _codes(error: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {p.path: p.code for p in error.value.details}


def test_defaults_context_and_formulas(service: RecordService, admin: Any) -> None:
    ticket = service.create({"code": "T-001", "hours": 2, "rate": 300})
    assert ticket["status"] == "open" and ticket["reporter"] == admin.id
    assert ticket["per_hour"] == 150 and ticket["summary"] == "T-001 / open"
    zero = service.create({"code": "T-002", "rate": 0, "hours": 0})
    assert zero["per_hour"] is None  # 0/0 is NaN: the formula stores null
    with pytest.raises(ValidationFailed) as error:
        service.update(ticket["id"], {"status": "closed"}, ticket["version"])
    assert _codes(error) == {"resolution": "required"}
    closed = service.update(ticket["id"], {"status": "closed", "resolution": "ok"}, 1)
    # $old.status is now closed: clearing the resolution is allowed afterwards
    cleared = service.update(ticket["id"], {"resolution": None}, closed["version"])
    assert cleared["resolution"] is None and cleared["version"] == 3


def test_problems_patterns_and_rules(service: RecordService) -> None:
    with use_language("en"), pytest.raises(ValidationFailed) as error:
        service.create({"code": "X1", "rate": 5, "hours": 0, "id": 77, "per_hour": 1})
    messages = {p.path: p.message for p in error.value.details}
    assert messages == {"code": "Codes look like T-001",
                        "hours": "Hours must be positive with a rate",
                        "rate": "Hours must be positive with a rate"}
    with pytest.raises(ValidationFailed) as error:
        service.create({"steps": [{"text": "a"}, {"text": "b", "nope": 1}, {}]})
    assert _codes(error) == {"steps[1].nope": "unknown", "steps[2].text": "required"}
    with pytest.raises(ValidationFailed) as error:
        service.create({"steps": [{"text": "a"}, "x"]})
    assert _codes(error) == {"steps": "not_rows"}


def test_unique_counts_live_records_only(service: RecordService) -> None:
    first = service.create({"code": "T-010"})
    with pytest.raises(ValidationFailed):
        service.create({"code": "T-010"})
    service.delete(first["id"])
    again = service.create({"code": "T-010"})
    assert again["id"] != first["id"]
    assert service.update(again["id"], {"code": "T-010"}, 1)["version"] == 1  # no change


def test_stale_version_and_children_audit(service: RecordService) -> None:
    ticket = service.create({"code": "T-020", "steps": [{"text": "one"}, {"text": "two"}]})
    first, second = ticket["steps"]
    with pytest.raises(ValidationFailed) as error:
        service.update(ticket["id"], {"steps": [{"id": 999, "text": "x"}]}, 1)
    assert _codes(error) == {"steps[0].id": "not_found"}
    updated = service.update(ticket["id"], {"steps": [{"id": second["id"], "text": "2"}]}, 1)
    assert [s["text"] for s in updated["steps"]] == ["2"]
    with pytest.raises(Conflict) as conflict:
        service.update(ticket["id"], {"code": "T-021"}, 1)
    assert conflict.value.extra == {"current_version": 2}
    assert service.get(ticket["id"]) == updated
    steps = RecordService(entity_store(service.store.tenant_id, "desk", "step"), service.user)
    assert [h["action"] for h in steps.history(first["id"])] == ["delete", "create"]
    assert [h["action"] for h in steps.history(second["id"])] == ["update", "create"]
    assert steps.history(second["id"])[0]["changes"] == {"text": ["two", "2"]}
