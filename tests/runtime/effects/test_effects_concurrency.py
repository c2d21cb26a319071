"""Two sales of the last unit at once: the database lets exactly one through.

The first request is held inside its transaction right after it took the stock (a test
listener waits until the second request has been sent), so the second one really runs
while the first has not committed; each request runs in its own thread, application
context and session (real concurrent connections on PostgreSQL; SQLite's writer lock
queues the second)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.runtime.effects.helpers import APP, shop_app
from tests.runtime.effects.race import hold_first_take, race
from tests.runtime.records.helpers import create, publish, records_url


@pytest.fixture
def held() -> Iterator[tuple[threading.Event, threading.Event]]:
    with hold_first_take() as events_:
        yield events_


def _race(app: Flask, headers: dict[str, str], body: dict[str, Any],
          held: tuple[threading.Event, threading.Event]) -> list[int]:
    responses = race(app, records_url("order", APP), body, headers, held)
    return sorted(response.status_code for response in responses)


def _last_unit(client: Any, headers: dict[str, str], backorder: bool
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    publish(client, headers, shop_app())
    store = create(client, headers, "store", {"name": "徐家汇店", "allow_backorder": backorder},
                   app=APP)
    sku = create(client, headers, "sku", {"barcode": "6901234567892"}, app=APP)
    stock = create(client, headers, "stock", {"store": store["id"], "sku": sku["id"],
                                              "qty": 1, "safety": 1}, app=APP)
    return {"store": store["id"], "lines": [{"sku": sku["id"], "qty": 1}]}, stock


def _stock_and_alerts(client: Any, headers: dict[str, str], stock: dict[str, Any]
                      ) -> tuple[Any, int, int]:
    qty = client.get(f"{records_url('stock', APP)}/{stock['id']}", headers=headers
                     ).get_json()["qty"]
    orders = client.get(records_url("order", APP), headers=headers,
                        query_string={"count": "true"}).get_json()["total"]
    alerts = client.get(records_url("alert", APP), headers=headers,
                        query_string={"count": "true"}).get_json()["total"]
    return qty, orders, alerts


def test_two_sales_of_the_last_unit_one_wins(app: Flask, client: Any,
                                             admin_headers: dict[str, str],
                                             held: tuple[threading.Event, threading.Event]
                                             ) -> None:
    body, stock = _last_unit(client, admin_headers, backorder=False)
    assert _race(app, admin_headers, body, held) == [201, 422]
    assert _stock_and_alerts(client, admin_headers, stock) == (0, 1, 1)


def test_with_back_orders_both_sales_go_through(app: Flask, client: Any,
                                                admin_headers: dict[str, str],
                                                held: tuple[threading.Event, threading.Event]
                                                ) -> None:
    body, stock = _last_unit(client, admin_headers, backorder=True)
    assert _race(app, admin_headers, body, held) == [201, 201]
    assert _stock_and_alerts(client, admin_headers, stock) == (-1, 2, 1)
