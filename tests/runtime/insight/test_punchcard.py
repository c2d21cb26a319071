"""The hour × weekday heatmap (``punchcard``): cells in the tenant's zone, per group, and
drill-down to exactly the records of a cell."""

from __future__ import annotations

import json
from typing import Any

from tests.definitions import entity, field, minimal_app, title
from tests.runtime.records.helpers import create, publish

APP = "visits"


def visits_app() -> dict[str, Any]:
    return minimal_app(
        entity("visit", "到访", "Visit", [
            field("rep", "text", "导购", "Rep"),
            field("at", "datetime", "时间", "At"),
            field("amount", "money", "金额", "Amount"),
        ]),
        key=APP,
        metrics=[{"key": "visits", "title": title("到访数", "Visits"), "entity": "visit",
                  "aggregate": "count", "time_field": "at", "period": "month"},
                 {"key": "amount", "title": title("金额", "Amount"), "entity": "visit",
                  "aggregate": "sum", "field": "amount", "time_field": "at",
                  "period": "month"},
                 {"key": "per_visit", "title": title("单次", "Per visit"),
                  "aggregate": "ratio", "numerator": "amount", "denominator": "visits"}],
        dashboards=[{"key": "activity", "title": title("活跃时段", "Activity"), "widgets": [
            {"key": "grid", "type": "punchcard", "metrics": ["visits"], "group_by": "rep"},
            {"key": "money", "type": "punchcard", "metrics": ["amount"],
             "options": {"window": "all"}},
            {"key": "ratio", "type": "punchcard", "metrics": ["per_visit"]}]}])


def _widget(client: Any, headers: Any, key: str, **query: Any) -> Any:
    return client.get(f"/api/apps/{APP}/dashboards/activity/widgets/{key}", headers=headers,
                      query_string={"at": "2026-03-20", **query})


def test_cells_are_hours_and_weekdays_in_shanghai(client: Any, admin_headers: Any) -> None:
    publish(client, admin_headers, visits_app())
    # 2026-03-02 is a Monday: 01:30 UTC is 09:30 in Shanghai; 16:30 UTC Sunday is 00:30 Monday
    for rep, at, amount in [("李娜", "2026-03-02T01:30:00Z", 10),
                            ("李娜", "2026-03-02T01:59:00Z", 5),
                            ("李娜", "2026-03-01T16:30:00Z", 1),
                            ("张伟", "2026-03-08T06:00:00Z", 7),
                            ("张伟", "2026-02-27T06:00:00Z", 100)]:  # before March
        create(client, admin_headers, "visit", {"rep": rep, "at": at, "amount": amount},
               app=APP)
    data = _widget(client, admin_headers, "grid").get_json()["data"]
    assert data["window"] == {"start": "2026-03-01", "end": "2026-04-01"}
    assert [g["label"] for g in data["groups"]] == ["张伟", "李娜"]
    counted = {(c["group"], c["weekday"], c["hour"]): c["value"] for c in data["cells"]
               if c["value"]}
    assert counted == {("李娜", 1, 9): 2, ("李娜", 1, 0): 1, ("张伟", 7, 14): 1}
    assert len(data["cells"]) == 2 * 7 * 24
    point = next(c["point"] for c in data["cells"]
                 if (c["group"], c["weekday"], c["hour"]) == ("李娜", 1, 9))
    drilled = client.get(f"/api/apps/{APP}/dashboards/activity/widgets/grid/records",
                         headers=admin_headers,
                         query_string={"at": "2026-03-20", "point": json.dumps(point)}
                         ).get_json()
    assert drilled["total"] == 2 and {i["amount"] for i in drilled["items"]} == {10, 5}
    money = _widget(client, admin_headers, "money").get_json()["data"]
    summed = {(c["weekday"], c["hour"]): c["value"] for c in money["cells"] if c["value"]}
    assert summed == {(1, 9): 15, (1, 0): 1, (7, 14): 7, (5, 14): 100}
    refused = _widget(client, admin_headers, "ratio")
    assert refused.status_code == 422
    assert refused.get_json()["error"]["details"][0]["path"] == "metrics"
    bad = client.get(f"/api/apps/{APP}/dashboards/activity/widgets/grid/records",
                     headers=admin_headers,
                     query_string={"point": json.dumps({"weekday": 8, "hour": 1})})
    assert bad.status_code == 422
