"""The ``call_webhook`` action: an HTTP request to another system, sent after the run
commits (so a run that fails calls nobody), with the outcome kept in the run log.

The first attempt is a job sent when the run commits; a failed attempt (no answer, or a
status outside 2xx) is tried again by a durable timer after 30 s, then 1, 2 and 4 minutes
(``MAX_ATTEMPTS`` in all). Each attempt's outcome replaces the previous one in the run's
``result``."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from builder import clock
from builder.errors import Problem
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.automation.actions.base import (
    Action,
    ActionContext,
    ActionFailed,
    action_registry,
)
from builder.runtime.automation.context import iso
from builder.runtime.automation.models import AutomationRun
from builder.runtime.automation.params import problem, require
from builder.runtime.jobs import DueTimer, job, submit, timer_handler, timers

log = logging.getLogger(__name__)

METHODS = ("POST", "PUT", "PATCH")
RETRY_TIMER = "automation.webhook"
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(seconds=30)
TIMEOUT_SECONDS = 10
MAX_RESPONSE_CHARS = 500


def _valid_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def send_json(url: str, body: Any, method: str = "POST",
              headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Send ``body`` as JSON; returns ``{"status", "response"}`` or ``{"error"}``."""
    request = urllib.request.Request(
        url, data=json.dumps(body, ensure_ascii=False, default=str).encode("utf-8"),
        method=method, headers={"Content-Type": "application/json; charset=utf-8",
                                "User-Agent": "builder-automation", **dict(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            text = response.read(MAX_RESPONSE_CHARS * 4).decode("utf-8", "replace")
            return {"status": response.status, "response": text[:MAX_RESPONSE_CHARS]}
    except urllib.error.HTTPError as error:
        return {"status": error.code, "error": str(error.reason)[:MAX_RESPONSE_CHARS]}
    except (urllib.error.URLError, OSError, ValueError) as error:
        return {"error": str(getattr(error, "reason", error))[:MAX_RESPONSE_CHARS]}


def attempt(tenant_id: int, run_id: int, index: int, request: dict[str, Any],
            number: int) -> dict[str, Any]:
    """Make the request of action ``index`` of a committed run once, in the caller's
    transaction: log the outcome on the run, schedule the next attempt if it failed."""
    outcome = send_json(request["url"], request.get("body"), request.get("method", "POST"),
                        request.get("headers"))
    outcome["attempts"] = number
    if "error" in outcome or not 200 <= int(outcome.get("status", 0)) < 300:
        log.warning("webhook of run %s to %s failed: %s", run_id, request["url"], outcome)
        if number < MAX_ATTEMPTS:
            due = clock.now() + FIRST_RETRY * 2 ** (number - 1)
            outcome["retry_at"] = iso(due)
            timers.schedule(tenant_id, RETRY_TIMER, due, {
                "run": run_id, "index": index, "request": request, "attempt": number + 1},
                key=f"auto-webhook:{run_id}:{index}")
    run = db.session.execute(sa.select(AutomationRun).where(AutomationRun.id == run_id)
                             .with_for_update()).scalar_one_or_none()
    if run is not None and run.result and index < len(run.result):
        results = [dict(item) for item in run.result]
        results[index]["delivery"] = outcome
        run.result = results
    return outcome


@job("automation.webhook")
def deliver(tenant_id: int, run_id: int, index: int, request: dict[str, Any]) -> None:
    """Job: the first attempt, once the run committed."""
    attempt(tenant_id, run_id, index, request, 1)
    db.session.commit()


@timer_handler(RETRY_TIMER)
def retry(timer: DueTimer) -> None:
    """A later attempt, when its timer comes due."""
    payload = timer.payload
    attempt(timer.tenant_id, int(payload["run"]), int(payload["index"]), payload["request"],
            int(payload["attempt"]))


@action_registry.register
class CallWebhook(Action):
    """``{"type": "call_webhook", "url": "https://...", "method": "POST", "headers": {...},
    "body": <JsonLogic or an object of JsonLogic values>}``. Without ``body`` the record is
    sent. ``url`` and header values may hold ``{field}`` placeholders."""

    type = "call_webhook"

    def run(self, params: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        url = ctx.text(params.get("url"))
        if not _valid_url(url):
            raise ActionFailed(gettext("automation.error.bad_url", url=url))
        body = ctx.value(params["body"]) if "body" in params else ctx.record
        headers = {str(k): ctx.text(v) for k, v in (params.get("headers") or {}).items()}
        request = {"url": url, "method": str(params.get("method", "POST")).upper(),
                   "headers": headers, "body": body}
        submit(deliver, (ctx.tenant_id, ctx.run_id, ctx.action_index, request),
               tenant_id=ctx.tenant_id)
        return {"url": url, "delivery": None}

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        found = require(params, "url", path, str)
        url = params.get("url")
        if isinstance(url, str) and "{" not in url and not _valid_url(url):
            found.append(problem(f"{path}.url", "bad_url", url=url))
        if str(params.get("method", "POST")).upper() not in METHODS:
            found.append(problem(f"{path}.method", "param_choice", param="method",
                                 choices=", ".join(METHODS)))
        headers = params.get("headers")
        if headers is not None and not isinstance(headers, dict):
            found.append(problem(f"{path}.headers", "param_type", param="headers"))
        return found
