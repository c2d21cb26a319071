"""Moving configuration between tenants: export, import and clone.

An export is a package in the market's own format (see ``builder.market.package``): the
live definitions of the chosen apps (or of every app of the tenant), the roles they use
(a whole-tenant export: every role and team, with members by username), for apps that
came from a market package the package's own definition as their upgrade base, and, with
data, every record as an exact copy (``builder.market.records``) plus the files they use.

An import installs such a package into another tenant: its apps are created fresh
(a key the tenant already uses is a conflict), roles and teams are created by key, users
are mapped by username (the report lists those the tenant does not have), records are
copied, and the market packages the apps came from are recorded as installed, so the
target can upgrade them later. A clone is an export of one tenant imported into another.
Like installs, imports work in the caller's transaction: all or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from builder.database import utcnow
from builder.designer import service as designer
from builder.designer.models import App
from builder.errors import NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.market.catalog import find_install, installs
from builder.market.installer import (
    check_requires,
    checked_definitions,
    create_app,
    refuse_taken,
    stores_of,
)
from builder.market.models import INSTALLED, MarketInstall
from builder.market.org import apply_roles, apply_teams, export_roles, export_teams, wanted_roles
from builder.market.package import FORMAT, MANIFEST, Package, dump_json, load
from builder.market.records import ExactLoader, dump_app
from builder.market.refs import (
    FileCollector,
    FileLoader,
    UserMap,
    UserNames,
    names_to_users,
    users_to_names,
)
from builder.market.report import ProgressCallback, Report
from builder.platform.models import Tenant
from builder.schema.validate import check_definition

DEFAULT_VERSION = "1.0.0"


def export_key(tenant: Tenant) -> str:
    """The package key of a whole-tenant export: ``tenant_<slug>``, as a valid key."""
    return ("tenant_" + re.sub(r"[^a-z0-9_]", "_", tenant.slug.lower()))[:63]


def _roles_used(definitions: Sequence[Mapping[str, Any]]) -> set[str]:
    """Role keys the definitions name: their ``roles`` and every ``"role": key``."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if key == "role" and isinstance(item, str):
                    found.add(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for definition in definitions:
        found.update(r["key"] for r in definition.get("roles") or [])
        walk({k: v for k, v in definition.items() if k != "roles"})
    return found


def _bilingual(key: str, **params: Any) -> dict[str, str]:
    return {"zh-CN": gettext(key, "zh-CN", **params), "en": gettext(key, "en", **params)}


def _named_app(tenant_id: int, app_key: str) -> App:
    app = designer.find_app(tenant_id, app_key)
    if app is None:
        raise NotFound(gettext("designer.error.app_not_found", app=app_key))
    return app


def export_package(tenant: Tenant, app_keys: list[str] | None = None, *,
                   with_data: bool = False) -> Package:
    """The tenant's apps (all, or ``app_keys``: uninstalled ones may be named) as a
    package; read back before returning, so whatever is exported can be installed."""
    names = UserNames(tenant.id)
    apps = [_named_app(tenant.id, k) for k in app_keys] if app_keys \
        else designer.list_apps(tenant.id)
    live = [(app, designer.live_definition(app)) for app in apps]
    if app_keys:
        for app, definition in live:
            if definition is None:
                raise NotFound(gettext("designer.error.app_not_published", app=app.key))
    chosen = [(app, d) for app, d in live if d is not None]
    whole = not app_keys
    files: dict[str, bytes] = {}
    definitions = [d for _, d in chosen]
    single = chosen[0][1] if len(chosen) == 1 and not whole else None
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "key": single["key"] if single else export_key(tenant),
        "version": single.get("version", DEFAULT_VERSION) if single else DEFAULT_VERSION,
        "title": _bilingual("market.export.title", name=tenant.name),
        "description": _bilingual("market.export.description", name=tenant.name,
                                  apps=", ".join(a.key for a, _ in chosen)),
        "apps": [], "roles": export_roles(tenant.id, names, None if whole
                                          else _roles_used(definitions)),
        "teams": export_teams(tenant.id, names) if whole else [],
        "data": [], "installed_from": [],
        "exported": {"tenant": tenant.slug, "at": utcnow().isoformat(),
                     "with_data": with_data},
    }
    for app, definition in chosen:
        path = f"apps/{app.key}.json"
        files[path] = dump_json(users_to_names(definition, names))
        manifest["apps"].append(path)
    exported = {app.key for app, _ in chosen}
    for row in installs(tenant.id).values():
        shared = sorted(exported & set(row.base))
        if not shared:
            continue
        base = {}
        for key in shared:
            base[key] = f"base/{row.package}/{key}.json"
            files[base[key]] = dump_json(users_to_names(row.base[key], names))
        manifest["installed_from"].append({
            "package": row.package, "version": row.version, "base": base,
            "record_keys": {k: v for k, v in row.record_keys.items()
                            if k.split(".", 1)[0] in shared} if with_data else {}})
    if with_data:
        collector = FileCollector(tenant.id)
        for app, _ in chosen:
            path = f"data/{app.key}.json"
            files[path] = dump_json({app.key: dump_app(tenant.id, app.key,
                                                       stores_of(tenant.id, app.key),
                                                       names, collector)})
            manifest["data"].append(path)
        files.update(collector.files)
    files[MANIFEST] = dump_json(manifest)
    return load(files, manifest["key"])


