"""Dashboards over 10,000 generated opportunities: every widget's figures equal an
independent SQL computation written here, every drill-down lists exactly the records
counted, and a rep sees only their figures while their manager sees the team's."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from builder.extensions import db
from builder.runtime.storage.tables import entity_store
from tests.definitions import entity, field, minimal_app, option, title
from tests.runtime.records.helpers import publish

AT = date(2026, 6, 17)  # a Wednesday; dashboards are computed as of this day
ZONE = ZoneInfo("Asia/Shanghai")
STAGES = ["initial", "needs", "tech", "quote", "negotiation", "won", "lost"]
REGIONS = ["east", "north", "south"]
ROWS = 10_000


def _definition() -> dict[str, Any]:
    opportunity = entity("opportunity", "商机", "Opportunity", [
        field("name", "text", "商机名称", "Name"),
        field("amount", "money", "金额", "Amount"),
        field("stage", "select", "阶段", "Stage",
              options=[option(s, s) for s in STAGES]),
        field("region", "select", "区域", "Region", options=[option(r, r) for r in REGIONS]),
        field("close_date", "date", "预计成交", "Close date"),
        field("tech_lead", "boolean", "技术负责人参与", "Tech lead"),
        field("proposal", "boolean", "已提交方案", "Proposal"),
    ], title_field="name")
    target = entity("sales_target", "销售目标", "Sales target", [
        field("region", "select", "区域", "Region", options=[option(r, r) for r in REGIONS]),
        field("team", "text", "团队", "Team"),
        field("rep", "user", "销售", "Rep"),
        field("month", "date", "月份", "Month"),
        field("amount", "money", "目标金额", "Target")])
    definition = minimal_app(opportunity, target)
    definition["key"] = "sales"
    definition["stage_flows"] = [{"key": "funnel", "entity": "opportunity", "field": "stage",
                                  "stages": [{"key": s, "title": title(s), **(
                                      {"terminal": s} if s in ("won", "lost") else {})}
                                      for s in STAGES]}]
    metric = {"entity": "opportunity", "time_field": "created_at", "period": "month"}
    definition["metrics"] = [
        {"key": "opp_count", "title": title("商机数"), "aggregate": "count", **metric},
        {"key": "effective", "title": title("有效商机"), "aggregate": "count", **metric,
         "filter": {"and": [{">=": [{"var": "amount"}, 100000]}, {"var": "tech_lead"},
                            {"var": "proposal"}]}},
        {"key": "won_count", "title": title("赢单数"), "aggregate": "count", **metric,
         "filter": {"==": [{"var": "stage"}, "won"]}},
        {"key": "win_rate", "title": title("赢率"), "aggregate": "ratio",
         "numerator": "won_count", "denominator": "opp_count"},
        {"key": "amount_sum", "title": title("金额"), "aggregate": "sum", "field": "amount",
         "entity": "opportunity", "time_field": "close_date", "period": "month"},
        {"key": "amount_avg", "title": title("平均金额"), "aggregate": "avg",
         "field": "amount", **metric},
        {"key": "amount_median", "title": title("金额中位数"), "aggregate": "median",
         "field": "amount", **metric},
        {"key": "regions", "title": title("覆盖区域"), "aggregate": "distinct_count",
         "field": "region", **metric},
    ]
    widgets = [
        {"key": "count_card", "type": "number", "metrics": ["opp_count"]},
        {"key": "effective_card", "type": "number", "metrics": ["effective"]},
        {"key": "win_card", "type": "number", "metrics": ["win_rate"]},
        {"key": "median_card", "type": "number", "metrics": ["amount_median"]},
        {"key": "regions_card", "type": "number", "metrics": ["regions"]},
        {"key": "monthly", "type": "bar", "metrics": ["opp_count", "won_count"],
         "options": {"periods": 6}},
        {"key": "weekly_amount", "type": "line", "metrics": ["amount_sum"],
         "options": {"bucket": "week", "periods": 8}},
        {"key": "by_region", "type": "pie", "metrics": ["opp_count"], "group_by": "region",
         "options": {"window": "all"}},
        {"key": "ranking", "type": "leaderboard", "metrics": ["amount_avg", "opp_count"],
         "group_by": "owner", "options": {"limit": 3}},
        {"key": "funnel", "type": "funnel", "metrics": ["opp_count"],
         "options": {"flow": "funnel", "window": "all"}},
        {"key": "heat", "type": "heatmap", "metrics": ["opp_count"], "group_by": "owner",
         "options": {"periods": 4}},
        {"key": "target_region", "type": "target", "metrics": ["amount_sum"],
         "options": {"dimension": "region", "target": {
             "entity": "sales_target", "field": "amount", "date_field": "month",
             "dimension": "region"}}},
        {"key": "target_team", "type": "target", "metrics": ["amount_sum"],
         "options": {"dimension": "$team", "target": {
             "entity": "sales_target", "field": "amount", "date_field": "month",
             "dimension": "team"}}},
    ]
    definition["dashboards"] = [{"key": "sales", "title": title("销售看板"),
                                 "widgets": widgets}]
    definition["roles"] = [
        {"key": "rep", "title": title("销售"), "permissions": [
            {"entity": "*", "actions": ["read", "create", "update"], "scope": "own"}]},
        {"key": "manager", "title": title("经理"), "permissions": [
            {"entity": "*", "actions": ["read"], "scope": "team"}]}]
    return definition


class World:
    """The tenant's people, the generated rows, and SQL over the physical tables."""

    def __init__(self, admin: Any, users: dict[str, Any]) -> None:
        self.admin = admin
        self.users = users
        self.opp = entity_store(admin.tenant_id, "sales", "opportunity")
        self.target = entity_store(admin.tenant_id, "sales", "sales_target")

    def column(self, key: str) -> str:
        return self.opp.columns[key].name

    def sql(self, select: str, where: str = "1 = 1", **params: Any) -> Any:
        """``SELECT <select> FROM opportunity WHERE deleted = false AND <where>``."""
        table = self.opp.table
        name = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
        for key in self.opp.columns:
            select = select.replace(f"[{key}]", self.column(key))
            where = where.replace(f"[{key}]", self.column(key))
        text = sa.text(f"SELECT {select} FROM {name} WHERE deleted = :no AND {where}")
        binds = [sa.bindparam(k, type_=sa.DateTime(timezone=True)) for k, v in params.items()
                 if isinstance(v, datetime)]
        binds += [sa.bindparam(k, type_=sa.Date()) for k, v in params.items()
                  if isinstance(v, date) and not isinstance(v, datetime)]
        return db.session.execute(text.bindparams(*binds), {"no": False, **params})

    def scalar(self, select: str, where: str = "1 = 1", **params: Any) -> Any:
        return self.sql(select, where, **params).scalar_one()


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZONE).astimezone(UTC)


