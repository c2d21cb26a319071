"""Inbound webhooks: another system calls ``POST /api/automations/hooks/<token>`` and the
automation runs with the request's JSON as ``$payload``.

A tenant admin creates (or rotates) the token of an automation whose trigger is
``webhook``; only its SHA-256 is stored and the URL is shown once. The token alone
identifies tenant, app and automation, so the caller needs no account.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlalchemy as sa

from builder.errors import NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.automation.context import now, rule_data, tenant_timezone, value_of
from builder.runtime.automation.definitions import Automation
from builder.runtime.automation.engine import fire
from builder.runtime.automation.models import AutomationHook
from builder.runtime.automation.triggers import Firing
from builder.runtime.rules.evaluator import RuleError
from builder.runtime.storage.tables import EntityStore, entity_store

HOOK_PATH = "/api/automations/hooks/"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _automation(tenant_id: int, app_key: str, key: str) -> tuple[EntityStore, Automation]:
    from builder.designer.service import live_app

    _app, definition = live_app(tenant_id, app_key)
    found = next((a for a in definition.get("automations") or () if a.get("key") == key),
                 None)
    if found is None or not found.get("enabled", True):
        raise NotFound(gettext("automation.error.not_found", automation=key))
    automation = Automation.from_definition(app_key, found)
    if automation.trigger_type != "webhook":
        message = gettext("automation.error.not_webhook", automation=key)
        raise ValidationFailed(message, [Problem("trigger.type", message, "not_webhook")])
    return entity_store(tenant_id, app_key, automation.entity), automation


def create_hook(tenant_id: int, app_key: str, key: str, user_id: int | None) -> dict[str, Any]:
    """A new secret URL for the automation (the previous one stops working)."""
    _automation(tenant_id, app_key, key)
    token = secrets.token_urlsafe(32)
    db.session.execute(sa.delete(AutomationHook).where(
        AutomationHook.tenant_id == tenant_id, AutomationHook.app_key == app_key,
        AutomationHook.automation_key == key))
    hook = AutomationHook(tenant_id=tenant_id, app_key=app_key, automation_key=key,
                          token_hash=_digest(token), created_at=now(), created_by=user_id)
    db.session.add(hook)
    db.session.commit()
    return {"url": HOOK_PATH + token, "token": token, "created_at": hook.created_at}


def delete_hook(tenant_id: int, app_key: str, key: str) -> None:
    """Stop accepting calls for the automation."""
    db.session.execute(sa.delete(AutomationHook).where(
        AutomationHook.tenant_id == tenant_id, AutomationHook.app_key == app_key,
        AutomationHook.automation_key == key))
    db.session.commit()


def receive(token: str, payload: Any) -> dict[str, Any]:
    """Run the automation behind ``token`` with ``payload``; ``NotFound`` for a bad token.

    Returns ``{"run": id}`` (``None`` when the condition did not hold)."""
    hook = db.session.scalars(sa.select(AutomationHook).where(
        AutomationHook.token_hash == _digest(token))).one_or_none()
    if hook is None:
        raise NotFound(gettext("automation.error.hook_not_found"))
    store, automation = _automation(hook.tenant_id, hook.app_key, hook.automation_key)
    at = now()
    context = {"$payload": payload, "$trigger": {"event": "webhook"}}
    record_id, record = _target(store, automation, context, at)
    run_id = fire(automation, store, Firing(record_id, record, context), None, at)
    db.session.commit()
    return {"run": run_id}


def _target(store: EntityStore, automation: Automation, context: dict[str, Any],
            at: Any) -> tuple[int | None, dict[str, Any] | None]:
    """The record the payload names through the trigger's ``record`` rule, if any."""
    logic = automation.trigger.get("record")
    if logic is None:
        return None, None
    try:
        value = value_of(logic, rule_data(None, at=at, context=context,
                                          timezone=tenant_timezone(store.tenant_id)))
    except RuleError as error:
        raise ValidationFailed(error.message, [Problem("$payload", error.message, "rule")]) \
            from None
    from builder.runtime.records import RecordService

    record_id = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str) and value.isdigit():
        record_id = int(value)
    if record_id is None:
        message = gettext("automation.error.hook_record", value=value)
        raise ValidationFailed(message, [Problem("$payload", message, "record")])
    record = RecordService(store, None, commit=False).get(record_id)
    if record.get("deleted"):
        raise NotFound(gettext("records.error.not_found"))
    return record_id, record