def import_package(tenant: Tenant, package: Package, user: Any, *, with_data: bool = True,
                   progress: ProgressCallback | None = None) -> Report:
    """Install an exported package into ``tenant`` (see the module doc)."""
    report = Report("import", package.key, package.version, progress=progress)
    check_requires(package, tenant.id)
    users = UserMap(tenant.id)
    definitions = checked_definitions(package, users)
    refuse_taken(tenant.id, definitions)
    data = list(package.data_files("data")) if with_data else []
    report.plan_steps(2 + len(definitions) + sum(
        len([k for k in entities if not k.startswith("$")])
        for _, content in data for entities in content.values()))
    manifest = package.manifest
    report.roles = apply_roles(tenant, wanted_roles(manifest["roles"], definitions), users)
    report.teams = apply_teams(tenant, manifest["teams"], users)
    report.step("market.progress.roles")
    user_id = getattr(user, "id", None)
    for definition in definitions:
        create_app(tenant.id, definition, user_id, report)
    apps = {d["key"] for d in definitions}
    loaders: dict[str, ExactLoader] = {}
    files = FileLoader(package, tenant.id, user_id)
    for path, content in data:
        for app_key, entities in content.items():
            if app_key not in apps:
                raise ValidationFailed(gettext("market.error.invalid_data"), [Problem(
                    f"{path}#{app_key}", gettext("market.error.unknown_app", app=app_key),
                    "unknown_app")])
            loader = loaders.setdefault(app_key, ExactLoader(
                app_key, stores_of(tenant.id, app_key), user_id, users, files))
            report.count(app_key, loader.load(entities, path, progress=lambda name: report.step(
                "market.progress.records", name=name)))
    _record_origins(tenant, package, users, loaders, user_id, report)
    report.action = "import"
    report.unmapped_users = users.report()
    if files.stored:
        report.extra["files"] = len(files.stored)
    return report


def _record_origins(tenant: Tenant, package: Package, users: UserMap,
                    loaders: Mapping[str, ExactLoader], user_id: int | None,
                    report: Report) -> None:
    """The market packages the imported apps came from, recorded as installed here."""
    bases = package.base_definitions()
    for origin in package.manifest.get("installed_from") or []:
        if find_install(tenant.id, origin["package"]) is not None:
            report.note("market.note.origin_exists", package=origin["package"])
            continue
        base = {}
        for app_key in origin["base"]:
            loaded, problems = check_definition(names_to_users(
                bases[app_key], users, f"{origin['base'][app_key]}#"))
            if loaded is not None and not problems:
                base[app_key] = loaded
        keys: dict[str, dict[str, int]] = {}
        for name, ids in (origin.get("record_keys") or {}).items():
            app_key, _, entity = name.partition(".")
            loader = loaders.get(app_key)
            if loader is None or not isinstance(ids, Mapping):
                continue
            mapped = {k: loader.ids.get((entity, str(v))) for k, v in ids.items()}
            keys[name] = {k: v for k, v in mapped.items() if v is not None}
        db.session.add(MarketInstall(
            tenant_id=tenant.id, package=origin["package"], version=origin["version"],
            state=INSTALLED, base=base, record_keys=keys, demo_data=False, conflicts=[],
            installed_by=user_id, updated_by=user_id))
        report.extra.setdefault("packages", []).append(
            {"package": origin["package"], "version": origin["version"]})
    db.session.flush()


def clone_tenant(source: Tenant, target: Tenant, user: Any, *, with_data: bool = False,
                 progress: ProgressCallback | None = None) -> Report:
    """Copy every app of ``source`` (and with data, every record) into ``target``."""
    package = export_package(source, with_data=with_data)
    report = import_package(target, package, user, with_data=with_data, progress=progress)
    report.operation = "clone"
    report.extra.update(source=source.slug, target=target.slug)
    return report
