"""Install, upgrade and uninstall market packages in a tenant.

Every function works in the caller's transaction and never commits: the caller commits
the whole install (or upgrade...) at once, or rolls it back for a dry run. Publishing
applies DDL transactionally on both databases, so a failure anywhere (a bad demo row at
the end) leaves the tenant exactly as it was.

- **install** checks the package, creates its roles, imports and publishes each app,
  loads the seed data (and the demo data when asked) and records the installed version
  with the package's definitions as the base of later upgrades. Installing the same
  version again changes nothing; a package uninstalled earlier is restored with its data.
- **upgrade** merges, per app, the installed package definition (base), the tenant's
  live definition (ours) and the new one (theirs) (see ``builder.market.merge``), then
  publishes the result; seed records with new keys are added.
- **uninstall** hides the package's apps and keeps their tables; ``purge`` drops them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

import builder
from builder.database import utcnow
from builder.designer import service as designer
from builder.designer.models import App, AppVersion
from builder.errors import Conflict, NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.market.catalog import find_install
from builder.market.demo_org import create_demo_users
from builder.market.merge import merge
from builder.market.models import INSTALLED, UNINSTALLED, MarketInstall
from builder.market.org import apply_roles, apply_teams, wanted_roles
from builder.market.package import Package, version_tuple
from builder.market.refs import FileLoader, RecordKeys, UserMap, names_to_users
from builder.market.report import ProgressCallback, Report
from builder.market.seed import SeedLoader
from builder.platform.models import Tenant
from builder.runtime.storage import schema_editor
from builder.runtime.storage.plan import make_plan
from builder.runtime.storage.tables import EntityStore, load_stores
from builder.runtime.storage.tenancy import system_tables
from builder.schema.diff import diff, summarize
from builder.schema.validate import check_definition

# -- shared steps (also used by imports) -------------------------------------------------


def checked_definitions(package: Package, users: UserMap) -> list[dict[str, Any]]:
    """The package's app definitions with users mapped, each checked; every problem is
    named by the file it is in (``apps/crm.json#entities[0].fields[1].type``)."""
    definitions: list[dict[str, Any]] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for path, raw in zip(package.manifest["apps"], package.apps(), strict=True):
        loaded, found = check_definition(names_to_users(raw, users, f"{path}#"))
        problems += [Problem(f"{path}#{p.path}", p.message, p.code) for p in found]
        if loaded is not None:
            if loaded["key"] in seen:
                problems.append(Problem(f"{path}#key", gettext(
                    "market.error.duplicate_app", app=loaded["key"]), "duplicate"))
            seen.add(loaded["key"])
            definitions.append(loaded)
    if problems:
        raise ValidationFailed(gettext("market.error.invalid_definition"), problems)
    return definitions


def check_requires(package: Package, tenant_id: int) -> None:
    """The platform version and the packages this one needs."""
    requires = package.manifest.get("requires") or {}
    problems = []
    needed = requires.get("platform")
    if needed and version_tuple(builder.__version__) < version_tuple(needed):
        problems.append(Problem("manifest.requires.platform", gettext(
            "market.error.platform_too_old", version=needed, current=builder.__version__),
            "requires"))
    for index, other in enumerate(requires.get("packages") or []):
        row = find_install(tenant_id, other["key"])
        if row is None or row.state != INSTALLED or version_tuple(row.version) < \
                version_tuple(other.get("version") or "0.0.0"):
            problems.append(Problem(f"manifest.requires.packages[{index}]", gettext(
                "market.error.package_required", package=other["key"],
                version=other.get("version") or ""), "requires"))
    if problems:
        raise ValidationFailed(gettext("market.error.requirements"), problems)


def refuse_taken(tenant_id: int, definitions: Iterable[Mapping[str, Any]]) -> None:
    """Apps are created fresh: a key the tenant already uses is a conflict."""
    problems = [Problem(f"apps.{d['key']}", gettext("market.error.app_taken", app=d["key"]),
                        "duplicate")
                for d in definitions if designer.find_app(tenant_id, d["key"]) is not None]
    if problems:
        raise Conflict(problems[0].message, problems)


def create_app(tenant_id: int, definition: Mapping[str, Any], user_id: int | None,
               report: Report) -> None:
    """Import and publish one app; the report gets its changes and storage steps."""
    app = designer.import_app(tenant_id, copy.deepcopy(dict(definition)), user_id)
    steps = make_plan(tenant_id, app.id, definition).as_dict()["steps"]
    designer.publish(tenant_id, app.key, user_id)
    report.apps.append({"app": app.key, "title": definition["title"], "action": "create",
                        "changes": summarize(diff(None, definition)), "storage": steps,
                        "conflicts": []})
    report.step("market.progress.app", app=app.key)


def stores_of(tenant_id: int, app_key: str) -> dict[str, EntityStore]:
    """Every entity store of a published app, uninstalled ones too (for their export)."""
    app = designer.find_app(tenant_id, app_key)
    definition = designer.live_definition(app) if app is not None else None
    if app is None or definition is None:
        raise NotFound(gettext("designer.error.app_not_published", app=app_key))
    return load_stores(tenant_id, app.id, app.live_revision or "", definition)


def data_steps(package: Package, sections: Iterable[str]) -> int:
    """How many entity lists the sections hold: the progress steps of loading them."""
    return sum(len(entities) for section in sections
               for _, content in package.data_files(section) for entities in content.values())


def load_seed(tenant: Tenant, package: Package, sections: Iterable[str], user: Any,
              users: UserMap, keys: RecordKeys, apps: set[str], report: Report, *,
              keyed_only: bool = False) -> None:
    """Authored records of the given sections, through the records service."""
    files = FileLoader(package, tenant.id, getattr(user, "id", None))
    for section in sections:
        for path, content in package.data_files(section):
            for app_key, entities in content.items():
                if app_key not in apps:
                    raise ValidationFailed(gettext("market.error.invalid_data"), [Problem(
                        f"{path}#{app_key}", gettext("market.error.unknown_app", app=app_key),
                        "unknown_app")])
                loader = SeedLoader(app_key, stores_of(tenant.id, app_key), user, users,
                                    keys, files)
                counts = loader.load(entities, path, keyed_only=keyed_only, progress=lambda
                                     name: report.step("market.progress.records", name=name))
                report.count(app_key, counts)


# -- install ------------------------------------------------------------------------------


def install(tenant: Tenant, package: Package, user: Any, *, demo_data: bool = False,
            progress: ProgressCallback | None = None) -> Report:
    """Install a market package into a tenant (see the module doc)."""
    report = Report("install", package.key, package.version, progress=progress)
    record = find_install(tenant.id, package.key)
    if record is not None and record.state == UNINSTALLED:
        return _reinstall(tenant, package, record, user, report)
    if record is not None:
        if record.version != package.version:
            message = gettext("market.error.installed_other_version", package=package.key,
                              version=record.version)
            raise Conflict(message, [Problem("version", message, "installed")])
        report.note("market.note.already_installed", version=record.version)
        return report
    check_requires(package, tenant.id)
    sections = ["seed", *(["demo"] if demo_data and package.manifest.get("demo") else [])]
    if "demo" in sections and package.manifest.get("demo_users"):
        created = create_demo_users(tenant, package.manifest["demo_users"])
        if created:
            report.note("market.note.demo_users", users=", ".join(created))
    users = UserMap(tenant.id)
    definitions = checked_definitions(package, users)
    refuse_taken(tenant.id, definitions)
    report.plan_steps(1 + len(definitions) + data_steps(package, sections))
    report.roles = apply_roles(tenant, wanted_roles(package.manifest["roles"], definitions),
                               users)
    if "demo" in sections and package.manifest.get("teams"):
        report.teams = apply_teams(tenant, package.manifest["teams"], users)
    report.step("market.progress.roles")
    user_id = getattr(user, "id", None)
    for definition in definitions:
        create_app(tenant.id, definition, user_id, report)
    keys = RecordKeys()
    load_seed(tenant, package, sections, user, users, keys, {d["key"] for d in definitions},
              report)
    db.session.add(MarketInstall(
        tenant_id=tenant.id, package=package.key, version=package.version, state=INSTALLED,
        base={d["key"]: d for d in definitions}, record_keys=keys.as_json(),
        demo_data="demo" in sections, conflicts=[], installed_by=user_id,
        updated_by=user_id))
    db.session.flush()
    report.action = "install"
    report.unmapped_users = users.report()
    return report


def _reinstall(tenant: Tenant, package: Package, record: MarketInstall, user: Any,
               report: Report) -> Report:
    """An uninstalled package comes back with the data it kept; a newer version is merged."""
    for key in record.base:
        app = designer.find_app(tenant.id, key)
        if app is not None:
            app.uninstalled_at = None
            report.apps.append({"app": key, "title": app.title, "action": "restore",
                                "changes": [], "storage": [], "conflicts": []})
    record.state = INSTALLED
    record.updated_at, record.updated_by = utcnow(), getattr(user, "id", None)
    db.session.flush()
    if record.version != package.version:
        upgraded = upgrade(tenant, package, user, progress=report.progress)
        restored = {a["app"] for a in report.apps}
        upgraded.apps = [dict(a, action="restore+" + a["action"]) if a["app"] in restored
                         else a for a in upgraded.apps]
        report = upgraded
        report.operation = "install"
    report.action = "reinstall"
    return report


# -- upgrade ------------------------------------------------------------------------------


def upgrade(tenant: Tenant, package: Package, user: Any, *,
            progress: ProgressCallback | None = None) -> Report:
    """Upgrade an installed package to this version, keeping the tenant's own changes."""
    report = Report("upgrade", package.key, package.version, progress=progress)
    record = find_install(tenant.id, package.key)
    if record is None or record.state != INSTALLED:
        raise NotFound(gettext("market.error.not_installed", package=package.key))
    if version_tuple(package.version) < version_tuple(record.version):
        message = gettext("market.error.downgrade", version=package.version,
                          current=record.version)
        raise Conflict(message, [Problem("version", message, "downgrade")])
    if package.version == record.version:
        report.note("market.note.already_installed", version=record.version)
        return report
    check_requires(package, tenant.id)
    users = UserMap(tenant.id)
    definitions = checked_definitions(package, users)
    report.plan_steps(1 + len(definitions) + data_steps(package, ["seed"]))
    user_id = getattr(user, "id", None)
    report.roles = apply_roles(tenant, wanted_roles(package.manifest["roles"], definitions),
                               users)
    report.step("market.progress.roles")
    for definition in definitions:
        app = designer.find_app(tenant.id, definition["key"])
        if app is None:
            create_app(tenant.id, definition, user_id, report)
        elif definition["key"] not in record.base:
            refuse_taken(tenant.id, [definition])
        else:
            report.apps.append(_upgrade_app(app, record.base[definition["key"]], definition,
                                            user_id))
            report.step("market.progress.app", app=app.key)
    keys = RecordKeys(record.record_keys)
    wanted = {d["key"] for d in definitions}
    load_seed(tenant, package, ["seed"], user, users, keys, wanted, report, keyed_only=True)
    for key in sorted(set(record.base) - wanted):
        report.note("market.note.app_left", app=key)
    report.conflicts = [c for a in report.apps for c in a["conflicts"]]
    record.version = package.version
    record.base = {**{k: v for k, v in record.base.items() if k not in wanted},
                   **{d["key"]: d for d in definitions}}
    record.record_keys = keys.as_json()
    record.conflicts = report.conflicts
    record.updated_at, record.updated_by = utcnow(), user_id
    db.session.flush()
    report.action = "upgrade"
    report.unmapped_users = users.report()
    return report


def _upgrade_app(app: App, base: Mapping[str, Any], theirs: Mapping[str, Any],
                 user_id: int | None) -> dict[str, Any]:
    if app.draft is not None:
        message = gettext("market.error.draft_pending", app=app.key)
        raise Conflict(message, [Problem(f"apps.{app.key}", message, "draft")])
    ours = designer.live_definition(app) or {}
    merged, conflicts = merge(base, ours, theirs)
    loaded, problems = check_definition(merged)
    shown = [c.as_dict() for c in conflicts]
    if problems or loaded is None:
        raise ValidationFailed(gettext("market.error.merge_invalid", app=app.key), [
            Problem(f"apps.{app.key}.{p.path}", p.message, p.code) for p in problems],
            conflicts=shown)
    changes = diff(ours, loaded)
    storage = make_plan(app.tenant_id, app.id, loaded)
    if changes:
        designer.publish_definition(app, loaded, user_id)
    return {"app": app.key, "title": loaded["title"],
            "action": "upgrade" if changes else "unchanged",
            "changes": summarize(changes), "storage": storage.as_dict()["steps"],
            "conflicts": shown}


# -- uninstall ----------------------------------------------------------------------------


def uninstall(tenant: Tenant, package_key: str, user: Any, *, purge: bool = False,
              progress: ProgressCallback | None = None) -> Report:
    """Hide the package's apps, keeping their tables and data; ``purge`` drops them."""
    report = Report("uninstall", package_key, progress=progress)
    record = find_install(tenant.id, package_key)
    if record is None:
        raise NotFound(gettext("market.error.not_installed", package=package_key))
    report.version = record.version
    apps = [a for a in (designer.find_app(tenant.id, k) for k in record.base) if a is not None]
    report.plan_steps(len(apps))
    if record.state == UNINSTALLED and not purge:
        report.note("market.note.already_uninstalled")
        return report
    for app in apps:
        if purge:
            purge_app(tenant.id, app)
        else:
            app.uninstalled_at = utcnow()
        report.apps.append({"app": app.key, "title": app.title,
                            "action": "purge" if purge else "uninstall", "changes": [],
                            "storage": [], "conflicts": []})
        report.step("market.progress.app", app=app.key)
    if purge:
        db.session.delete(record)
    else:
        record.state = UNINSTALLED
        record.updated_at, record.updated_by = utcnow(), getattr(user, "id", None)
    db.session.flush()
    report.action = "purge" if purge else "uninstall"
    return report


def purge_app(tenant_id: int, app: App) -> None:
    """Drop an app for good: its tables, versions, audit trail, counters, and the rows other
    parts of the platform keep about it (every platform table with ``tenant_id`` and
    ``app_key``: approval runs, import runs...), so a reinstall starts clean."""
    schema_editor.drop_app(tenant_id, app.id)
    dialect = db.session.get_bind().dialect.name
    audit, counters, _files = system_tables(tenant_id, dialect)
    db.session.execute(sa.delete(audit).where(audit.c.app_key == app.key))
    db.session.execute(sa.delete(counters).where(
        counters.c.name.startswith(f"{app.key}.", autoescape=True)))
    for table in reversed(db.metadata.sorted_tables):
        if {"tenant_id", "app_key"} <= set(table.c.keys()):
            db.session.execute(sa.delete(table).where(table.c.tenant_id == tenant_id,
                                                      table.c.app_key == app.key))
    db.session.execute(sa.delete(AppVersion).where(AppVersion.app_id == app.id))
    db.session.delete(app)
    db.session.flush()
