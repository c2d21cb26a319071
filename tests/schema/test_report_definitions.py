"""The ``alerts`` and ``reports`` parts of the definition: shape, defaults, references,
and problems named by their JSON path in the reader's language."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from builder.runtime.reports.actions import alert_action_registry
from builder.runtime.reports.sections import report_section_registry
from builder.schema import check_definition, validate_definition
from tests.runtime.reports.report_apps import alert_app, report_app


def codes(data: Any) -> dict[str, str]:
    _, problems = check_definition(data)
    return {p.path: p.code for p in problems}


ROBOT = "https://oapi.dingtalk.com/robot/send"


def test_both_apps_are_valid_and_get_defaults() -> None:
    alerts = validate_definition(alert_app())["alerts"]
    assert alerts[0]["enabled"] is True and alerts[0]["current"] is False
    assert alerts[1]["subject"] == "owner" and alerts[1]["periods"] == 1
    assert alerts[1]["schedule"]["timezone"] == "Asia/Shanghai"
    [report] = validate_definition(report_app(ROBOT))["reports"]
    assert report["sections"][2]["idle_field"] == "updated_at"
    assert report["sections"][0]["limit"] == 5
    assert alert_action_registry.types() == ["create_record", "notify"]
    assert report_section_registry.types() == ["metrics", "stuck_records", "widget"]


def _set(container: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split("/")
    for part in parents:
        container = container[int(part)] if part.isdigit() else container[part]  # type: ignore[index]
    if last.isdigit():
        container[int(last)] = value  # type: ignore[index]
    else:
        container[last] = value


@pytest.mark.parametrize(("where", "value", "path", "code"), [
    ("metric", "nope", "alerts[0].metric", "unknown_metric"),
    ("subject", "nope", "alerts[0].subject", "unknown_field"),
    ("condition", {"<": [{"var": "achievment"}, 0.65]}, "alerts[0].condition.<[0].var",
     "unknown_field"),
    ("schedule", {"cron": "61 * * * *"}, "alerts[0].schedule.cron", "report_cron"),
    ("schedule", {"cron": "0 9 * * 1", "timezone": "Mars/Olympus"},
     "alerts[0].schedule.timezone", "report_timezone"),
    ("periods", 0, "alerts[0].periods", "between"),
    ("target/field", "rep", "alerts[0].target.field", "field_kind"),
    ("target/dimension", "boss", "alerts[0].target.dimension", "unknown_field"),
    ("actions", [], "alerts[0].actions", "required"),
    ("actions/0", {"type": "explode"}, "alerts[0].actions[0].type", "unknown_alert_action"),
    ("actions/0/entity", "nope", "alerts[0].actions[0].entity", "unknown_entity"),
    ("actions/0/set", {"nope": 1}, "alerts[0].actions[0].set.nope", "unknown_field"),
    ("actions/0/owner", {"var": "rep"}, "alerts[0].actions[0].owner.var", "unknown_field"),
    ("actions/1/to", [{"boss": 1}], "alerts[0].actions[1].to[0]", "alert_recipient"),
    ("actions/1/to", [{"manager_of": "subject", "levels": 0}], "alerts[0].actions[1].to[0]",
     "alert_recipient"),
    ("actions/1/to", [{"role": "ghost"}], "alerts[0].actions[1].to[0].role", "unknown_role"),
    ("subject", "name", "alerts[0].actions[1].to[0]", "alert_subject_not_person"),
    ("actions/1/channels", ["pigeon"], "alerts[0].actions[1].channels[0]", "report_channel"),
    ("actions/1/webhook", {"format": "dingtalk", "url": "ftp://robot"},
     "alerts[0].actions[1].webhook.url", "report_url"),
    ("actions/1/webhook", {"format": "telegram", "url": "https://robot"},
     "alerts[0].actions[1].webhook.format", "one_of"),
])
def test_alert_problems_name_the_place(where: str, value: Any, path: str, code: str) -> None:
    app = alert_app()
    _set(app["alerts"][0], where, copy.deepcopy(value))
    found = codes(app)
    assert found.get(path) == code, found


@pytest.mark.parametrize(("where", "value", "path", "code"), [
    ("sections", [], "reports[0].sections", "required"),
    ("sections/0/type", "poem", "reports[0].sections[0].type", "unknown_section_type"),
    ("sections/0/metrics", ["nope"], "reports[0].sections[0].metrics[0]", "unknown_metric"),
    ("sections/0/metrics", [], "reports[0].sections[0].metrics", "required"),
    ("sections/1/dashboard", "nope", "reports[0].sections[1].dashboard", "unknown_dashboard"),
    ("sections/1/widget", "nope", "reports[0].sections[1].widget", "unknown_widget"),
    ("sections/2/entity", "nope", "reports[0].sections[2].entity", "unknown_entity"),
    ("sections/2/filter", {"==": [{"var": "stage"}, "new"]},
     "reports[0].sections[2].filter.==[0].var", "unknown_field"),
    ("sections/2/idle_field", "name", "reports[0].sections[2].idle_field", "field_kind"),
    ("sections/2/limit", 500, "reports[0].sections[2].limit", "between"),
    ("sections/2/key", "kpi", "reports[0].sections[2].key", "duplicate_key"),
    ("recipients", [{"role": "ghost"}], "reports[0].recipients[0].role", "unknown_role"),
    ("recipients", [{"role": "rep", "team": "east"}], "reports[0].recipients[0]",
     "report_recipient"),
    ("channels", ["sms"], "reports[0].channels[0]", "one_of"),
    ("robots/0/url", "robot.local/send", "reports[0].robots[0].url", "report_url"),
    ("period", "fortnight", "reports[0].period", "one_of"),
    ("circuit_breaker", {"threshold": 0}, "reports[0].circuit_breaker.threshold", "between"),
    ("circuit_breaker", {"threshold": 0.35, "metrics": ["nope"]},
     "reports[0].circuit_breaker.metrics[0]", "unknown_metric"),
    ("colour", "red", "reports[0].colour", "unknown_property"),
])
def test_report_problems_name_the_place(where: str, value: Any, path: str, code: str) -> None:
    app = report_app(ROBOT)
    _set(app["reports"][0], where, copy.deepcopy(value))
    found = codes(app)
    assert found.get(path) == code, found


def test_an_invalid_report_is_refused_in_the_readers_language(client, admin_headers) -> None:
    app = report_app(ROBOT)
    app["reports"][0]["schedule"] = {"cron": "every morning"}
    app["reports"][0]["sections"][1]["widget"] = "pipeline"
    response = client.post("/api/apps?lang=en", json={"definition": app},
                           headers=admin_headers)
    assert response.status_code == 422
    details = {d["path"]: d["message"] for d in response.get_json()["error"]["details"]}
    assert details["reports[0].schedule.cron"] == (
        "“every morning” is not a valid cron expression (minute hour day month weekday)")
    assert details["reports[0].sections[1].widget"] == "The dashboard has no widget “pipeline”"
    response = client.post("/api/apps", json={"definition": app},
                           headers={**admin_headers, "Accept-Language": "zh-CN"})
    details = {d["path"]: d["message"] for d in response.get_json()["error"]["details"]}
    assert details["reports[0].sections[1].widget"] == "该仪表盘没有组件“pipeline”"
