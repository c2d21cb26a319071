"""HTTP for the template market and for moving configuration (tenant admins only).

- ``GET /api/market``: the packages, with this tenant's installed version;
  ``POST /api/market/<package>/install|upgrade|uninstall`` with ``dry_run``;
- ``GET /api/admin/export``: a package file of the tenant's apps (optionally with data);
  ``POST /api/admin/import``: install such a file here; ``POST /api/admin/clone``: copy
  this tenant's apps (and data) into another tenant.

Each operation answers with its report; a dry run answers with the same report and
keeps nothing. With ``background`` an operation runs as a job instead: the answer is 202
with the job's id, ``GET /api/jobs/<id>`` shows its progress and, at the end, the report.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Response, jsonify
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields

from builder.errors import BadRequest
from builder.extensions import db
from builder.i18n import current_language, gettext
from builder.market import background, catalog, service
from builder.market.package import read_zip
from builder.platform.auth import require_tenant_admin
from builder.platform.models import User
from builder.runtime.records.files import save_upload

blp = Blueprint("market", __name__, url_prefix="/api/market",
                description="Template market: packages, install, upgrade, uninstall")
transfer_blp = Blueprint("market_transfer", __name__, url_prefix="/api/admin",
                         description="Export, import and clone the tenant's configuration")


class InstalledSchema(Schema):
    version = fields.String()
    state = fields.String()
    apps = fields.List(fields.String())
    demo_data = fields.Boolean()
    installed_at = fields.DateTime()
    installed_by = fields.Integer(allow_none=True)
    updated_at = fields.DateTime()
    conflicts = fields.List(fields.Dict())


class PackageSchema(Schema):
    key = fields.String()
    version = fields.String(allow_none=True)
    title = fields.Dict(allow_none=True)
    description = fields.Dict(allow_none=True)
    requires = fields.Dict(allow_none=True)
    screenshots = fields.List(fields.String())
    apps = fields.List(fields.String())
    has_demo_data = fields.Boolean()
    installed = fields.Nested(InstalledSchema, allow_none=True)
    upgrade_available = fields.Boolean()
    problems = fields.List(fields.Dict())


class ReportSchema(Schema):
    operation = fields.String()
    package = fields.String()
    version = fields.String(allow_none=True)
    action = fields.String(metadata={"description": "install, upgrade, reinstall, uninstall, "
                                                    "purge, import, none"})
    dry_run = fields.Boolean()
    apps = fields.List(fields.Dict(), metadata={
        "description": "per app: action, changes in words, storage steps, conflicts"})
    roles = fields.Dict()
    teams = fields.Dict()
    records = fields.Dict(metadata={"description": "records written per app.entity"})
    unmapped_users = fields.List(fields.Dict(), metadata={
        "description": "usernames this tenant lacks, with the places that named them"})
    conflicts = fields.List(fields.Dict())
    notes = fields.List(fields.String())
    steps = fields.List(fields.String())
    export_file = fields.Dict()
    files = fields.Integer()
    packages = fields.List(fields.Dict())
    source = fields.String()
    target = fields.String()


class JobStartedSchema(Schema):
    job = fields.String(metadata={"description": "follow it at GET /api/jobs/<id>"})


class DryRunSchema(Schema):
    dry_run = fields.Boolean(load_default=False)
    background = fields.Boolean(load_default=False, metadata={
        "description": "run as a job: 202 with its id; the report is the job's result"})


class InstallSchema(DryRunSchema):
    demo_data = fields.Boolean(load_default=False)


class UninstallSchema(DryRunSchema):
    purge = fields.Boolean(load_default=False, metadata={
        "description": "drop the apps' tables and data for good"})
    export = fields.Boolean(load_default=False, metadata={
        "description": "first keep a package file of the apps with their data"})


class PackageExportArgsSchema(Schema):
    apps = fields.String(load_default=None, metadata={
        "description": "app keys, comma-separated; all apps when left out"})
    with_data = fields.Boolean(load_default=False)


class PackageImportArgsSchema(DryRunSchema):
    with_data = fields.Boolean(load_default=True, metadata={
        "description": "an export's records; for a market package file, its demo data"})


class PackageUploadSchema(Schema):
    file = Upload(required=True)


class CloneSchema(DryRunSchema):
    target = fields.String(required=True, metadata={
        "description": "slug of the target tenant (created, with you as admin, if new)"})
    with_data = fields.Boolean(load_default=False)


def _finish(report: Any, dry_run: bool) -> dict[str, Any]:
    result: dict[str, Any] = report.as_dict(dry_run)
    service.complete(dry_run)
    return result


def _in_background(operation: str, user: User, **options: Any) -> Response:
    run_id = background.start(operation, user, current_language(), **options)
    db.session.commit()
    response = jsonify({"job": run_id})
    response.status_code = 202
    return response


@blp.route("", methods=["GET"])
@blp.response(200, PackageSchema(many=True))
def list_packages() -> Any:
    """The market's packages, with the version this tenant installed."""
    user = require_tenant_admin()
    return catalog.list_packages(user.tenant_id)


