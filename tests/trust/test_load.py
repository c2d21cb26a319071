"""Load: 8 concurrent clients against a real gunicorn on PostgreSQL.

- They create records of one entity at once: every acknowledged create is stored, and
  the autonumbers are distinct.
- They increment a number field of a few shared records by read-modify-write with the
  record's version, retrying on 409, for a fixed number of requests each: the stored
  total equals the sum of the acknowledged increments (zero lost updates).
Zero 5xx throughout. Skips without ``TEST_DATABASE_URL``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.definitions import entity, field, minimal_app
from tests.runtime.records.helpers import publish, records_url
from tests.trust.figures import record

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 8
CREATES_PER_CLIENT = 15
INCREMENT_REQUESTS_PER_CLIENT = 30  # PATCH attempts, acknowledged or refused with 409
SHARED_RECORDS = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Http:
    """A tiny JSON client that tallies every status it gets."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.statuses: Counter[int] = Counter()
        self._lock = threading.Lock()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                status, payload = response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            status, payload = error.code, json.loads(error.read() or b"null")
        with self._lock:
            self.statuses[status] += 1
        return status, payload

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


@pytest.fixture
def gunicorn(app: Any, tmp_path: Path) -> Iterator[str]:
    """A gunicorn with 4 workers on the test's PostgreSQL database; its base URL."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL)")
    config = app.config["BUILDER"]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "REDIS_URL")}
    env.update({"DATABASE_URL": config.database_url, "SECRET_KEY": "test",
                "BUILDER_INSTANCE": str(tmp_path / "served"), "BUILDER_LANG": "en",
                "FILES_DIR": str(config.files_dir),
                "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])})
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "4", "--bind", f"127.0.0.1:{port}",
         "--timeout", "120", "builder.wsgi:app"], cwd=ROOT, env=env, stdout=log,
        stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/api/openapi.json", timeout=5).close()
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not come up")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()


def _definition() -> dict[str, Any]:
    counter = entity("counter", "计数", "Counter", [
        field("name", "text", "名称", "Name", required=True),
        field("code", "autonumber", "编号", "No.", template="JS-{seq:5}"),
        field("n", "number", "次数", "Count", precision=0)], title_field="name")
    definition = minimal_app(counter)
    definition["key"] = "load"
    return definition


def _increments(http: Http, url: str, ids: list[int], client: int) -> int:
    """Fixed number of PATCH attempts; returns how many were acknowledged."""
    acknowledged = 0
    for attempt in range(INCREMENT_REQUESTS_PER_CLIENT):
        record_id = ids[(client + attempt) % len(ids)]
        status, current = http.call("GET", f"{url}/{record_id}")
        assert status == 200, current
        status, answer = http.call("PATCH", f"{url}/{record_id}", {
            "version": current["version"], "data": {"n": (current["n"] or 0) + 1}})
        assert status in (200, 409), (status, answer)
        acknowledged += status == 200
    return acknowledged


def test_concurrent_clients_lose_no_update_and_get_no_5xx(client, admin_headers, gunicorn):
    publish(client, admin_headers, _definition())
    token = admin_headers["Authorization"].split(" ", 1)[1]
    http = Http(gunicorn, token)
    url = records_url("counter", "load")

    def create(client_no: int) -> list[dict[str, Any]]:
        made = []
        for n in range(CREATES_PER_CLIENT):
            status, body = http.call("POST", url, {"data": {"name": f"c{client_no}-{n}"}})
            assert status == 201, (status, body)
            made.append(body)
        return made

    with ThreadPoolExecutor(CLIENTS) as pool:
        created = [r for made in pool.map(create, range(CLIENTS)) for r in made]
    status, listing = http.call("GET", f"{url}?limit=500&count=true")
    assert status == 200, listing
    stored = {r["id"]: r for r in listing["items"]}
    assert listing["total"] == CLIENTS * CREATES_PER_CLIENT == len(created)
    assert {r["id"] for r in created} == set(stored)
    codes = [r["code"] for r in stored.values()]
    assert len(set(codes)) == len(codes) and all(codes), codes

    shared = [r["id"] for r in created[:SHARED_RECORDS]]
    with ThreadPoolExecutor(CLIENTS) as pool:
        acknowledged = sum(pool.map(lambda c: _increments(http, url, shared, c),
                                    range(CLIENTS)))
    totals = [http.call("GET", f"{url}/{record_id}")[1]["n"] or 0 for record_id in shared]
    lost = abs(acknowledged - sum(totals)) + (len(created) - len(stored))
    record("load", probes_sent=sum(http.statuses.values()), server_errors=http.server_errors,
           records_lost=lost)
    assert acknowledged > 0 and sum(totals) == acknowledged, (acknowledged, totals)
    assert http.server_errors == 0, http.statuses
    assert http.statuses[409] + acknowledged == CLIENTS * INCREMENT_REQUESTS_PER_CLIENT
