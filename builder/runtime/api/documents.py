"""HTTP for documents: spreadsheet import runs, .xlsx export of list views, PDF printing.

- ``POST /api/apps/<app>/<entity>/imports`` ``{"file": <id from /api/files>}`` → 201: the
  run, the sheet's columns, the suggested mapping and the first rows.
- ``POST /api/imports/<id>/preview`` ``{"mapping": {column: field}, "mode", "match",
  "timezone"}`` → the first rows converted, with their problems; nothing is stored.
- ``POST /api/imports/<id>/run`` (same body) → 202; ``GET /api/imports/<id>`` → status,
  progress, counts, problems (row, column, reason) and the bad-rows file.
- ``GET /api/apps/<app>/<entity>/export`` (``view``, ``filter``, ``sort``, ``fields``,
  ``q``) → .xlsx of exactly the records the list shows.
- ``GET /api/apps/<app>/<entity>/records/<id>/print/<template>`` → PDF
  (``?format=html`` for the filled page).
- ``GET|PUT /api/admin/print-settings``: company name and logo on printed documents.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Response, send_file
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from builder.errors import NotFound, Problem, ValidationFailed
from builder.i18n import gettext, localized
from builder.platform.auth import require_tenant_admin, require_user
from builder.runtime import access
from builder.runtime.api.records import _filter, _service
from builder.runtime.documents import exporter, imports, printing
from builder.runtime.storage.tables import entity_store

blp = Blueprint("documents", __name__, url_prefix="/api",
                description="Spreadsheet import and export, printing to PDF")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class StartSchema(Schema):
    file = fields.String(required=True, metadata={"description": "An uploaded file's id"})


class OptionsSchema(Schema):
    mapping = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True),
                          required=True)
    mode = fields.String(load_default="all_or_nothing",
                         metadata={"description": "all_or_nothing or skip_bad"})
    match = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    timezone = fields.String(load_default="Asia/Shanghai")


class ExportArgsSchema(Schema):
    view = fields.String()
    filter = fields.String()
    sort = fields.String()
    fields_ = fields.String(data_key="fields")
    q = fields.String()


class PrintArgsSchema(Schema):
    format = fields.String(load_default="pdf", metadata={"description": "pdf or html"})


class PrintSettingsSchema(Schema):
    company_name = fields.String(allow_none=True)
    logo = fields.String(allow_none=True, metadata={"description": "An uploaded image's id"})


@blp.route("/apps/<app_key>/<entity_key>/imports", methods=["POST"])
@blp.arguments(StartSchema)
@blp.response(201)
def start_import(body: dict[str, Any], app_key: str, entity_key: str) -> Any:
    """Start an import from an uploaded .xlsx or .csv file."""
    user = require_user()
    store = entity_store(user.tenant_id, app_key, entity_key)
    access.require(user, store, "import")
    if not access.can_read_file(user, body["file"]):
        raise NotFound(gettext("records.error.file_not_found"))
    started = imports.start(user, app_key, entity_key, body["file"])
    writable = access.writable_fields(store, user)  # offer only what the user may write
    started["fields"] = [f for f in started["fields"] if f["key"] in writable]
    started["suggested"] = {column: key if key in writable else None
                            for column, key in started["suggested"].items()}
    return started


def _import_run(run_id: int, body: dict[str, Any]) -> Any:
    """The caller's tenant's import run, if their roles allow importing into its entity
    and writing the fields the mapping fills."""
    user = require_user()
    run = imports.get_run(user.tenant_id, run_id)
    store = entity_store(run.tenant_id, run.app_key, run.entity)
    access.require(user, store, "import")
    mapping = body.get("mapping") or {}
    access.require_writable(user, store, {f"mapping.{column}": key
                                          for column, key in mapping.items()})
    return user, run


@blp.route("/imports/<int:run_id>", methods=["GET"])
@blp.response(200)
def get_import(run_id: int) -> Any:
    """An import's status, progress and outcome."""
    return imports.describe(imports.get_run(require_user().tenant_id, run_id))


@blp.route("/imports/<int:run_id>/preview", methods=["POST"])
@blp.arguments(OptionsSchema)
@blp.response(200)
def preview_import(body: dict[str, Any], run_id: int) -> Any:
    """The first rows with this mapping, as they would be stored; nothing is written."""
    user, run = _import_run(run_id, body)
    return imports.preview(user, run, body)


@blp.route("/imports/<int:run_id>/run", methods=["POST"])
@blp.arguments(OptionsSchema)
@blp.response(202)
def run_import(body: dict[str, Any], run_id: int) -> Any:
    """Run the import in the background with this mapping and mode."""
    user, run = _import_run(run_id, body)
    return imports.describe(imports.launch(user, run, body))


@blp.route("/apps/<app_key>/<entity_key>/export", methods=["GET"])
@blp.arguments(ExportArgsSchema, location="query")
@blp.response(200, description="An .xlsx file")
def export(args: dict[str, Any], app_key: str, entity_key: str) -> Response:
    """The records of a list view (its filter, columns and sort) as .xlsx."""
    service = _service(app_key, entity_key)
    service.access.require("export")
    wanted = {"filter": _filter(args.get("filter")), "sort": args.get("sort"),
              "q": args.get("q"),
              "fields": [f.strip() for f in (args.get("fields_") or "").split(",")
                         if f.strip()] or None}
    query, columns = exporter.view_query(service.store, args.get("view"), wanted)
    hidden = service.access.hidden  # a view's hidden columns are left out for this user
    columns = [c for c in columns if c not in hidden]
    if query.fields is not None:
        query.fields = [f for f in query.fields if f not in hidden]
    out = io.BytesIO()
    exporter.export_records(service, query, columns, out)
    out.seek(0)
    name = localized(service.store.entity.get("title")) or entity_key
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=f"{name}.xlsx")


@blp.route("/apps/<app_key>/<entity_key>/records/<int:record_id>/print/<template_key>",
           methods=["GET"])
@blp.arguments(PrintArgsSchema, location="query")
@blp.response(200, description="The printed record (PDF)")
def print_record(args: dict[str, Any], app_key: str, entity_key: str, record_id: int,
                 template_key: str) -> Response:
    """A record printed with one of its entity's print templates."""
    service = _service(app_key, entity_key)
    if args["format"] == "html":
        html = printing.render_html(service, record_id, template_key)
        response = Response(html, mimetype="text/html")
        response.headers["Content-Security-Policy"] = "default-src 'none'; img-src data:; " \
                                                      "style-src 'unsafe-inline'"
        return response
    if args["format"] != "pdf":
        message = gettext("documents.error.bad_format")
        raise ValidationFailed(message, [Problem("format", message, "invalid")])
    pdf = printing.render_pdf(service, record_id, template_key)
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=False,
                     download_name=f"{template_key}-{record_id}.pdf")


@blp.route("/admin/print-settings")
class PrintSettings(MethodView):
    @blp.response(200, PrintSettingsSchema)
    def get(self) -> Any:
        """The company name and logo printed on every document of the tenant."""
        return printing.settings(require_tenant_admin().tenant_id)

    @blp.arguments(PrintSettingsSchema)
    @blp.response(200, PrintSettingsSchema)
    def put(self, body: dict[str, Any]) -> Any:
        """Change the company name and/or the logo (an uploaded image; "" removes it)."""
        return printing.save_settings(require_tenant_admin().tenant_id,
                                      body.get("company_name"), body.get("logo"))
