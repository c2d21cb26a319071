"""Print templates: a record rendered through an HTML template to PDF (WeasyPrint).

Templates are Jinja in a sandbox with autoescaping, so a manager's template can read the
record and nothing else, and a customer named ``<script>`` prints as text. The template
sees:

- ``record``: the record as a person reads it (option titles, user names; a relation is
  the related record, itself readable the same way; a sub-table is the list of its rows);
  numbers stay numbers, so ``record.lines | sum(attribute="amount")`` adds up;
- ``raw``: the record as the API returns it; ``fields``: each field's title;
- ``tenant``: ``company_name`` and ``logo`` (a ``data:`` URI to put in an ``<img>``);
- filters ``money`` (``¥12,345.00``), ``number(digits)``, ``date_cn``.

Pages get the paper size of the template and a page-number footer; text falls back to
Noto CJK fonts so Chinese prints on any server with Debian's fonts-noto-cjk. Only
``data:`` URLs are fetched: a template cannot make the server request anything.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from builder.database import utcnow
from builder.errors import Forbidden, NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext, localized
from builder.runtime.documents import lookups
from builder.runtime.documents.models import PrintSettings
from builder.runtime.records import RecordService
from builder.runtime.records.counts import with_counts
from builder.runtime.records.files import open_file
from builder.runtime.records.formulas import rule_data
from builder.runtime.rules.evaluator import RuleError, evaluate, truthy
from builder.runtime.storage.tables import EntityStore

BASE_CSS = """
@page { size: %(paper)s %(orientation)s; margin: 18mm 15mm 20mm 15mm;
  @bottom-center { content: counter(page) " / " counter(pages);
                   font-size: 9pt; color: #666; } }
html { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Noto Serif CJK SC", sans-serif;
       font-size: 10.5pt; color: #222; }
table { border-collapse: collapse; width: 100%%; }
th, td { border: 1px solid #999; padding: 4px 6px; }
"""


class PrintRecord(dict[str, Any]):
    """A record as a template reads it; ``str()`` of it is its title."""

    title = ""

    def __str__(self) -> str:
        return self.title

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(self.title))


def money(value: Any, symbol: str = "¥", digits: int = 2) -> str:
    amount = _decimal(value)
    if amount is None:
        return ""
    return f"{symbol}{amount:,.{int(digits)}f}"


def number(value: Any, digits: int = 2) -> str:
    amount = _decimal(value)
    return "" if amount is None else f"{amount:,.{int(digits)}f}"


def date_cn(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, (date, datetime)):
        return f"{value.year}年{value.month}月{value.day}日"
    return "" if value is None else str(value)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(autoescape=True)
    env.filters.update(money=money, number=number, date_cn=date_cn)
    return env


class Reader:
    """Builds ``PrintRecord``s: display values, related records and sub-table rows."""

    def __init__(self, service: RecordService) -> None:
        self.service = service

    def read(self, store: EntityStore, record: Mapping[str, Any], depth: int = 0
             ) -> PrintRecord:
        users = lookups.user_names(store.tenant_id, [
            record.get(k) for k, f in store.fields.items() if f["type"] == "user"]
            + [record.get("owner")])
        out = PrintRecord()
        for key in ("id", "created_at", "updated_at"):
            out[key] = record.get(key)
        out["owner"] = users.get(record.get("owner") or 0, "")
        for key, field_def in store.fields.items():
            value = record.get(key)
            kind = field_def["type"]
            if kind == "subtable":
                child = self.service.stores.get(str(field_def.get("entity")))
                out[key] = [self.read(child, row, depth + 1) for row in value or []
                            ] if child else []
            elif kind == "relation":
                out[key] = self._related(field_def, value, depth)
            elif kind == "user":
                out[key] = users.get(value, "") if isinstance(value, int) else ""
            elif kind == "select":
                out[key] = lookups.option_title(field_def, value) if value else ""
            elif kind == "multi_select":
                out[key] = "、".join(lookups.option_title(field_def, v) for v in value or [])
            elif kind in ("number", "money", "percent") and value is not None:
                out[key] = Decimal(str(value))
            elif kind == "boolean":
                out[key] = gettext("documents.value.yes" if value else "documents.value.no") \
                    if value is not None else ""
            else:
                out[key] = "" if value is None else value
        name = lookups.title_field(store)
        out.title = str(out.get(name, "")) if name else f"#{record.get('id')}"
        return out

    def _related(self, field_def: Mapping[str, Any], value: Any, depth: int) -> Any:
        target = self.service.stores.get(str(field_def.get("entity")))
        if target is None or not isinstance(value, int):
            return PrintRecord()
        if depth >= 2:
            titles = lookups.record_titles(target, [value])
            shallow = PrintRecord(id=value)
            shallow.title = titles.get(value, "")
            return shallow
        other = RecordService(target, self.service.user, stores=self.service.stores)
        try:
            other.access.require_record(value, "read")  # only what the user may read
            return self.read(target, other.access.redact(other.get(value)), depth + 1)
        except (NotFound, Forbidden):
            return PrintRecord()


def _template(store: EntityStore, key: str) -> Mapping[str, Any]:
    for template in store.app.get("print_templates") or []:
        if template.get("key") == key and template.get("entity") == store.key:
            return template
    raise NotFound(gettext("documents.error.no_such_template", template=key))


def _tenant(tenant_id: int) -> dict[str, Any]:
    settings = db.session.get(PrintSettings, tenant_id)
    logo = ""
    if settings is not None and settings.logo_file_id:
        try:
            desc, path = open_file(tenant_id, settings.logo_file_id)
            logo = f"data:{desc['content_type']};base64," + base64.b64encode(
                path.read_bytes()).decode()
        except NotFound:
            logo = ""
    return {"company_name": settings.company_name if settings else "", "logo": logo}


def _check_printable(service: RecordService, template: Mapping[str, Any],
                     record: Mapping[str, Any]) -> None:
    """Refuse (422) a record the template's ``when`` rule does not allow to be printed."""
    rule = template.get("when")
    if rule is None:
        return
    context = with_counts(service.context(utcnow()), service.store, service.stores, record,
                          int(record["id"]))
    try:
        allowed = truthy(evaluate(rule, rule_data(record, context)))
    except RuleError:
        allowed = False
    if not allowed:
        message = localized(template.get("when_message")) or gettext(
            "documents.error.not_printable", template=localized(template.get("title")))
        raise ValidationFailed(message, [Problem("record", message, "not_printable")])


def render_html(service: RecordService, record_id: int, template_key: str) -> str:
    """The filled template as an HTML page (what ``render_pdf`` prints)."""
    store = service.store
    template = _template(store, template_key)
    service.access.require("print")
    service.access.require_record(record_id, "read")
    full = service.get(record_id)
    _check_printable(service, template, full)
    record = service.access.redact(full)
    context = {"record": Reader(service).read(store, record), "raw": record,
               "fields": {k: localized(f.get("title")) for k, f in store.fields.items()},
               "tenant": _tenant(store.tenant_id), "now": utcnow(),
               "app": localized(store.app.get("title"))}
    try:
        body = environment().from_string(template["template"]).render(context)
    except TemplateError as exc:
        message = gettext("documents.error.template_failed", reason=str(exc))
        raise ValidationFailed(message, [Problem("template", message, "template")]) from None
    css = BASE_CSS % {"paper": template.get("paper", "A4"),
                      "orientation": template.get("landscape", "portrait")}
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>{css}</style>"
            f"</head><body>{body}</body></html>")


def render_pdf(service: RecordService, record_id: int, template_key: str) -> bytes:
    """The record printed with the template, as PDF bytes."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_html(service, record_id, template_key)
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    pdf = HTML(string=html, url_fetcher=fetcher).write_pdf()
    assert pdf is not None
    return bytes(pdf)


def settings(tenant_id: int) -> dict[str, Any]:
    found = db.session.get(PrintSettings, tenant_id)
    return {"company_name": found.company_name if found else "",
            "logo": found.logo_file_id if found else None}


def save_settings(tenant_id: int, company_name: str | None, logo_file_id: str | None
                  ) -> dict[str, Any]:
    """Set the tenant's company name and logo (an uploaded image) for printed documents."""
    row = db.session.get(PrintSettings, tenant_id) or PrintSettings(tenant_id=tenant_id,
                                                                     company_name="")
    if company_name is not None:
        row.company_name = company_name
    if logo_file_id is not None:
        if logo_file_id:
            desc, _ = open_file(tenant_id, logo_file_id)
            if not str(desc["content_type"]).startswith("image/"):
                message = gettext("records.error.not_an_image")
                raise ValidationFailed(message, [Problem("logo", message, "not_image")])
        row.logo_file_id = logo_file_id or None
    row.updated_at = utcnow()
    db.session.add(row)
    db.session.commit()
    return settings(tenant_id)