def _month_bounds(day: date) -> tuple[datetime, datetime]:
    start = day.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return _utc(start), _utc(end)


@pytest.fixture
def world(client: Any, admin: Any, admin_headers: Any, make_user: Any) -> Iterator[World]:
    from builder.platform import service

    publish(client, admin_headers, _definition())
    users = {name: make_user(admin.tenant, name, roles=["rep"], team=team)
             for name, team in (("r1", "east"), ("r2", "east"), ("r3", "east"),
                                ("r4", "north"), ("r5", "north"))}
    for name, team in (("m1", "east"), ("m2", "north")):
        users[name] = make_user(admin.tenant, name, roles=["manager"])
        team_row = next(t for t in service.list_teams(admin.tenant_id) if t.key == team)
        team_row.manager_id = users[name].id
    db.session.commit()
    result = World(admin, users)
    rng = random.Random(20260617)
    reps = [users[f"r{i}"].id for i in range(1, 6)]
    start = datetime(2025, 9, 1, tzinfo=UTC)
    rows = []
    for index in range(ROWS):
        created = start + timedelta(seconds=rng.randrange(0, 300 * 86400))
        rows.append({
            "created_at": created, "updated_at": created, "created_by": admin.id,
            "updated_by": admin.id, "owner": rng.choice(reps), "version": 1,
            "deleted": index % 97 == 0,  # deleted rows count nowhere
            result.column("name"): f"商机{index:05d}",
            result.column("amount"): None if index % 31 == 0 else
            Decimal(rng.randrange(1000, 500000)) / 2,
            result.column("stage"): rng.choice(STAGES),
            result.column("region"): None if index % 53 == 0 else rng.choice(REGIONS),
            result.column("close_date"): date(2026, 1, 1) + timedelta(days=rng.randrange(300)),
            result.column("tech_lead"): rng.random() < 0.5,
            result.column("proposal"): rng.random() < 0.6})
    db.session.execute(sa.insert(result.opp.table), rows)
    targets = []
    for region, amount in zip(REGIONS, (9_000_000, 7_000_000, 5_000_000), strict=True):
        for month in (date(2026, 5, 1), date(2026, 6, 1)):
            targets.append({"region": region, "team": None, "month": month, "amount": amount})
    for team, amount in (("east", 12_000_000), ("north", 8_000_000)):
        targets.append({"region": None, "team": team, "month": date(2026, 6, 1),
                        "amount": amount})
    db.session.execute(sa.insert(result.target.table), [{
        "created_at": start, "updated_at": start, "owner": admin.id, "version": 1,
        "deleted": False, **{result.target.columns[k].name: v for k, v in t.items()}}
        for t in targets])
    db.session.commit()
    yield result


