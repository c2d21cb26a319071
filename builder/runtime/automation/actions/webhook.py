"""The ``call_webhook`` action: an HTTP request to another system, sent after the run
commits (so a run that fails calls nobody), with the outcome kept in the run log.

The first attempt is a job sent when the run commits; a failed attempt (no answer, or a
status outside 2xx) is tried again by a durable timer after 30 s, then 1, 2 and 4 minutes
(``MAX_ATTEMPTS`` in all). Each attempt's outcome replaces the previous one in the run's
``result``."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from builder import clock
from builder.errors import Problem
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime import signing
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
from builder.runtime.notify.channels.base import DeliveryFailed
from builder.runtime.notify.channels.http import dumps, post_json

log = logging.getLogger(__name__)

RETRY_TIMER = "automation.webhook"
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(seconds=30)
MAX_RESPONSE_CHARS = 500


def _valid_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def send_json(url: str, body: Any, headers: Mapping[str, str] | None = None,
              secret: str | None = None) -> dict[str, Any]:
    """POST ``body`` as JSON (signed with ``secret`` if given); ``{"ok": true,
    "response"}`` or ``{"ok": false, "error"}``."""
    raw = dumps(body)
    sent = dict(headers or {})
    if secret:
        sent.update(signing.signed_headers(secret, int(clock.now().timestamp()), raw))
    try:
        answer = post_json(url, raw, sent)
    except DeliveryFailed as failure:
        return {"ok": False, "error": str(failure)[:MAX_RESPONSE_CHARS]}
    text = json.dumps(answer, ensure_ascii=False) if answer is not None else None
    return {"ok": True, "response": text[:MAX_RESPONSE_CHARS] if text else None}


def attempt(tenant_id: int, run_id: int, index: int, request: dict[str, Any],
            number: int) -> dict[str, Any]:
    """Make the request of action ``index`` of a committed run once, in the caller's
    transaction: log the outcome on the run, schedule the next attempt if it failed."""
    outcome = send_json(request["url"], request.get("body"), request.get("headers"),
                        request.get("secret"))
    outcome["attempts"] = number
    if not outcome["ok"]:
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
    """``{"type": "call_webhook", "url": "https://...", "headers": {...}, "secret": ...,
    "body": <JsonLogic or an object of JsonLogic values>}``: a POST of JSON. Without
    ``body`` the record is sent. ``url`` and header values may hold ``{field}``
    placeholders; with ``secret`` the call is signed (``X-Builder-Signature``)."""

    type = "call_webhook"

    def run(self, params: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        url = ctx.text(params.get("url"))
        if not _valid_url(url):
            raise ActionFailed(gettext("automation.error.bad_url", url=url))
        body = ctx.value(params["body"]) if "body" in params else ctx.record
        headers = {str(k): ctx.text(v) for k, v in (params.get("headers") or {}).items()}
        request = {"url": url, "headers": headers, "body": body,
                   "secret": params.get("secret")}
        submit(deliver, (ctx.tenant_id, ctx.run_id, ctx.action_index, request),
               tenant_id=ctx.tenant_id)
        return {"url": url, "delivery": None}

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        found = require(params, "url", path, str)
        url = params.get("url")
        if isinstance(url, str) and "{" not in url and not _valid_url(url):
            found.append(problem(f"{path}.url", "bad_url", url=url))
        if params.get("secret") is not None and not isinstance(params["secret"], str):
            found.append(problem(f"{path}.secret", "param_type", param="secret"))
        headers = params.get("headers")
        if headers is not None and not isinstance(headers, dict):
            found.append(problem(f"{path}.headers", "param_type", param="headers"))
        return found
