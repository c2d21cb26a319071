"""Schemas of the scheduled parts of an app: metric alerts and scheduled reports.

- ``alerts[]``: a condition over a metric per subject (owner, team, any dimension),
  against its target or the average, checked on a cron schedule; when it holds for the
  required number of consecutive periods, actions run once per period per subject.
- ``reports[]``: a digest of metrics, widgets and stuck records sent on a cron schedule
  to people (each with their own figures) and group robots, held by a circuit breaker
  when a figure jumps against the previous period.

References (metrics, entities, fields, dashboards) are checked by
``builder.schema.linker_reports``.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from marshmallow import ValidationError, fields, validates_schema

from builder.schema.common import (
    Between,
    Bool,
    FreeDict,
    Int,
    JsonLogic,
    Key,
    LanguageMap,
    ListOf,
    Message,
    Num,
    Object,
    OneOf,
    Str,
    StrictSchema,
    invalid,
    keys,
    many,
)

PERIODS = ("day", "week", "month", "quarter", "year")
DEFAULT_TIMEZONE = "Asia/Shanghai"
#: the channels that reach each person of a report (robots are listed apart)
PERSON_CHANNELS = ("inbox", "email")
ROBOT_FORMATS = ("wecom", "dingtalk", "feishu", "json")
#: a subject that groups by the owner's teams instead of a field
TEAM_SUBJECT = "$team"


def _cron(value: str) -> str:
    if not croniter.is_valid(value):
        raise invalid("report_cron", cron=value)
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid("report_timezone", timezone=value) from None
    return value


class ScheduleSchema(StrictSchema):
    """When: a cron expression (minute hour day month weekday) read in ``timezone``."""

    cron = Str(required=True, validate=_cron)
    timezone = Str(load_default=DEFAULT_TIMEZONE, validate=_timezone)


class TargetSchema(StrictSchema):
    """Targets are records: the sum of ``field`` over the records of ``entity`` whose
    ``date_field`` falls in the period, per value of ``dimension``."""

    entity = Key(required=True)
    field = Key(required=True)
    date_field = Key(required=True)
    dimension = Key(load_default="owner")


class WebhookSchema(StrictSchema):
    format = Str(load_default="json", validate=OneOf(*ROBOT_FORMATS))
    url = Str(required=True)
    secret = Str()
    msgtype = Str()
    language = Str(validate=OneOf("zh-CN", "en"))


class AlertActionSchema(StrictSchema):
    """One action of an alert; which properties a type needs is the linker's check."""

    type = Key(required=True)
    # create_record
    entity = Key()
    set = FreeDict(keys=Key())
    owner = JsonLogic()
    # notify
    to = fields.Raw()
    subject = fields.Raw()
    message = fields.Raw()
    channels = ListOf(Str())
    webhook = Object(WebhookSchema)


class AlertSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    description = LanguageMap()
    enabled = Bool(load_default=True)
    metric = Key(required=True)
    #: a field of the metric's entity (``owner`` by default), or ``$team``
    subject = Str(load_default="owner")
    #: the period of the figures (the metric's own period by default)
    period = Str(validate=OneOf(*PERIODS))
    #: how many consecutive periods the condition must hold
    periods = Int(load_default=1, validate=Between(1, 12))
    #: judge the period in progress (by default the last complete ones)
    current = Bool(load_default=False)
    target = Object(TargetSchema)
    condition = JsonLogic(required=True, allow_none=False)
    schedule = Object(ScheduleSchema, required=True)
    actions = many(AlertActionSchema, required=True)


class RecipientSchema(StrictSchema):
    """People: the holders of an app role, the members (and manager) of a team, or users
    by username."""

    role = Key()
    team = Key()
    users = ListOf(fields.Raw())

    @validates_schema
    def _one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if len(data) != 1:
            raise ValidationError([Message("schema.error.report_recipient")])


class RobotSchema(WebhookSchema):
    #: whose figures the robot's message shows: the manager of this team (default: all)
    team = Key()


class SectionSchema(StrictSchema):
    key = Key(required=True)
    type = Key(required=True)
    title = LanguageMap()
    # metrics
    metrics = keys()
    # widget
    dashboard = Key()
    widget = Key()
    # stuck_records
    entity = Key()
    filter = JsonLogic()
    limit = Int(load_default=5, validate=Between(1, 50))
    idle_field = Key(load_default="updated_at")
    columns = keys()


class BreakerSchema(StrictSchema):
    """Hold the report when a metric moved more than ``threshold`` (0.35 = ±35%) against
    the previous period; ``metrics`` default to those of the report's metric sections."""

    threshold = Num(required=True, validate=Between(0.01, 100))
    metrics = keys()


class ReportSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    description = LanguageMap()
    enabled = Bool(load_default=True)
    schedule = Object(ScheduleSchema, required=True)
    #: the period reported: the last complete one (yesterday for ``day``)
    period = Str(load_default="day", validate=OneOf(*PERIODS))
    current = Bool(load_default=False)
    recipients = many(RecipientSchema)
    channels = ListOf(Str(validate=OneOf(*PERSON_CHANNELS)), load_default=lambda: ["inbox"])
    robots = many(RobotSchema)
    sections = many(SectionSchema, required=True)
    circuit_breaker = Object(BreakerSchema)


__all__ = ["TEAM_SUBJECT", "AlertSchema", "ReportSchema"]
