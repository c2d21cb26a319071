"""HTTP for what waits for me: ``GET /api/my/sla`` → ``{"items": [...]}``, the running SLA
clocks of the records I own, soonest deadline first (see ``builder.runtime.mywork``)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from builder.platform.auth import require_user
from builder.runtime import mywork

blp = Blueprint("mywork", __name__, url_prefix="/api/my",
                description="What waits for the caller: SLA deadlines of their records")


class MyClockSchema(Schema):
    app = fields.String()
    entity = fields.String()
    entity_title = fields.String()
    record_id = fields.Integer()
    record_title = fields.String()
    policy = fields.String()
    title = fields.Dict()
    minutes = fields.Integer(allow_none=True)
    due_at = fields.String(metadata={"format": "date-time"})
    remaining_minutes = fields.Float(allow_none=True)
    breached = fields.Boolean()


class MyClocksSchema(Schema):
    items = fields.List(fields.Nested(MyClockSchema))


@blp.route("/sla", methods=["GET"])
@blp.response(200, MyClocksSchema)
def my_sla() -> Any:
    """Running SLA clocks on the records I own, soonest deadline first."""
    return {"items": mywork.my_sla_clocks(require_user())}