def _dashboard(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get("/api/apps/sales/dashboards/sales", headers=headers,
                          query_string={"at": AT.isoformat()})
    assert response.status_code == 200, response.get_json()
    return {w["key"]: w["data"] for w in response.get_json()["widgets"]}


def _drill(client: Any, headers: dict[str, str], widget: str, point: dict[str, Any]) -> int:
    response = client.get(f"/api/apps/sales/dashboards/sales/widgets/{widget}/records",
                          headers=headers, query_string={"point": json.dumps(point),
                                                         "at": AT.isoformat(), "limit": 1})
    assert response.status_code == 200, response.get_json()
    return int(response.get_json()["total"])


def test_every_widget_equals_independent_sql_and_drills_to_its_records(
        client: Any, world: World, admin_headers: dict[str, str]) -> None:
    data = _dashboard(client, admin_headers)
    june, july = _month_bounds(AT)
    may, _ = _month_bounds(date(2026, 5, 1))
    window = "created_at >= :a AND created_at < :b"

    count = world.scalar("count(*)", window, a=june, b=july)
    assert data["count_card"]["value"] == count > 0
    assert data["count_card"]["previous"] == world.scalar("count(*)", window, a=may, b=june)
    assert _drill(client, admin_headers, "count_card", data["count_card"]["point"]) == count
    assert _drill(client, admin_headers, "count_card",
                  data["count_card"]["previous_point"]) == data["count_card"]["previous"]

    effective = world.scalar("count(*)", f"{window} AND [amount] >= 100000 AND [tech_lead] "
                                         "= :yes AND [proposal] = :yes", a=june, b=july,
                             yes=True)
    assert data["effective_card"]["value"] == effective
    assert _drill(client, admin_headers, "effective_card", {"series": "effective"}) == \
        effective

    won = world.scalar("count(*)", f"{window} AND [stage] = 'won'", a=june, b=july)
    assert data["win_card"]["value"] == pytest.approx(won / count)

    amounts = [row[0] for row in world.sql("[amount]", f"{window} AND [amount] IS NOT NULL",
                                           a=june, b=july)]
    assert data["median_card"]["value"] == pytest.approx(float(median(amounts)))
    assert data["regions_card"]["value"] == world.scalar(
        "count(DISTINCT [region])", window, a=june, b=july)

    # monthly bars: six months ending with June, counted month by month
    months = [date(2026, m, 1) for m in range(1, 7)]
    assert data["monthly"]["buckets"] == [m.isoformat() for m in months]
    for series, extra in (("opp_count", ""), ("won_count", " AND [stage] = 'won'")):
        points = next(s for s in data["monthly"]["series"] if s["key"] == series)["points"]
        for month, point in zip(months, points, strict=True):
            low, high = _month_bounds(month)
            assert point["value"] == world.scalar("count(*)", window + extra, a=low, b=high)
        assert _drill(client, admin_headers, "monthly", points[2]["point"]) == \
            points[2]["value"]

    # weekly amounts on a date field: eight Monday-first weeks ending with this week
    monday = AT - timedelta(days=AT.weekday())
    weeks = [monday - timedelta(weeks=7 - i) for i in range(8)]
    points = data["weekly_amount"]["series"][0]["points"]
    assert [p["bucket"] for p in points] == [w.isoformat() for w in weeks]
    for week, point in zip(weeks, points, strict=True):
        expected = world.scalar("sum([amount])", "[close_date] >= :a AND [close_date] < :b",
                                a=week, b=week + timedelta(days=7))
        assert point["value"] == pytest.approx(float(expected or 0) if expected else None)

    # regions over all time, nulls included as their own slice
    by_region = {p["group"]: p for p in data["by_region"]["series"][0]["points"]}
    for region, total in world.sql("[region], count(*)", "1 = 1 GROUP BY [region]"):
        assert by_region[region]["value"] == total
        assert _drill(client, admin_headers, "by_region", by_region[region]["point"]) == total
    assert by_region["east"]["label"] == "east" and by_region[None]["label"]

    # leaderboard: top three owners by average amount this month
    expected_rank = list(world.sql("owner, avg([amount]), count(*)",
                                   f"{window} GROUP BY owner ORDER BY avg([amount]) DESC",
                                   a=june, b=july))[:3]
    rows = data["ranking"]["rows"]
    assert [r["group"] for r in rows] == [r[0] for r in expected_rank]
    for row, expected in zip(rows, expected_rank, strict=True):
        assert row["values"] == [pytest.approx(float(expected[1])), expected[2]]
    assert rows[0]["label"] in ("r1", "r2", "r3", "r4", "r5")

    # funnel over all time: now in each stage, reached (now there or later, lost apart)
    per_stage = {row[0]: row[1] for row in world.sql("[stage], count(*)",
                                                     "1 = 1 GROUP BY [stage]")}
    ordered = [s for s in STAGES if s != "lost"]
    stages = data["funnel"]["stages"]
    assert [s["stage"] for s in stages] == ordered
    for index, stage in enumerate(stages):
        assert stage["count"] == per_stage[stage["stage"]]
        assert stage["reached"] == sum(per_stage[s] for s in ordered[index:])
        assert _drill(client, admin_headers, "funnel", stage["point"]) == stage["count"]
    assert stages[1]["conversion"] == pytest.approx(stages[1]["reached"] /
                                                    stages[0]["reached"], abs=1e-4)
    assert data["funnel"]["lost"][0]["count"] == per_stage["lost"]

    # heatmap: owner × week (created_at, weeks in Shanghai time)
    cells = {(c["group"], c["bucket"]): c for c in data["heat"]["cells"]}
    for week in weeks[-4:]:
        low, high = _utc(week), _utc(week + timedelta(days=7))
        for owner, total in world.sql("owner, count(*)", f"{window} GROUP BY owner",
                                      a=low, b=high):
            assert cells[(owner, week.isoformat())]["value"] == total
    some = next(c for c in data["heat"]["cells"] if c["value"])
    assert _drill(client, admin_headers, "heat", some["point"]) == some["value"]

    # targets: June's amounts (by close date) against June's targets, by region and by team
    june_days = {"a": date(2026, 6, 1), "b": date(2026, 7, 1)}
    target_rows = {r["group"]: r for r in data["target_region"]["rows"]}
    for region, total in world.sql("[region], sum([amount])", "[close_date] >= :a AND "
                                   "[close_date] < :b GROUP BY [region]", **june_days):
        assert target_rows[region]["actual"] == pytest.approx(float(total or 0))
    assert target_rows["east"]["target"] == 9_000_000
    assert target_rows["east"]["achievement"] == pytest.approx(
        float(target_rows["east"]["actual"]) / 9_000_000, abs=1e-4)
    east_ids = [world.users[n].id for n in ("r1", "r2", "r3", "m1")]
    team_rows = {r["group"]: r for r in data["target_team"]["rows"]}
    east_actual = world.scalar(
        "sum([amount])", f"[close_date] >= :a AND [close_date] < :b AND owner IN "
        f"({', '.join(str(i) for i in east_ids)})", **june_days)
    assert team_rows["east"]["actual"] == pytest.approx(float(east_actual))
    assert team_rows["east"]["target"] == 12_000_000
    amount_records = world.scalar("count(*)", "[close_date] >= :a AND [close_date] < :b AND "
                                  "[amount] IS NOT NULL AND owner IN (" +
                                  ", ".join(str(i) for i in east_ids) + ")", **june_days)
    assert _drill(client, admin_headers, "target_team", team_rows["east"]["point"]) == \
        amount_records


def test_a_rep_sees_their_own_figures_and_a_manager_their_teams(
        client: Any, world: World, auth_headers: Any) -> None:
    june, july = _month_bounds(AT)
    window = "created_at >= :a AND created_at < :b"
    rep = world.users["r2"]
    mine = world.scalar("count(*)", f"{window} AND owner = :me", a=june, b=july, me=rep.id)
    data = _dashboard(client, auth_headers(rep))
    assert data["count_card"]["value"] == mine
    assert _drill(client, auth_headers(rep), "count_card", {"series": "opp_count"}) == mine
    assert {r["group"] for r in data["ranking"]["rows"]} == {rep.id}
    east = [world.users[n].id for n in ("r1", "r2", "r3")]
    team = world.scalar("count(*)", f"{window} AND owner IN ({', '.join(map(str, east))})",
                        a=june, b=july)
    manager = _dashboard(client, auth_headers(world.users["m1"]))
    assert manager["count_card"]["value"] == team
    assert {r["group"] for r in manager["ranking"]["rows"]} <= set(east)


def test_bad_points_and_unknown_dashboards_are_clear_errors(
        client: Any, world: World, admin_headers: dict[str, str]) -> None:
    base = "/api/apps/sales/dashboards/sales/widgets"
    for widget, point, path in (("monthly", {"series": "nope"}, "point.series"),
                                ("monthly", {"bucket": "not-a-date"}, "point.bucket"),
                                ("funnel", {"group": "mars"}, "point.group")):
        response = client.get(f"{base}/{widget}/records", headers=admin_headers,
                              query_string={"point": json.dumps(point)})
        assert response.status_code == 422, (widget, response.get_json())
        assert response.get_json()["error"]["details"][0]["path"] == path
    assert client.get(f"{base}/monthly/records", headers=admin_headers,
                      query_string={"point": "{"}).status_code == 422
    assert client.get("/api/apps/sales/dashboards/nope", headers=admin_headers
                      ).status_code == 404
    assert client.get(f"{base}/nope", headers=admin_headers).status_code == 404
    export = client.get(f"{base}/by_region/export", headers=admin_headers)
    assert export.status_code == 200 and export.data.startswith(b"PK")
    export.close()
