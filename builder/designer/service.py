"""App definitions of a tenant: import, draft, plan, publish, versions, rollback.

A manager edits a draft; publishing validates it, computes the storage plan, applies it and
records a new version, all in one transaction. Nothing is half-published: a failure leaves
tables, metadata and the live version as they were.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from builder.designer.models import App, AppVersion
from builder.errors import Conflict, NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.storage import schema_editor
from builder.runtime.storage.models import utcnow
from builder.runtime.storage.plan import Plan, make_plan
from builder.schema.diff import diff, summarize
from builder.schema.validate import validate_definition


def list_apps(tenant_id: int) -> list[App]:
    """The tenant's apps, without those the market uninstalled."""
    return list(db.session.scalars(
        sa.select(App).where(App.tenant_id == tenant_id, App.uninstalled_at.is_(None))
        .order_by(App.key)))


def find_app(tenant_id: int, app_key: str) -> App | None:
    """The app with this key, uninstalled or not (the key stays taken either way)."""
    return db.session.scalars(
        sa.select(App).where(App.tenant_id == tenant_id, App.key == app_key)).one_or_none()


def get_app(tenant_id: int, app_key: str) -> App:
    """The app with this key, or ``NotFound`` (also for an uninstalled app)."""
    app = find_app(tenant_id, app_key)
    if app is None or app.uninstalled_at is not None:
        raise NotFound(gettext("designer.error.app_not_found", app=app_key))
    return app


def live_definition(app: App) -> dict[str, Any] | None:
    if app.live_version is None:
        return None
    version = db.session.scalars(sa.select(AppVersion).where(
        AppVersion.app_id == app.id, AppVersion.number == app.live_version)).one()
    return version.definition


_live_cache: dict[tuple[int, str], dict[str, Any]] = {}


def live_app(tenant_id: int, app_key: str) -> tuple[App, dict[str, Any]]:
    """The published app and its definition (cached by revision), or ``NotFound``."""
    app = get_app(tenant_id, app_key)
    if app.live_version is None or app.live_revision is None:
        raise NotFound(gettext("designer.error.app_not_published", app=app_key))
    key = (app.id, app.live_revision)
    definition = _live_cache.get(key)
    if definition is None:
        definition = live_definition(app) or {}
        if len(_live_cache) > 1000:
            _live_cache.clear()
        _live_cache[key] = definition
    return app, definition


def import_app(tenant_id: int, definition: Any, user_id: int | None) -> App:
    """Create an app from a definition; it becomes the draft, to be planned and published."""
    normalized = validate_definition(definition)
    if find_app(tenant_id, normalized["key"]) is not None:
        raise Conflict(gettext("designer.error.app_exists", app=normalized["key"]),
                       [Problem("key", gettext("designer.error.app_exists",
                                               app=normalized["key"]), "duplicate")])
    app = App(tenant_id=tenant_id, key=normalized["key"], title=normalized["title"],
              draft=normalized, draft_updated_at=utcnow(), draft_updated_by=user_id,
              created_by=user_id)
    db.session.add(app)
    db.session.flush()
    return app


def save_draft(tenant_id: int, app_key: str, definition: Any, user_id: int | None) -> App:
    app = get_app(tenant_id, app_key)
    normalized = validate_definition(definition)
    if normalized["key"] != app.key:
        raise ValidationFailed(gettext("schema.error.invalid_definition"), [
            Problem("key", gettext("designer.error.key_mismatch", app=app.key), "key_mismatch")])
    app.draft = normalized
    app.title = normalized["title"]
    app.draft_updated_at, app.draft_updated_by = utcnow(), user_id
    db.session.flush()
    return app


def current_draft(app: App) -> dict[str, Any]:
    """The draft, or the live definition when nobody has started a draft."""
    draft = app.draft or live_definition(app)
    if draft is None:
        raise NotFound(gettext("designer.error.no_draft", app=app.key))
    return copy.deepcopy(draft)


def plan(tenant_id: int, app_key: str, language: str | None = None) -> dict[str, Any]:
    """What publishing the draft would do: definition changes in words and storage steps."""
    app = get_app(tenant_id, app_key)
    draft = validate_definition(current_draft(app))
    storage_plan = make_plan(tenant_id, app.id, draft)
    changes = diff(live_definition(app), draft)
    result = storage_plan.as_dict(language)
    result["changes"] = summarize(changes, language)
    result["live_version"] = app.live_version
    return result


