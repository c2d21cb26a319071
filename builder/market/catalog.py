"""The market: the packages under ``templates_market/`` and what a tenant installed of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from builder.errors import NotFound, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.market.models import MarketInstall
from builder.market.package import (
    MANIFEST,
    Package,
    market_folders,
    read_folder,
    read_zip,
    safe_path,
    version_tuple,
)
from builder.schema.common import is_key


def market_dir() -> Path:
    """Where the market's package folders are (``templates_market/`` by default)."""
    return Path(current_app.config["BUILDER"].market_dir)


def installs(tenant_id: int) -> dict[str, MarketInstall]:
    """The tenant's installed (and uninstalled) packages, by key."""
    return {row.package: row for row in db.session.scalars(
        sa.select(MarketInstall).where(MarketInstall.tenant_id == tenant_id))}


def find_install(tenant_id: int, package: str) -> MarketInstall | None:
    """What the tenant installed of ``package``, or None."""
    return db.session.scalars(sa.select(MarketInstall).where(
        MarketInstall.tenant_id == tenant_id, MarketInstall.package == package)).one_or_none()


def describe_install(row: MarketInstall | None) -> dict[str, Any] | None:
    """An install row as the API shows it."""
    if row is None:
        return None
    return {"version": row.version, "state": row.state, "apps": row.apps,
            "demo_data": row.demo_data, "installed_at": row.installed_at,
            "installed_by": row.installed_by, "updated_at": row.updated_at,
            "conflicts": row.conflicts}


def summary(package: Package, row: MarketInstall | None) -> dict[str, Any]:
    """A package as the market lists it, with the tenant's installed version."""
    manifest = package.manifest
    installed = describe_install(row)
    return {
        "key": package.key, "version": package.version, "title": manifest["title"],
        "description": manifest.get("description"), "requires": manifest.get("requires"),
        "screenshots": manifest.get("screenshots") or [],
        "apps": [d.get("key") for d in package.apps() if isinstance(d, dict)],
        "has_demo_data": bool(manifest.get("demo")), "installed": installed,
        "upgrade_available": bool(row is not None and version_tuple(package.version)
                                  > version_tuple(row.version)),
        "problems": [],
    }


def list_packages(tenant_id: int) -> list[dict[str, Any]]:
    """Every package of the market with the tenant's installed version; a package that
    cannot be read is listed with its problems rather than hidden."""
    rows = installs(tenant_id)
    listed = []
    for folder in market_folders(market_dir()):
        try:
            package = read_folder(folder)
        except ValidationFailed as error:
            listed.append({"key": folder.name, "version": None, "title": None,
                           "installed": describe_install(rows.get(folder.name)),
                           "problems": [p.as_dict() for p in error.details]})
            continue
        listed.append(summary(package, rows.get(package.key)))
    return listed


def get_package(key: str) -> Package:
    """The market's package ``key`` (its folder name), read and checked."""
    folder = market_dir() / key
    if not is_key(key) or not (folder / MANIFEST).is_file():
        raise NotFound(gettext("market.error.package_not_found", package=key))
    return read_folder(folder)


def open_package(spec: str) -> Package:
    """A package from the market by key, or from a folder or a zip file path (CLI)."""
    path = Path(spec)
    if path.is_dir():
        return read_folder(path)
    if path.is_file():
        return read_zip(path.read_bytes(), path.name)
    return get_package(spec)


def screenshot(key: str, name: str) -> tuple[bytes, str]:
    """A screenshot the manifest lists: its bytes and file name."""
    package = get_package(key)
    if not safe_path(name) or name not in package.manifest.get("screenshots", []):
        raise NotFound(gettext("market.error.file_not_found", path=name))
    return package.files[name], name.rsplit("/", 1)[-1]
