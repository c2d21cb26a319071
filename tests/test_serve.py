"""The embedded default end to end: ``builder init --demo`` then ``builder serve``, driven over
real HTTP the way a first-time user's script would: log in, then create a record; a demo
sales rep logs in with the password ``init`` printed and sees their own figures."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _call(url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def served(tmp_path: Path) -> Any:
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL")}
    env.update({"BUILDER_INSTANCE": str(tmp_path / "instance"), "PORT": str(port),
                "BUILDER_ADMIN_PASSWORD": "demo-admin-pass", "BUILDER_LANG": "en"})
    init = subprocess.run([sys.executable, "-m", "builder", "init", "--demo"], env=env,
                          capture_output=True, text=True, timeout=900)
    assert init.returncode == 0, init.stderr
    assert "demo" in init.stdout and "admin" in init.stdout
    server = subprocess.Popen([sys.executable, "-m", "builder", "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/api/openapi.json", timeout=2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("builder serve did not answer")
        yield base, init.stdout
    finally:
        server.terminate()
        server.wait(10)
        if server.stderr:
            server.stderr.close()


def _password(init_output: str, username: str) -> str:
    """The password ``init`` printed for ``username``."""
    match = re.search(rf"username {re.escape(username)}\s+password (\S+)", init_output)
    assert match, init_output
    return match.group(1)


def test_init_and_serve_then_login_and_create_a_record(served: tuple[str, str]) -> None:
    base, _ = served
    status, login = _call(f"{base}/api/auth/login",
                          {"tenant": "demo", "username": "admin", "password": "demo-admin-pass"})
    assert status == 200, login
    token = login["token"]

    status, apps = _call(f"{base}/api/apps", token=token)
    assert status == 200 and sorted(a["key"] for a in apps) == ["crm", "sales"]

    status, demo = _call(f"{base}/api/apps/crm/customer/records?count=true", token=token)
    assert status == 200
    status, customer = _call(f"{base}/api/apps/crm/customer/records",
                             {"data": {"name": "杭州启明科技", "level": "b", "region": "华东"}},
                             token=token)
    assert status == 201, customer
    assert customer["region"] == "east" and customer["code"].startswith("KH-")

    status, listed = _call(f"{base}/api/apps/crm/customer/records?count=true", token=token)
    assert status == 200 and listed["total"] == demo["total"] + 1

    status, refused = _call(f"{base}/api/apps/crm/customer/records",
                            {"data": {"name": "重点客户", "level": "a", "budget": 5000}},
                            token=token)
    assert status == 422
    assert refused["error"]["details"][0]["path"] == "budget"


def test_a_demo_sales_rep_logs_in_and_sees_their_figures(served: tuple[str, str]) -> None:
    base, output = served
    status, login = _call(f"{base}/api/auth/login", {
        "tenant": "demo", "username": "zhang.wei", "password": _password(output, "zhang.wei")})
    assert status == 200, login
    token = login["token"]
    status, board = _call(f"{base}/api/apps/sales/dashboards/leaderboard/widgets/board",
                          token=token)
    assert status == 200 and [row["label"] for row in board["data"]["rows"]] == ["张伟"]

    status, login = _call(f"{base}/api/auth/login", {
        "tenant": "demo", "username": "sun.li", "password": _password(output, "sun.li")})
    assert status == 200, login
    status, health = _call(f"{base}/api/apps/sales/dashboards/health/widgets/checklist",
                           token=login["token"])
    assert status == 200 and len(health["data"]["items"]) == 10
    assert all(item["value"] is not None for item in health["data"]["items"])
