"""Which uploaded files a user may download: those reachable through a record they may read.

A file is reachable when a live record the user may read (inside their read scope) holds
it in an attachment or image field they may read; sub-table rows count through their
parent record. The uploader reaches their own files (to preview before saving) and tenant
admins reach every file of the tenant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.runtime.access.scopes import Reacher
from builder.runtime.storage.tables import EntityStore, load_stores
from builder.runtime.storage.tenancy import system_tables

FILE_TYPES = ("attachment", "image")


def _holds(reacher: Reacher, store: EntityStore, file_id: str) -> bool:
    """Whether a row of ``store`` the user reaches holds the file in a readable field."""
    keys = [key for key in store.columns if store.fields[key].get("type") in FILE_TYPES]
    reach = reacher.reach(store) if keys else None
    if reach is None:
        return False
    condition, hidden = reach
    readable = [store.columns[key] for key in keys if key not in hidden]
    if not readable:
        return False
    mentions = sa.or_(*(sa.cast(c, sa.Text).contains(file_id, autoescape=True)
                        for c in readable))
    return db.session.execute(sa.select(store.table.c.id).where(
        condition, mentions).limit(1)).first() is not None


def can_read_file(user: Any, file_id: str) -> bool:
    """Whether ``user`` may download the tenant's file ``file_id`` (see the module)."""
    if getattr(user, "is_tenant_admin", False):
        return True
    file_id = str(file_id).lower()
    table = system_tables(user.tenant_id, db.session.get_bind().dialect.name)[2]
    uploader = db.session.execute(sa.select(table.c.uploaded_by).where(
        table.c.id == file_id)).first()
    if uploader is None:
        return False
    if uploader[0] == user.id:
        return True
    from builder.designer.service import list_apps, live_app
    from builder.platform.service import user_context

    context: dict[str, Any] = {}

    def lazy_context() -> Mapping[str, Any]:
        if not context:
            context.update(user_context(user))
        return context

    for app in list_apps(user.tenant_id):
        if app.live_version is None or app.live_revision is None:
            continue
        app, definition = live_app(user.tenant_id, app.key)
        stores = load_stores(user.tenant_id, app.id, app.live_revision or "", definition)
        reacher = Reacher(stores, user, lazy_context)
        if any(_holds(reacher, store, file_id) for store in stores.values()):
            return True
    return False
