"""Intake endpoints: the token behind each public form and inbound webhook of a tenant.

The definition says which forms and webhooks exist; the tenant's endpoint rows hold their
secret tokens. Rows are made when an admin first lists them and survive re-publishing;
a token whose form or webhook left the live definition, or is disabled, answers 404 like
a token that never existed. A token always leads to its own tenant's app and tables.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from builder.database import utcnow
from builder.designer.service import list_apps, live_app
from builder.errors import AppError, NotFound
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.intake.models import FORM, HOOK, IntakeEndpoint
from builder.runtime.storage.tables import EntityStore, entity_store

SECTIONS = {FORM: "public_forms", HOOK: "inbound_webhooks"}
PATHS = {FORM: "/api/public/forms/", HOOK: "/api/hooks/"}


@dataclass(frozen=True)
class Resolved:
    """A live endpoint: its row, the app definition, its entry there and its entity."""

    endpoint: IntakeEndpoint
    definition: Mapping[str, Any]
    entry: Mapping[str, Any]
    store: EntityStore


def _token() -> str:
    return secrets.token_urlsafe(24)


def _entry(definition: Mapping[str, Any], kind: str, key: str) -> Mapping[str, Any] | None:
    for entry in definition.get(SECTIONS[kind]) or []:
        if entry.get("key") == key:
            return dict(entry)
    return None


def _not_found() -> NotFound:
    return NotFound(gettext("intake.error.not_found"))


def resolve(token: str, kind: str) -> Resolved:
    """The enabled endpoint of ``kind`` behind ``token``, or ``NotFound``."""
    if not token or len(token) > 64:
        raise _not_found()
    endpoint = db.session.scalar(sa.select(IntakeEndpoint).where(
        IntakeEndpoint.token == token, IntakeEndpoint.kind == kind))
    if endpoint is None:
        raise _not_found()
    try:
        _app, definition = live_app(endpoint.tenant_id, endpoint.app_key)
        entry = _entry(definition, kind, endpoint.key)
        if entry is None or not entry.get("enabled", True):
            raise _not_found()
        store = entity_store(endpoint.tenant_id, endpoint.app_key, str(entry["entity"]))
    except AppError:
        raise _not_found() from None
    return Resolved(endpoint, definition, entry, store)


def _create(tenant_id: int, app_key: str, kind: str, key: str) -> IntakeEndpoint:
    endpoint = IntakeEndpoint(tenant_id=tenant_id, app_key=app_key, kind=kind, key=key,
                              token=_token(), secret=secrets.token_hex(24))
    try:
        with db.session.begin_nested():
            db.session.add(endpoint)
    except IntegrityError:  # made by a concurrent request: use theirs
        found = db.session.scalar(sa.select(IntakeEndpoint).where(
            IntakeEndpoint.tenant_id == tenant_id, IntakeEndpoint.app_key == app_key,
            IntakeEndpoint.kind == kind, IntakeEndpoint.key == key))
        if found is None:
            raise
        return found
    return endpoint


def list_endpoints(tenant_id: int) -> list[dict[str, Any]]:
    """Every public form and inbound webhook of the tenant's live apps, with its token
    (made on first sight). The caller commits."""
    existing = {(e.app_key, e.kind, e.key): e for e in db.session.scalars(
        sa.select(IntakeEndpoint).where(IntakeEndpoint.tenant_id == tenant_id))}
    result: list[dict[str, Any]] = []
    for app in list_apps(tenant_id):
        if app.live_version is None:
            continue
        _app, definition = live_app(tenant_id, app.key)
        for kind, section in SECTIONS.items():
            for entry in definition.get(section) or []:
                endpoint = existing.get((app.key, kind, entry["key"])) or \
                    _create(tenant_id, app.key, kind, entry["key"])
                result.append(describe(endpoint, entry))
    return result


def describe(endpoint: IntakeEndpoint, entry: Mapping[str, Any] | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": endpoint.id, "kind": endpoint.kind, "app": endpoint.app_key,
        "key": endpoint.key, "token": endpoint.token,
        "path": PATHS[endpoint.kind] + endpoint.token, "rotated_at": endpoint.rotated_at,
        "title": entry.get("title") if entry else None,
        "entity": entry.get("entity") if entry else None,
        "enabled": bool(entry.get("enabled", True)) if entry else False,
    }
    if endpoint.kind == HOOK:
        item["secret"] = endpoint.secret
        item["signature"] = bool(entry and entry.get("signature"))
    return item


def get_endpoint(tenant_id: int, endpoint_id: int) -> IntakeEndpoint:
    endpoint = db.session.scalar(sa.select(IntakeEndpoint).where(
        IntakeEndpoint.id == endpoint_id, IntakeEndpoint.tenant_id == tenant_id))
    if endpoint is None:
        raise _not_found()
    return endpoint


def entry_of(endpoint: IntakeEndpoint) -> Mapping[str, Any] | None:
    try:
        _app, definition = live_app(endpoint.tenant_id, endpoint.app_key)
    except AppError:
        return None
    return _entry(definition, endpoint.kind, endpoint.key)


def rotate(tenant_id: int, endpoint_id: int) -> dict[str, Any]:
    """A new token (and signing secret) for an endpoint; the old ones stop working at
    once. The caller commits."""
    endpoint = get_endpoint(tenant_id, endpoint_id)
    endpoint.token, endpoint.secret = _token(), secrets.token_hex(24)
    endpoint.rotated_at = utcnow()
    db.session.flush()
    return describe(endpoint, entry_of(endpoint))
