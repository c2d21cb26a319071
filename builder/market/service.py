"""The market's entry points for the HTTP API and the command line.

Each operation runs in the caller's transaction and returns a report; ``complete``
commits it, or rolls it back for a dry run (whose report is then the plan: the same code
ran, nothing stays). Installing a package that is an export imports it.
"""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa

from builder.errors import Forbidden
from builder.extensions import db
from builder.i18n import gettext
from builder.market import installer, transfer
from builder.market.catalog import find_install
from builder.market.package import Package, to_zip
from builder.market.report import ProgressCallback, Report
from builder.platform import service as platform
from builder.platform.models import Tenant, User
from builder.runtime.records.files import save_upload

ZIP_TYPE = "application/zip"


def complete(dry_run: bool) -> None:
    """Keep what the operation did, or undo it all for a dry run."""
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()


def install(tenant: Tenant, package: Package, user: Any, *, demo_data: bool = False,
            progress: ProgressCallback | None = None) -> Report:
    """Install a market package, or import an exported one (with its data)."""
    if package.is_export:
        return transfer.import_package(tenant, package, user, progress=progress)
    return installer.install(tenant, package, user, demo_data=demo_data, progress=progress)


def upgrade(tenant: Tenant, package: Package, user: Any, *,
            progress: ProgressCallback | None = None) -> Report:
    """Upgrade an installed package, keeping the tenant's changes (three-way merge)."""
    return installer.upgrade(tenant, package, user, progress=progress)


def uninstall(tenant: Tenant, package_key: str, user: Any, *, purge: bool = False,
              export: bool = False, progress: ProgressCallback | None = None) -> Report:
    """Uninstall (optionally purge) a package; ``export`` first keeps a package file of its
    apps with their data among the tenant's files (its id is in the report)."""
    stored = None
    if export:
        record = find_install(tenant.id, package_key)
        if record is not None:
            apps = [k for k in record.base if published(tenant.id, k)]
            if apps:
                package = transfer.export_package(tenant, apps, with_data=True)
                stored = save_upload(tenant.id, getattr(user, "id", None),
                                     io.BytesIO(to_zip(package)), f"{package_key}-export.zip",
                                     ZIP_TYPE)
    report = installer.uninstall(tenant, package_key, user, purge=purge, progress=progress)
    if stored is not None:
        report.extra["export_file"] = stored
    return report


def published(tenant_id: int, app_key: str) -> bool:
    """Whether the tenant has the app (uninstalled or not) with a published version."""
    from builder.designer.service import find_app

    app = find_app(tenant_id, app_key)
    return app is not None and app.live_version is not None


def export_zip(tenant: Tenant, app_keys: list[str] | None = None, *,
               with_data: bool = False) -> tuple[bytes, str]:
    """A package file of the tenant's apps (all, or ``app_keys``) and its file name."""
    package = transfer.export_package(tenant, app_keys, with_data=with_data)
    return to_zip(package), f"{package.key}-{package.version}.zip"


def import_package(tenant: Tenant, package: Package, user: Any, *, with_data: bool = True,
                   progress: ProgressCallback | None = None) -> Report:
    """Install an exported package (its apps, roles, teams and, ``with_data``, records)."""
    return transfer.import_package(tenant, package, user, with_data=with_data,
                                   progress=progress)


def clone(source: Tenant, target: Tenant, user: Any, *, with_data: bool = False,
          progress: ProgressCallback | None = None) -> Report:
    """Copy every app of ``source`` (and, ``with_data``, its records) into ``target``."""
    return transfer.clone_tenant(source, target, user, with_data=with_data, progress=progress)


def clone_target(caller: User, slug: str) -> tuple[Tenant, User]:
    """The tenant an admin clones into, and who acts there: an existing tenant where the
    caller is an admin under the same username, or a new one with the caller as admin."""
    target = platform.get_tenant(slug)
    if target is None:
        target = platform.create_tenant(slug, slug)
        twin = platform.create_user(target, caller.username, None,
                                    is_tenant_admin=True, display_name=caller.display_name,
                                    email=caller.email)
        twin.password_hash = caller.password_hash
        db.session.flush()
        return target, twin
    same = platform.get_user_by_username(target, caller.username)
    if target.id == caller.tenant_id or same is None or not same.is_active \
            or not same.is_tenant_admin:
        raise Forbidden(gettext("market.error.clone_not_allowed", tenant=slug))
    return target, same


def acting_admin(tenant: Tenant) -> User | None:
    """Who a command-line operation acts as in a tenant: its first active admin."""
    return db.session.scalars(sa.select(User).where(
        User.tenant_id == tenant.id, User.is_tenant_admin.is_(True),
        User.is_active.is_(True)).order_by(User.id).limit(1)).first()
