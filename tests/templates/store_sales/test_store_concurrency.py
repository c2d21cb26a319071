"""Two counters sell the last unit of a SKU at once: one sale goes through, the other is
refused, unless the store allows back orders (then both go through and stock is -1).

The first sale is held inside its transaction right after it took the stock, until the
second one has been sent: on PostgreSQL the two run on real concurrent connections (the
second waits on the stock row's lock, then finds nothing left); SQLite's writer lock
queues the second behind the first."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from builder.extensions import db
from builder.runtime.records import events
from tests.templates.store_sales.package import url
from tests.templates.store_sales.shop import open_shop

HOLD = "test.store_sales.hold"


@pytest.fixture
def held() -> Iterator[tuple[threading.Event, threading.Event]]:
    inside, second_sent = threading.Event(), threading.Event()
    taken = [False]

    def hold(change: events.RecordChange) -> None:
        if change.entity == "stock" and change.engine == "effects" and not taken[0]:
            taken[0] = True
            inside.set()
            second_sent.wait(10)
            time.sleep(0.5)

    events.record_hooks.listener(HOLD, priority=99)(hold)
    yield inside, second_sent
    events.record_hooks.remove(HOLD)


@pytest.mark.parametrize(("store", "outcomes", "left"), [
    ("sh01", [201, 422], 0), ("gz01", [201, 201], -1)])
def test_two_sales_of_the_last_unit(app: Flask, client: Any, admin_headers: dict[str, str],
                                    held: tuple[threading.Event, threading.Event],
                                    store: str, outcomes: list[int], left: int) -> None:
    shop = open_shop(client, admin_headers)
    shop.set_stock(store, "tee_l", 1, safety=0)
    body = {"store_code": store.upper(), "lines": [{"barcode": shop.barcode("tee_l")}]}
    inside, second_sent = held
    db.session.commit()
    results: dict[str, Any] = {}

    def send(label: str) -> None:
        if label == "second":
            assert inside.wait(10), "the first sale never took the stock"
            second_sent.set()
        results[label] = app.test_client().post(url("sales_order"), json={"data": body},
                                                headers=admin_headers)

    threads = [threading.Thread(target=send, args=(label,)) for label in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r.status_code for r in results.values()) == outcomes
    assert shop.stock(store, "tee_l")["qty"] == left
    assert shop.count("sales_order") == outcomes.count(201)
    refused = [r for r in results.values() if r.status_code == 422]
    for response in refused:
        assert response.get_json()["error"]["details"][0]["path"] == "lines[0].qty"
