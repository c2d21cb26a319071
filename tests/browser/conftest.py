"""Browser tests: Debian's chromium driven by Playwright against the real server.

- ``live_server``: the app of the ``app`` fixture (its own temporary database, SQLite or
  PostgreSQL like every test) served over HTTP on a free port by werkzeug in a thread, with
  the built web app (``frontend/dist``, ``make frontend``). Its background jobs run in the
  app (``app_overrides``), with or without Redis.
- chromium is the system's (``shutil.which("chromium")``), started with the flags of
  DESIGN.md; without it every test here is skipped, saying why. Playwright never downloads
  a browser.
- ``shots``: ``shots("step")`` saves a screenshot to ``test-artifacts/browser/<test>/``.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--no-first-run",
    # a camera that shows a test pattern, allowed without asking (barcode fields)
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
]
PASSWORD = "secret-pass"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM:
        return
    reason = "chromium is not installed (apt-get install chromium fonts-noto-cjk)"
    if os.environ.get("CI"):
        raise pytest.UsageError(f"{reason}: CI must run the browser tests (.ci/run installs it)")
    skip = pytest.mark.skip(reason=reason)
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def base_url() -> None:
    """Pages are opened with full URLs of ``live_server`` (this replaces pytest-base-url's)."""
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS,
            "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
            "viewport": {"width": 1440, "height": 900}}


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """The pages' background jobs (imports, market operations) run inside the served app,
    as on the embedded default, even when the suite runs with Redis: no RQ worker serves
    the test server. The queue path is proven by the job and worker tests."""
    return {"redis_url": None}


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    if not (DIST / "index.html").is_file():
        pytest.fail(f"the web app is not built ({DIST}): run `make frontend` first")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def shot(page: Any, step: str) -> Path:
        path = folder / f"{next(counter):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot


RAW_KEY = re.compile(
    r"\b(?:common|login|shell|home|errors|designer|palette|props|cond|publish|versions|runtime"
    r"|form|record|history|kanban|stage|approvals|timeline|notify|inbox|dashboard|imports"
    r"|public|admin|market|views|processes|sla)\.[a-z_]+(?:\.[a-z_]+)*\b")


def untranslated(page: Any) -> list[str]:
    """Raw message keys visible on the page, plus keys the catalogues lacked."""
    text = page.evaluate("() => document.body.innerText")
    missing = page.evaluate("() => window.__missingMessages || []")
    return sorted(set(RAW_KEY.findall(text)) | set(missing))


OVERFLOW_SCRIPT = """() => {
  const selectors = 'button, .el-tag, .el-tabs__item, .el-radio-button__inner, .el-checkbox__label,'
    + ' .el-form-item__label, .el-table th .cell, .nav-link, .entity-link, h1, h2, h3';
  const found = [];
  for (const el of document.querySelectorAll(selectors)) {
    if (!el.offsetParent || !el.innerText.trim()) continue;
    const style = getComputedStyle(el);
    if (style.textOverflow === 'ellipsis') continue;
    const cutAcross = el.scrollWidth > el.clientWidth + 2;
    const cutDown = el.scrollHeight > el.clientHeight + 4 && style.whiteSpace === 'nowrap';
    if (cutAcross || cutDown) {
      found.push(el.innerText.trim().slice(0, 40));
    }
  }
  return found;
}"""


def overflowing(page: Any) -> list[str]:
    """Texts of buttons, tags, tabs, labels and headings cut off by their box."""
    return list(page.evaluate(OVERFLOW_SCRIPT))


def login(page: Any, base: str, username: str, tenant: str = "acme",
          password: str = PASSWORD) -> None:
    """Log in through the login page, as a person would."""
    page.goto(f"{base}/login")
    page.get_by_test_id("login-tenant").fill(tenant)
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


@pytest.fixture(scope="session", autouse=True)
def _test_ids(playwright: Any) -> None:
    playwright.selectors.set_test_id_attribute("data-test")
