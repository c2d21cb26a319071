"""Which moves a flow allows: forward, skip, back, lose, closed, and listed transitions."""

from __future__ import annotations

from typing import Any

import pytest

from builder.runtime.workflow.stage_flow import StageFlow
from tests.runtime.workflow.funnel import funnel_app


def _flow(**props: Any) -> StageFlow:
    app = funnel_app(**props)
    fields = {f["key"]: f for f in app["entities"][0]["fields"]}
    return StageFlow(app["stage_flows"][0], fields)


@pytest.mark.parametrize(("frm", "to", "kind"), [
    ("initial", "needs", "forward"), ("negotiation", "won", "forward"),
    ("initial", "tech", "skip"), ("initial", "won", "skip"), (None, "initial", "forward"),
    ("tech", "needs", "back"), ("won", "needs", "back"), ("lost", "initial", "back"),
    ("tech", "lost", "lose"), ("won", "lost", "closed"), ("lost", "won", "closed"),
])
def test_kinds_of_moves(frm: str | None, to: str, kind: str) -> None:
    assert _flow().kind(frm, to) == kind


def test_what_each_setting_allows() -> None:
    default = _flow()
    assert default.refusal("initial", "needs") is None
    assert default.refusal("tech", "lost") is None
    assert default.refusal("tech", "initial") is None
    assert default.refusal("initial", "quote").code == "skip_not_allowed"  # type: ignore[union-attr]
    assert default.refusal("won", "lost").code == "closed"  # type: ignore[union-attr]

    strict = _flow(allow_back=False, allow_skip=True)
    assert strict.refusal("initial", "quote") is None
    assert strict.refusal("quote", "needs").code == "back_not_allowed"  # type: ignore[union-attr]
    assert strict.refusal("lost", "needs").code == "back_not_allowed"  # type: ignore[union-attr]

    listed = _flow(allow_back=False, transitions=[{"from": "won", "to": "lost"},
                                                  {"from": "initial", "to": "tech"}])
    assert listed.refusal("won", "lost") is None
    assert listed.refusal("initial", "tech") is None
    assert listed.refusal("initial", "needs").code == "not_listed"  # type: ignore[union-attr]


def test_order_and_next_stages() -> None:
    flow = _flow()
    assert flow.initial == "initial" and flow.won == "won"
    assert [flow.next_stage(k) for k in ("initial", "negotiation", "won", "lost")] == [
        "needs", "won", None, None]
    assert flow.stage_title("tech") == "技术交流" and flow.by_key["won"].probability == 100
