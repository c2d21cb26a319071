"""HTTP for intake: public forms and inbound webhooks (no login), and their admin.

- ``GET /api/public/forms/<token>``: the form to render, with a ``submit_token``;
  ``POST /api/public/forms/<token>`` ``{"data": {...}, "submit_token": "...",
  "homepage": ""}`` → 201 ``{"message", "duplicate": false}``, or 200 with
  ``duplicate: true`` when the same answers came already.
- ``POST /api/hooks/<token>`` (or ``POST /api/hooks`` with ``X-Hook-Token``): any JSON
  document → 201 ``{"record", "created": true}``, or 200 for a known external id.
- ``GET /api/admin/intake``: the tenant's forms and webhooks with their URLs;
  ``POST /api/admin/intake/<id>/rotate``; ``GET /api/admin/intake/<id>/calls``.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint
from marshmallow import INCLUDE, Schema, fields

from builder.database import utcnow
from builder.errors import NotFound
from builder.extensions import db
from builder.i18n import current_language, gettext
from builder.platform.auth import current_tenant_id, tenant_admin_required
from builder.runtime.intake import endpoints, forms, hooks

public_blp = Blueprint("public_forms", __name__, url_prefix="/api/public/forms",
                       description="Public forms: no login needed")
hooks_blp = Blueprint("hooks", __name__, url_prefix="/api/hooks",
                      description="Inbound webhooks: outside systems create records")
admin_blp = Blueprint("intake_admin", __name__, url_prefix="/api/admin/intake",
                      description="Public forms and inbound webhooks of the tenant (admins)")

TOKEN_HEADER = "X-Hook-Token"


def _client_ip() -> str:
    return request.remote_addr or "unknown"


class PublicFormSchema(Schema):
    key = fields.String()
    title = fields.String()
    description = fields.String(allow_none=True)
    language = fields.String()
    fields_ = fields.List(fields.Dict(), data_key="fields", attribute="fields",
                          metadata={"description": "key, type, title, required, options..."})
    sections = fields.List(fields.Dict())
    rules = fields.List(fields.Dict(), metadata={"description": "JsonLogic validations"})
    honeypot = fields.String(metadata={"description": "Render hidden; leave empty"})
    min_fill_seconds = fields.Integer()
    submit_token = fields.String(metadata={"description": "Send back with the submission"})


class SubmissionSchema(Schema):
    class Meta:
        unknown = INCLUDE

    data = fields.Dict(required=True, metadata={"description": "Field key → value"})
    submit_token = fields.String(required=True)


class SubmittedSchema(Schema):
    message = fields.String()
    duplicate = fields.Boolean()


class HookResultSchema(Schema):
    record = fields.Dict()
    created = fields.Boolean()


class EndpointSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "form or hook"})
    app = fields.String()
    key = fields.String()
    title = fields.Dict(allow_none=True)
    entity = fields.String(allow_none=True)
    enabled = fields.Boolean()
    token = fields.String()
    path = fields.String()
    secret = fields.String(metadata={"description": "Webhooks: the HMAC signing key"})
    signature = fields.Boolean()
    rotated_at = fields.DateTime(allow_none=True)


class HookCallSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    status = fields.Integer()
    ip = fields.String()
    external_id = fields.String(allow_none=True)
    record_id = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    problems = fields.List(fields.Dict(), allow_none=True)
    payload = fields.String()


@public_blp.route("/<token>", methods=["GET"])
@public_blp.response(200, PublicFormSchema)
def get_form(token: str) -> Any:
    """The form behind a public link: fields, sections, rules and a ``submit_token``."""
    return forms.describe(token, utcnow(), current_language())


@public_blp.route("/<token>", methods=["POST"])
@public_blp.arguments(SubmissionSchema)
@public_blp.response(201, SubmittedSchema)
@public_blp.alt_response(200, schema=SubmittedSchema,
                         description="The same answers were received already: nothing new")
def submit_form(body: dict[str, Any], token: str) -> Any:
    """Submit the form: a new record (422 per field, 429 when too many, 409 twice)."""
    result = forms.submit(token, body, _client_ip(), utcnow(), current_language())
    return result, 200 if result["duplicate"] else 201


def _receive(token: str) -> Any:
    status, result = hooks.receive(token, request.get_data(cache=False),
                                   dict(request.headers.items()), _client_ip(), utcnow())
    return result, status


@hooks_blp.route("/<token>", methods=["POST"])
@hooks_blp.response(201, HookResultSchema)
@hooks_blp.alt_response(200, schema=HookResultSchema,
                        description="Already received: the record made the first time")
def receive(token: str) -> Any:
    """Create a record from a JSON document; the same external id twice makes one."""
    return _receive(token)


@hooks_blp.route("", methods=["POST"])
@hooks_blp.response(201, HookResultSchema)
@hooks_blp.alt_response(200, schema=HookResultSchema,
                        description="Already received: the record made the first time")
def receive_with_header() -> Any:
    """Like ``POST /api/hooks/<token>``, with the token in the ``X-Hook-Token`` header."""
    token = request.headers.get(TOKEN_HEADER, "").strip()
    if not token:
        raise NotFound(gettext("intake.error.not_found"))
    return _receive(token)


@admin_blp.route("", methods=["GET"])
@tenant_admin_required
@admin_blp.response(200, EndpointSchema(many=True))
def list_endpoints() -> Any:
    """Every public form and inbound webhook of the tenant's live apps, with its URL."""
    items = endpoints.list_endpoints(current_tenant_id())
    db.session.commit()
    return items


@admin_blp.route("/<int:endpoint_id>/rotate", methods=["POST"])
@tenant_admin_required
@admin_blp.response(200, EndpointSchema)
def rotate(endpoint_id: int) -> Any:
    """A new token (and signing secret); the old link stops working at once."""
    item = endpoints.rotate(current_tenant_id(), endpoint_id)
    db.session.commit()
    return item


@admin_blp.route("/<int:endpoint_id>/calls", methods=["GET"])
@tenant_admin_required
@admin_blp.response(200, HookCallSchema(many=True))
def calls(endpoint_id: int) -> Any:
    """The last calls of an inbound webhook, newest first, with their errors."""
    return hooks.calls(current_tenant_id(), endpoint_id)
