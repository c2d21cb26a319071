"""Stage moves, stage history and funnel figures follow the user's roles."""

from __future__ import annotations

from typing import Any

import pytest

from tests.definitions import field, option, title
from tests.runtime.access.helpers import APP, Org, make_org, sales_app, url
from tests.runtime.records.helpers import problems, publish

FUNNEL = f"/api/apps/{APP}/stage_flows/pipeline/funnel"


@pytest.fixture
def org(client: Any, tenant: Any, admin_headers: Any, make_user: Any) -> Org:
    definition = sales_app()
    definition["entities"][0]["fields"].append(field(
        "stage", "select", "阶段", "Stage", default="lead",
        options=[option("lead", "线索", "Lead"), option("won", "赢单", "Won")]))
    definition["stage_flows"] = [{
        "key": "pipeline", "title": title("销售漏斗", "Pipeline"), "entity": "deal",
        "field": "stage", "amount_field": "amount",
        "stages": [{"key": "lead", "probability": 10},
                   {"key": "won", "probability": 100, "terminal": "won"}]}]
    publish(client, admin_headers, definition)
    return make_org(tenant, make_user)


@pytest.fixture
def deals(client: Any, org: Org, auth_headers: Any) -> dict[str, dict[str, Any]]:
    made = {}
    for name in ("rep", "junior", "outsider"):
        response = client.post(url(), headers=auth_headers(getattr(org, name)),
                               json={"data": {"name": name, "amount": 100}})
        assert response.status_code == 201, response.get_json()
        made[name] = response.get_json()
    return made


def move(client: Any, headers: Any, deal: dict[str, Any], **data: Any) -> Any:
    return client.post(url(record_id=deal["id"], tail="/transition"), headers=headers,
                       json={"to": "won", "version": deal["version"], "data": data})


def test_moves_need_the_right_to_change_the_record(
        client: Any, org: Org, deals: Any, auth_headers: Any) -> None:
    rep = auth_headers(org.rep)
    assert move(client, rep, deals["outsider"]).status_code == 404
    refused = move(client, rep, deals["rep"], cost=1)
    assert refused.status_code == 403 and problems(refused) == {"data.cost": "hidden"}
    assert move(client, auth_headers(org.auditor), deals["rep"]).status_code == 403
    moved = move(client, rep, deals["rep"])
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["stage"] == "won" and "cost" not in moved.get_json()
    history = url(record_id=deals["rep"]["id"], tail="/stages")
    assert client.get(history, headers=rep).status_code == 200
    assert client.get(history, headers=auth_headers(org.outsider)).status_code == 404


def test_funnel_figures_count_only_reachable_records(
        client: Any, org: Org, deals: Any, auth_headers: Any, admin_headers: Any) -> None:
    def current(headers: Any, **args: Any) -> int:
        response = client.get(FUNNEL, headers=headers, query_string=args)
        assert response.status_code == 200, response.get_json()
        return sum(stage["current"] for stage in response.get_json()["stages"])

    assert current(admin_headers) == 3
    assert current(auth_headers(org.rep)) == 1
    assert current(auth_headers(org.boss)) == 2
    assert current(auth_headers(org.rep), filter='{"or": [true, {"var": "name"}]}') == 1
    rep = auth_headers(org.rep)
    for args, path in (({"amount_field": "cost"}, "amount_field"),
                       ({"filter": '{">": [{"var": "cost"}, 0]}'}, "filter.cost")):
        response = client.get(FUNNEL, headers=rep, query_string=args)
        assert response.status_code == 422 and path in problems(response), response.get_json()
    assert client.get(FUNNEL, headers=auth_headers(org.nobody)).status_code == 403
