"""Two counters sell the last unit of a SKU at once: one sale goes through, the other is
refused, unless the store allows back orders (then both go through and stock is -1).

The first sale is held inside its transaction right after it took the stock, until the
second one has been sent: on PostgreSQL the two run on real concurrent connections (the
second waits on the stock row's lock, then finds nothing left); SQLite's writer lock
queues the second behind the first."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.runtime.effects.race import hold_first_take, race
from tests.templates.store_sales.package import url
from tests.templates.store_sales.shop import open_shop


@pytest.fixture
def held() -> Iterator[tuple[threading.Event, threading.Event]]:
    with hold_first_take() as events_:
        yield events_


@pytest.mark.parametrize(("store", "outcomes", "left"), [
    ("sh01", [201, 422], 0), ("gz01", [201, 201], -1)])
def test_two_sales_of_the_last_unit(app: Flask, client: Any, admin_headers: dict[str, str],
                                    held: tuple[threading.Event, threading.Event],
                                    store: str, outcomes: list[int], left: int) -> None:
    shop = open_shop(client, admin_headers)
    shop.set_stock(store, "tee_l", 1, safety=0)
    body = {"store_code": store.upper(), "lines": [{"barcode": shop.barcode("tee_l")}]}
    responses = race(app, url("sales_order"), body, admin_headers, held)
    assert sorted(r.status_code for r in responses) == outcomes
    assert shop.stock(store, "tee_l")["qty"] == left
    assert shop.count("sales_order") == outcomes.count(201)
    refused = [r for r in responses if r.status_code == 422]
    for response in refused:
        assert response.get_json()["error"]["details"][0]["path"] == "lines[0].qty"
