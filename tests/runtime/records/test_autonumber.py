"""Autonumber codes: concurrent creates never share a code."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask

from tests.runtime.records.helpers import publish, records_url

CREATES = 20


def test_concurrent_creates_never_share_a_code(app: Flask, client: Any,
                                               admin_headers: Any) -> None:
    publish(client, admin_headers)
    start = threading.Barrier(CREATES)
    results: list[Any] = [None] * CREATES

    def create(index: int) -> None:
        own = app.test_client()  # a client, and so an app context, per thread
        start.wait()
        response = own.post(records_url("customer"), headers=admin_headers,
                            json={"data": {"name": f"并发客户 {index}"}})
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=create, args=(i,)) for i in range(CREATES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(r is not None and r[0] == 201 for r in results), results
    codes = sorted(r[1]["code"] for r in results)
    assert len(set(codes)) == CREATES
    assert [int(code.rsplit("-", 1)[1]) for code in codes] == list(range(1, CREATES + 1))


def test_concurrent_creates_of_a_unique_value_let_exactly_one_through(
        app: Flask, client: Any, admin_headers: Any) -> None:
    publish(client, admin_headers)
    racers = 8
    start = threading.Barrier(racers)
    results: list[Any] = [None] * racers

    def create(index: int) -> None:
        own = app.test_client()
        start.wait()
        response = own.post(records_url("customer"), headers=admin_headers,
                            json={"data": {"name": "同名客户"}})
        results[index] = response.status_code

    threads = [threading.Thread(target=create, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(results).count(201) == 1, results
    assert all(status in (201, 409, 422) for status in results), results
    listed = client.get(records_url("customer"), headers=admin_headers,
                        query_string={"filter": '{"==": [{"var": "name"}, "同名客户"]}',
                                      "count": "true"}).get_json()
    assert listed["total"] == 1
