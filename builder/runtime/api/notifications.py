"""HTTP for notifications: the caller's in-app inbox, and the tenant admin's deliveries.

- ``GET /api/notifications`` (``unread``, ``limit``, ``cursor``): mine, unread first;
  ``GET /api/notifications/unread-count``; ``POST /api/notifications/<id>/read``;
  ``POST /api/notifications/read-all``.
- ``GET /api/admin/deliveries`` (``status``, ``channel``, ``limit``, ``before``),
  ``GET /api/admin/deliveries/<id>``, ``POST /api/admin/deliveries/<id>/retry``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from builder.extensions import db
from builder.platform.auth import current_tenant_id, require_user, tenant_admin_required
from builder.runtime.notify import inbox, service
from builder.runtime.notify.models import STATUSES, Delivery

inbox_blp = Blueprint("notifications", __name__, url_prefix="/api/notifications",
                      description="The caller's in-app notifications")
admin_blp = Blueprint("deliveries", __name__, url_prefix="/api/admin/deliveries",
                      description="Notification deliveries of the tenant (tenant admins)")


def masked_url(url: str) -> str:
    """A robot URL without its credentials: query values and long path tokens hidden."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    if segments and len(segments[-1]) > 12:
        segments[-1] = segments[-1][:4] + "…"
    query = urlencode([(k, "…") for k, _ in parse_qsl(parts.query, keep_blank_values=True)])
    return urlunsplit((parts.scheme, parts.netloc, "/".join(segments), query, ""))


class NotificationSchema(Schema):
    id = fields.Integer()
    subject = fields.String()
    body = fields.String()
    link = fields.Dict(allow_none=True, metadata={"description": "{app, entity, record_id, url}"})
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    read = fields.Function(lambda item: item.read_at is not None)


class InboxPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    next_cursor = fields.String(allow_none=True)
    unread = fields.Integer()


class InboxArgsSchema(Schema):
    unread = fields.Boolean(load_default=False, metadata={"description": "Only unread ones"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=inbox.MAX_PAGE))
    cursor = fields.String(validate=validate.Length(max=40))


class CountSchema(Schema):
    unread = fields.Integer()


class ReadAllSchema(Schema):
    updated = fields.Integer()


class DeliverySchema(Schema):
    id = fields.Integer()
    channel = fields.String()
    recipient_id = fields.Integer(allow_none=True)
    target = fields.Method("_target")
    language = fields.String()
    subject = fields.String()
    link = fields.Dict(allow_none=True)
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)

    def _target(self, delivery: Delivery) -> str:
        target = delivery.target
        return masked_url(target) if target.startswith(("http://", "https://")) else target


class DeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(DeliverySchema))
    next_before = fields.Integer(allow_none=True,
                                 metadata={"description": "Pass as `before` for more"})


class DeliveryArgsSchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    channel = fields.String(validate=validate.Length(max=32))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=service.MAX_LIST))
    before = fields.Integer(validate=validate.Range(min=1, max=2**63 - 1))


@inbox_blp.route("", methods=["GET"])
@inbox_blp.arguments(InboxArgsSchema, location="query")
@inbox_blp.response(200, InboxPageSchema)
def list_notifications(args: dict[str, Any]) -> Any:
    """My notifications: unread first, newest first; ``unread`` counts the unread ones."""
    return inbox.list_inbox(require_user(), unread_only=args["unread"], limit=args["limit"],
                            cursor=args.get("cursor"))


@inbox_blp.route("/unread-count", methods=["GET"])
@inbox_blp.response(200, CountSchema)
def unread_count() -> Any:
    """How many of my notifications are unread."""
    return {"unread": inbox.unread_count(require_user())}


@inbox_blp.route("/<int:notification_id>/read", methods=["POST"])
@inbox_blp.response(200, NotificationSchema)
def read(notification_id: int) -> Any:
    """Mark one of my notifications read."""
    item = inbox.mark_read(require_user(), notification_id)
    db.session.commit()
    return item


@inbox_blp.route("/read-all", methods=["POST"])
@inbox_blp.response(200, ReadAllSchema)
def read_all() -> Any:
    """Mark all my notifications read."""
    updated = inbox.mark_all_read(require_user())
    db.session.commit()
    return {"updated": updated}


@admin_blp.route("", methods=["GET"])
@tenant_admin_required
@admin_blp.arguments(DeliveryArgsSchema, location="query")
@admin_blp.response(200, DeliveryPageSchema)
def list_deliveries(args: dict[str, Any]) -> Any:
    """Deliveries of my tenant, newest first, e.g. ``?status=failed`` to see what failed."""
    return service.list_deliveries(current_tenant_id(), status=args.get("status"),
                                   channel=args.get("channel"), limit=args["limit"],
                                   before=args.get("before"))


@admin_blp.route("/<int:delivery_id>", methods=["GET"])
@tenant_admin_required
@admin_blp.response(200, DeliverySchema)
def get_delivery(delivery_id: int) -> Any:
    return service.get_delivery(current_tenant_id(), delivery_id)


@admin_blp.route("/<int:delivery_id>/retry", methods=["POST"])
@tenant_admin_required
@admin_blp.response(200, DeliverySchema)
def retry(delivery_id: int) -> Any:
    """Send a failed or dead delivery again now (409 for other states)."""
    delivery = service.retry(current_tenant_id(), delivery_id)
    db.session.commit()
    return delivery