def publish(tenant_id: int, app_key: str, user_id: int | None) -> AppVersion:
    """Validate, plan and apply the draft, and record it as the next version."""
    app = get_app(tenant_id, app_key)
    draft = validate_definition(current_draft(app))
    return _publish(app, draft, user_id)


PublishListener = Callable[[App, Mapping[str, Any], Mapping[str, Any] | None], None]
_publish_listeners: dict[str, PublishListener] = {}


def on_publish(name: str) -> Callable[[PublishListener], PublishListener]:
    """Register ``func(app, definition, previous)``, called in the publishing transaction
    once the new version is stored, so engines can bring their timers in step with it
    (a failure undoes the publish)."""

    def add(func: PublishListener) -> PublishListener:
        _publish_listeners[name] = func
        return func

    return add


def publish_definition(app: App, definition: Any, user_id: int | None) -> AppVersion:
    """Validate and publish ``definition`` as the app's next version (the market's upgrades
    publish a merged definition this way); any draft is replaced by it."""
    return _publish(app, validate_definition(definition), user_id)


def _publish(app: App, definition: dict[str, Any], user_id: int | None) -> AppVersion:
    storage_plan: Plan = make_plan(app.tenant_id, app.id, definition)
    schema_editor.apply(storage_plan, app.id, definition)
    previous = live_definition(app)
    number = (db.session.scalar(
        sa.select(sa.func.max(AppVersion.number)).where(AppVersion.app_id == app.id)) or 0) + 1
    version = AppVersion(app_id=app.id, number=number, definition=definition,
                         summary=summarize(diff(previous, definition), None),
                         published_by=user_id)
    db.session.add(version)
    app.live_version = number
    app.live_revision = uuid.uuid4().hex
    app.title = definition["title"]
    app.draft = None
    db.session.flush()
    for listener in list(_publish_listeners.values()):
        listener(app, definition, previous)
    return version


def versions(tenant_id: int, app_key: str) -> list[AppVersion]:
    app = get_app(tenant_id, app_key)
    return list(db.session.scalars(sa.select(AppVersion).where(
        AppVersion.app_id == app.id).order_by(AppVersion.number.desc())))


def get_version(tenant_id: int, app_key: str, number: int) -> AppVersion:
    app = get_app(tenant_id, app_key)
    version = db.session.scalars(sa.select(AppVersion).where(
        AppVersion.app_id == app.id, AppVersion.number == number)).one_or_none()
    if version is None:
        raise NotFound(gettext("designer.error.version_not_found", version=number))
    return version


def rollback(tenant_id: int, app_key: str, number: int, user_id: int | None) -> AppVersion:
    """Publish an earlier version again, as a new version; hidden fields come back with data."""
    app = get_app(tenant_id, app_key)
    old = get_version(tenant_id, app_key, number)
    definition = validate_definition(copy.deepcopy(old.definition))
    return _publish(app, definition, user_id)


def ensure_published(tenant_id: int, definition: Any, user_id: int | None) -> App:
    """Import and publish a definition unless the tenant already has an app with its key."""
    key = definition.get("key") if isinstance(definition, Mapping) else None
    existing = find_app(tenant_id, str(key))
    if existing is not None:
        return existing
    app = import_app(tenant_id, definition, user_id)
    publish(tenant_id, app.key, user_id)
    return app


def export_definition(tenant_id: int, app_key: str) -> Mapping[str, Any]:
    app = get_app(tenant_id, app_key)
    definition = live_definition(app)
    if definition is None:
        raise NotFound(gettext("designer.error.app_not_published", app=app_key))
    return definition


def purge_hidden(tenant_id: int, app_key: str, entity_key: str, field_key: str | None) -> int:
    app = get_app(tenant_id, app_key)
    try:
        return schema_editor.purge(tenant_id, app.id, entity_key, field_key)
    except sa.exc.NoResultFound:
        raise NotFound(gettext("storage.error.entity_not_found", entity=entity_key)) from None
