"""The store-sales dashboard over the demo month, figure by figure against SQL written
here on the tenant's tables: sales by store and day, today's targets, top SKUs, the
assistant ranking, each assistant's hours and weekdays, conversion and stock alerts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from builder.runtime.storage.tables import entity_store
from tests.templates.store_sales.package import APP, install
from tests.templates.tables import Tables

AT = date(2026, 2, 28)
FEB = (date(2026, 2, 1), date(2026, 3, 1))
ZONE = ZoneInfo("Asia/Shanghai")


def utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZONE).astimezone(UTC)


def _close(value: Any, expected: Any) -> bool:
    return value == pytest.approx(float(expected or 0), abs=0.005)


def _drill(client: Any, headers: dict[str, str], widget: str, point: Any) -> int:
    response = client.get(f"/api/apps/{APP}/dashboards/store_sales/widgets/{widget}/records",
                          headers=headers, query_string={"at": AT.isoformat(),
                                                         "point": json.dumps(point)})
    assert response.status_code == 200, response.get_json()
    return int(response.get_json()["total"])


DONE = "[status] = 'completed'"
IN_FEB = "[sold_at] >= :a AND [sold_at] < :b"


def check_sales_by_store_and_day(client: Any, admin_headers: dict[str, str],
                                              tenant: Any, month: dict[str, Any]) -> None:
    tables = Tables(tenant.id, APP)
    cells = {(c["group"], c["bucket"]): c["value"] for c in month["by_store_day"]["cells"]}
    assert month["by_store_day"]["buckets"][-1] == AT.isoformat()
    checked = 0
    for offset in range(28):
        day = FEB[0] + timedelta(days=offset)
        for store, total in tables.sql("sales_order", "[store], sum([paid])",
                                       f"{DONE} AND {IN_FEB} GROUP BY [store]",
                                       a=utc(day), b=utc(day + timedelta(days=1))):
            assert _close(cells[(store, day.isoformat())], total), (store, day)
            checked += 1
    assert checked == 3 * 28
    [[total, orders]] = tables.sql("sales_order", "sum([paid]), count(*)", f"{DONE} AND {IN_FEB}",
                                   a=utc(FEB[0]), b=utc(FEB[1]))
    assert _close(month["month_sales"]["value"], total)
    assert month["month_orders"]["value"] == orders
    assert _close(month["ticket"]["value"], float(total) / orders)
    some = next(c for c in month["by_store_day"]["cells"] if c["value"])
    day = date.fromisoformat(some["bucket"])
    [[count]] = tables.sql("sales_order", "count(*)", f"{DONE} AND {IN_FEB} AND [store] = :s",
                           a=utc(day), b=utc(day + timedelta(days=1)), s=some["group"])
    assert _drill(client, admin_headers, "by_store_day", some["point"]) == count


def check_todays_targets(tenant: Any, month: dict[str, Any]) -> None:
    tables = Tables(tenant.id, APP)
    rows = {r["group"]: r for r in month["targets"]["rows"]}
    targets = dict(tables.sql("store_target", "[store], sum([amount])",
                              "[date] = :d GROUP BY [store]", d=AT))
    actual = dict(tables.sql("sales_order", "[store], sum([paid])",
                             f"{DONE} AND {IN_FEB} GROUP BY [store]",
                             a=utc(AT), b=utc(AT + timedelta(days=1))))
    assert set(rows) == set(targets) and len(rows) == 3
    for store, row in rows.items():
        assert _close(row["target"], targets[store])
        assert _close(row["actual"], actual.get(store))
        assert row["achievement"] == pytest.approx(float(actual.get(store) or 0) /
                                                   float(targets[store]), abs=1e-4)


def check_top_skus_and_the_assistant_ranking(tenant: Any, month: dict[str, Any]) -> None:
    tables = Tables(tenant.id, APP)
    feb = {"a": utc(FEB[0]), "b": utc(FEB[1])}
    units = {sku: (qty, amount) for sku, qty, amount in tables.sql(
        "sales_line", "[sku], sum([qty]), sum([amount])", f"{DONE} AND {IN_FEB} GROUP BY [sku]",
        **feb)}
    rows = month["top_skus"]["rows"]
    assert len(rows) == 10
    best = sorted((float(q) for q, _ in units.values()), reverse=True)[:10]
    assert [r["values"][0] for r in rows] == pytest.approx(best)
    for row in rows:
        qty, amount = units[row["group"]]
        assert _close(row["values"][0], qty) and _close(row["values"][1], amount)
    assert rows[0]["label"] in ("可口可乐 330ml", "农夫山泉 550ml")

    ranking = {r["group"]: r["values"] for r in month["assistant_ranking"]["rows"]}
    sold = tables.sql("sales_order", "[assistant], sum([paid]), count(*)",
                      f"{DONE} AND {IN_FEB} GROUP BY [assistant]", **feb)
    assert len(ranking) == len(sold) == 8
    for assistant, total, count in sold:
        assert _close(ranking[assistant][0], total) and ranking[assistant][1] == count
    totals = [r["values"][0] for r in month["assistant_ranking"]["rows"]]
    assert totals == sorted(totals, reverse=True)


def check_each_assistants_hours_and_weekdays(client: Any, admin_headers: dict[str, str],
                                            tenant: Any, month: dict[str, Any]) -> None:
    tables = Tables(tenant.id, APP)
    grid = month["assistant_hours"]
    cells = {(c["group"], c["weekday"], c["hour"]): c for c in grid["cells"]}
    column = f'"{entity_store(tenant.id, APP, "sales_order").columns["sold_at"].name}"'
    expected = {(assistant, weekday, hour): count for assistant, weekday, hour, count in
                tables.sql("sales_order", f"[assistant], {tables.weekday_hour(column)}, "
                           "count(*)", f"{DONE} AND {IN_FEB} GROUP BY 1, 2, 3",
                           a=utc(FEB[0]), b=utc(FEB[1]))}
    assert {k: c["value"] for k, c in cells.items() if c["value"]} == expected
    assert len(grid["groups"]) == 8 and len(grid["cells"]) == 8 * 7 * 24
    hours = {hour for (_, _, hour) in expected}
    assert min(hours) >= 10 and max(hours) <= 21  # the shops' opening hours
    busiest = max(expected, key=lambda k: expected[k])
    assert _drill(client, admin_headers, "assistant_hours",
                  cells[busiest]["point"]) == expected[busiest]


def check_conversion_and_stock_alerts(tenant: Any, month: dict[str, Any]) -> None:
    tables = Tables(tenant.id, APP)
    orders = dict(tables.sql("sales_order", "[store], count(*)",
                             f"{DONE} AND {IN_FEB} GROUP BY [store]",
                             a=utc(FEB[0]), b=utc(FEB[1])))
    visitors = dict(tables.sql("footfall", "[store], sum([visitors])",
                               "[date] >= :a AND [date] < :b GROUP BY [store]",
                               a=FEB[0], b=FEB[1]))
    bars = {p["group"]: p["value"] for p in month["conversion_by_store"]["series"][0]["points"]}
    assert set(bars) == set(orders)
    for store, count in orders.items():
        assert bars[store] == pytest.approx(count / float(visitors[store]), abs=1e-6)
    total = sum(orders.values()) / float(sum(visitors.values()))
    assert month["conversion_rate"]["value"] == pytest.approx(total, abs=1e-6)
    [[open_alerts]] = tables.sql("stock_alert", "count(*)", "[status] = 'open'")
    assert month["alerts"]["value"] == open_alerts > 0
    [[low]] = tables.sql("stock", "count(*)", "[low_stock] = :yes", yes=True)
    assert month["low_items"]["value"] == low > 0
    by_store = dict(tables.sql("stock_alert", "[store], count(*)",
                               "[status] = 'open' GROUP BY [store]"))
    pie = {p["group"]: p["value"] for p in month["alerts_by_store"]["series"][0]["points"]}
    assert pie == by_store


def test_the_dashboard_of_the_demo_month_equals_sql(client: Any, admin_headers: dict[str, str],
                                                   tenant: Any) -> None:
    """One install of the demo month (it takes a while), every widget checked."""
    install(client, admin_headers)
    response = client.get(f"/api/apps/{APP}/dashboards/store_sales", headers=admin_headers,
                          query_string={"at": AT.isoformat()})
    assert response.status_code == 200, response.get_json()
    month = {w["key"]: w["data"] for w in response.get_json()["widgets"]}
    check_sales_by_store_and_day(client, admin_headers, tenant, month)
    check_todays_targets(tenant, month)
    check_top_skus_and_the_assistant_ranking(tenant, month)
    check_each_assistants_hours_and_weekdays(client, admin_headers, tenant, month)
    check_conversion_and_stock_alerts(tenant, month)
