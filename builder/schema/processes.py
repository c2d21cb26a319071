"""Schemas of the process parts of an app: stage flows, approvals, automations, assignment, SLA."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import INCLUDE, Schema, ValidationError, fields, validates_schema

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
    many,
)

TRIGGERS = ("created", "updated", "field_changed", "opened", "not_opened", "stage_entered",
            "stage_left", "approval_decided", "webhook", "schedule", "date_reached",
            "no_activity", "schedule_pick")
APPROVER_TYPES = ("user", "role", "manager_of", "field")
NO_APPROVER_POLICIES = ("fail", "skip", "admins")
STRATEGIES = ("round_robin", "least_open", "available_only", "field")
SLA_STARTS = ("created", "stage_entered", "field_set")
TIME_OF_DAY = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


# -- stage flows --------------------------------------------------------------------------


class DeliverableSchema(StrictSchema):
    field = Key(required=True)
    #: records of this entity whose relation ``field`` points at the record are counted
    entity = Key()
    min_count = Int(validate=Between(1))
    message = LanguageMap()


class StageSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap()
    probability = Num(validate=Between(0, 100))
    entry = JsonLogic()
    exit = JsonLogic()
    entry_message = LanguageMap()
    exit_message = LanguageMap()
    deliverables = many(DeliverableSchema)
    sla_hours = Num(validate=Between(0))
    terminal = Str(allow_none=True, validate=OneOf("won", "lost"))
    reason_field = Key()


TransitionSchema = StrictSchema.from_dict(
    {"from": Key(required=True), "to": Key(required=True)}, name="TransitionSchema")


class StageFlowSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap()
    entity = Key(required=True)
    field = Key(required=True)
    allow_back = Bool(load_default=True)
    allow_skip = Bool(load_default=False)
    stages = many(StageSchema, required=True)
    transitions = many(TransitionSchema)
    auto_advance = Bool(load_default=False)
    #: the money/number field weighted by the stages' probabilities in the forecast
    amount_field = Key()


# -- approvals ----------------------------------------------------------------------------


class ApproverSchema(StrictSchema):
    type = Str(required=True, validate=OneOf(*APPROVER_TYPES))
    users = ListOf(Int())
    role = Key()
    levels = Int(validate=Between(1))
    field = Key()
    #: manager_of: whose manager ("submitter", "owner" or a user field)
    of = Key()

    @validates_schema
    def _needs(self, data: dict[str, Any], **kwargs: Any) -> None:
        needed = {"user": "users", "role": "role", "field": "field"}.get(data.get("type", ""))
        if needed and not data.get(needed):
            raise ValidationError({needed: [Message("schema.error.required")]})


class StepSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap()
    when = JsonLogic()
    mode = Str(load_default="any", validate=OneOf("any", "all"))
    approver = Object(ApproverSchema, required=True)
    #: when the approvers resolve to nobody: refuse (fail), skip with a trail entry (skip)
    #: or hand the step to the tenant admins (admins)
    if_no_approver = Str(load_default="fail", validate=OneOf(*NO_APPROVER_POLICIES))


class OutcomeSchema(StrictSchema):
    set = FreeDict(keys=Key(), required=True)


class ApprovalChainSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap()
    entity = Key(required=True)
    trigger = Str(load_default="submit", validate=OneOf("on_save", "submit"))
    when = JsonLogic()
    steps = many(StepSchema, required=True)
    on_reject = Str(load_default="submitter", validate=OneOf("submitter", "previous"))
    lock_record = Bool(load_default=True)
    allow_self_approval = Bool(load_default=False)
    on_approved = Object(OutcomeSchema)
    on_rejected = Object(OutcomeSchema)


# -- automations --------------------------------------------------------------------------


class FreeSchema(Schema):
    """A ``type`` and free-form parameters (interpreted by the trigger or action)."""

    class Meta:
        unknown = INCLUDE


class TriggerSchema(FreeSchema):
    type = Str(required=True, validate=OneOf(*TRIGGERS))


class ActionSchema(FreeSchema):
    type = Key(required=True)


class AutomationSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap()
    entity = Key(required=True)
    enabled = Bool(load_default=True)
    trigger = Object(TriggerSchema, required=True)
    condition = JsonLogic()
    actions = many(ActionSchema, required=True)


# -- assignment ---------------------------------------------------------------------------


class UserRef(fields.Field):
    """A user named by id or by username."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
            raise invalid("user_ref")
        return value


