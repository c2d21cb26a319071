"""Stage flows in the definition: deliverables that count pointing records, messages, the
amount field, and the linker's checks of them."""

from __future__ import annotations

from typing import Any

import pytest

from builder.schema import check_definition, link, validate_definition
from tests.runtime.workflow.funnel import funnel_app


def codes(data: Any) -> dict[str, str]:
    _, problems = check_definition(data)
    return {p.path: p.code for p in problems}


def _flow(app: dict[str, Any]) -> dict[str, Any]:
    return app["stage_flows"][0]  # type: ignore[no-any-return]


def test_the_funnel_links_cleanly_with_every_extension() -> None:
    app = funnel_app()
    _flow(app)["stages"][1]["entry_message"] = {"zh-CN": "先确认预算", "en": "Confirm the budget"}
    _flow(app)["stages"][2]["exit_message"] = {"zh-CN": "参数未齐"}
    assert link(validate_definition(app)) == []


@pytest.mark.parametrize(("change", "path", "code"), [
    (lambda f: f["stages"][1]["deliverables"].append(
        {"entity": "tech_param", "field": "name"}),
     "stage_flows[0].stages[1].deliverables[2].field", "not_pointing"),
    (lambda f: f["stages"][1]["deliverables"].append(
        {"entity": "nowhere", "field": "opportunity"}),
     "stage_flows[0].stages[1].deliverables[2].entity", "unknown_entity"),
    (lambda f: f["stages"][1]["deliverables"].append({"field": "budget", "min_count": 2}),
     "stage_flows[0].stages[1].deliverables[2].min_count", "not_countable"),
    (lambda f: f["stages"][1]["deliverables"].append({"field": "nothing"}),
     "stage_flows[0].stages[1].deliverables[2].field", "unknown_field"),
    (lambda f: f.update(amount_field="name"), "stage_flows[0].amount_field", "field_kind"),
    (lambda f: f.update(transitions=[{"from": "needs", "to": "needs"}]),
     "stage_flows[0].transitions[0].to", "same_stage_transition"),
    (lambda f: f.update(stages=[s for s in f["stages"] if s.get("terminal")]),
     "stage_flows[0].stages", "no_open_stage"),
    (lambda f: f["stages"][2].update(entry={">=": [{"var": "$count.tech_param.name"}, 1]}),
     "stage_flows[0].stages[2].entry.>=[0].var", "unknown_field"),
])
def test_linker_reports_bad_stage_flows(change: Any, path: str, code: str) -> None:
    app = funnel_app()
    change(_flow(app))
    assert codes(app).get(path) == code, codes(app)


def test_one_stage_field_serves_one_flow() -> None:
    app = funnel_app()
    app["stage_flows"].append(dict(_flow(app), key="second"))
    assert codes(app) == {"stage_flows[1].field": "flow_field_taken"}