@blp.route("/<package>", methods=["GET"])
@blp.response(200, PackageSchema)
def package_detail(package: str) -> Any:
    user = require_tenant_admin()
    return catalog.summary(catalog.get_package(package),
                           catalog.find_install(user.tenant_id, package))


@blp.route("/<package>/screenshots/<path:name>", methods=["GET"])
@blp.response(200, description="The screenshot's bytes")
def screenshot(package: str, name: str) -> Response:
    require_tenant_admin()
    content, filename = catalog.screenshot(package, name)
    kind = "image/png" if filename.lower().endswith(".png") else "image/jpeg" \
        if filename.lower().endswith((".jpg", ".jpeg")) else "application/octet-stream"
    return Response(content, mimetype=kind, headers={"X-Content-Type-Options": "nosniff"})


@blp.route("/<package>/install", methods=["POST"])
@blp.arguments(InstallSchema)
@blp.response(200, ReportSchema)
@blp.alt_response(202, schema=JobStartedSchema)
def install(body: dict[str, Any], package: str) -> Any:
    """Install a package all-or-nothing (again: nothing changes; uninstalled: restored)."""
    user = require_tenant_admin()
    if body["background"]:
        catalog.get_package(package)
        return _in_background("install", user, package=package, demo_data=body["demo_data"],
                              dry_run=body["dry_run"])
    report = service.install(user.tenant, catalog.get_package(package), user,
                             demo_data=body["demo_data"])
    return _finish(report, body["dry_run"])


@blp.route("/<package>/upgrade", methods=["POST"])
@blp.arguments(DryRunSchema)
@blp.response(200, ReportSchema)
@blp.alt_response(202, schema=JobStartedSchema)
def upgrade(body: dict[str, Any], package: str) -> Any:
    """Upgrade to the market's version, keeping this tenant's changes (three-way merge)."""
    user = require_tenant_admin()
    if body["background"]:
        catalog.get_package(package)
        return _in_background("upgrade", user, package=package, dry_run=body["dry_run"])
    report = service.upgrade(user.tenant, catalog.get_package(package), user)
    return _finish(report, body["dry_run"])


@blp.route("/<package>/uninstall", methods=["POST"])
@blp.arguments(UninstallSchema)
@blp.response(200, ReportSchema)
@blp.alt_response(202, schema=JobStartedSchema)
def uninstall(body: dict[str, Any], package: str) -> Any:
    """Hide the package's apps and keep their data (``purge`` drops it)."""
    user = require_tenant_admin()
    if body["background"]:
        return _in_background("uninstall", user, package=package, purge=body["purge"],
                              export=body["export"] and not body["dry_run"],
                              dry_run=body["dry_run"])
    report = service.uninstall(user.tenant, package, user, purge=body["purge"],
                               export=body["export"] and not body["dry_run"])
    return _finish(report, body["dry_run"])


@transfer_blp.route("/export", methods=["GET"])
@transfer_blp.arguments(PackageExportArgsSchema, location="query")
@transfer_blp.response(200, description="A package file (zip)")
def export(args: dict[str, Any]) -> Response:
    """The tenant's apps (all, or ``apps``) as a package file, optionally with data."""
    user = require_tenant_admin()
    keys = [k.strip() for k in (args["apps"] or "").split(",") if k.strip()] or None
    content, name = service.export_zip(user.tenant, keys, with_data=args["with_data"])
    return Response(content, mimetype=service.ZIP_TYPE, headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


@transfer_blp.route("/import", methods=["POST"])
@transfer_blp.arguments(PackageImportArgsSchema, location="query")
@transfer_blp.arguments(PackageUploadSchema, location="files")
@transfer_blp.response(200, ReportSchema)
@transfer_blp.alt_response(202, schema=JobStartedSchema)
def import_(args: dict[str, Any], body: dict[str, Any]) -> Any:
    """Install a package file (an export, or a market package) into this tenant."""
    user = require_tenant_admin()
    upload = body["file"]
    content = upload.read()
    package = read_zip(content, upload.filename or "")
    if args["background"]:
        stored = save_upload(user.tenant_id, user.id, io.BytesIO(content),
                             upload.filename or "package.zip", service.ZIP_TYPE)
        return _in_background("import", user, file=stored["id"],
                              with_data=args["with_data"], dry_run=args["dry_run"])
    if package.is_export:
        report = service.import_package(user.tenant, package, user,
                                        with_data=args["with_data"])
    else:
        report = service.install(user.tenant, package, user, demo_data=args["with_data"])
    return _finish(report, args["dry_run"])


@transfer_blp.route("/clone", methods=["POST"])
@transfer_blp.arguments(CloneSchema)
@transfer_blp.response(200, ReportSchema)
def clone(body: dict[str, Any]) -> Any:
    """Copy this tenant's apps (and, ``with_data``, records) into another tenant."""
    user = require_tenant_admin()
    if body["target"] == user.tenant.slug:
        raise BadRequest(gettext("market.error.clone_into_itself"))
    if body["background"]:
        return _in_background("clone", user, target=body["target"],
                              with_data=body["with_data"], dry_run=body["dry_run"])
    target, twin = service.clone_target(user, body["target"])
    report = service.clone(user.tenant, target, twin, with_data=body["with_data"])
    return _finish(report, body["dry_run"])