class PoolSchema(StrictSchema):
    """Who may receive records: named users, plus the members of a team (with its
    sub-teams) who hold a role; ``team`` and ``role`` alone take all its members/holders."""

    users = ListOf(UserRef())
    team = Key()
    role = Key()

    @validates_schema
    def _one(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not any(data.get(k) for k in ("users", "team", "role")):
            raise invalid("pool_required")


class AssignmentItemSchema(StrictSchema):
    key = Key()
    title = LanguageMap()
    when = JsonLogic()
    pool = Object(PoolSchema)
    strategy = Str(load_default="round_robin", validate=OneOf(*STRATEGIES))
    #: only users marked available (any strategy; implied by ``available_only``)
    available_only = Bool(load_default=False)
    #: users holding this many open records are skipped
    max_open = Int(validate=Between(1))
    #: strategy ``field``: the field naming the user, or whose value selects a pool in ``map``
    source = Key()
    map = FreeDict(keys=Str(), values=Object(PoolSchema))

    @validates_schema
    def _needs(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("strategy") == "field":
            if not data.get("source"):
                raise ValidationError({"source": [Message("schema.error.required")]})
        elif not data.get("pool"):
            raise ValidationError({"pool": [Message("schema.error.required")]})


class ClaimSchema(StrictSchema):
    """Claiming unassigned records from the pool (公海): who may, which, how many."""

    pool = Object(PoolSchema)
    when = JsonLogic()
    max_open = Int(validate=Between(1))


class AssignmentRuleSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap()
    entity = Key(required=True)
    #: ``owner`` (the system owner) or a user field
    field = Key(load_default="owner")
    on_create = Bool(load_default=True)
    priority_field = Key()
    #: which records count as open (loads, ``max_open``); all live records when absent
    open = JsonLogic()
    #: who, besides tenant admins, may distribute and take records back
    managers = Object(PoolSchema)
    claim = Object(ClaimSchema)
    rules = many(AssignmentItemSchema)


# -- SLA ----------------------------------------------------------------------------------


def _timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid("timezone", timezone=value) from None


def _iso_date(value: str) -> None:
    try:
        date.fromisoformat(value)
    except ValueError:
        raise invalid("iso_date", value=value) from None


class WorkingHoursSchema(StrictSchema):
    days = ListOf(Int(validate=Between(1, 7)), load_default=lambda: [1, 2, 3, 4, 5])
    start = Str(load_default="09:00")
    end = Str(load_default="18:00")
    #: IANA name; the tenant's time zone when left out
    timezone = Str(validate=_timezone)
    #: days off (YYYY-MM-DD) on top of the weekdays left out of ``days``
    holidays = ListOf(Str(validate=_iso_date))

    @validates_schema
    def _times(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors = {name: invalid("time_of_day").messages for name in ("start", "end")
                  if not TIME_OF_DAY.fullmatch(data.get(name, ""))}
        if not errors and data["start"] >= data["end"]:
            errors["end"] = invalid("time_range").messages
        if errors:
            raise ValidationError(errors)


class EscalationSchema(StrictSchema):
    key = Key(required=True)
    offset_minutes = Int(required=True)
    action = Object(ActionSchema, required=True)


class SlaPolicySchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap()
    entity = Key(required=True)
    start = Str(load_default="created", validate=OneOf(*SLA_STARTS))
    #: the field whose setting starts the clock (start = field_set)
    field = Key()
    #: the stage whose entry starts the clock (start = stage_entered), of ``flow``
    stage = Key()
    flow = Key()
    stop = JsonLogic()
    minutes = Int(required=True, validate=Between(1))
    working_hours = Object(WorkingHoursSchema)
    escalations = many(EscalationSchema)
