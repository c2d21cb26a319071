"""Schemas of the intake parts of an app: public forms and inbound webhooks.

- ``public_forms[]``: a form of an entity published as a link that needs no login (the
  website lead form); submissions create records of the entity.
- ``inbound_webhooks[]``: outside systems (telephony transcripts, official-account
  messages, POS receipts) post JSON that is mapped onto a new record.
"""

from __future__ import annotations

import re

from builder.schema.common import (
    Between,
    Bool,
    FreeDict,
    Int,
    Key,
    LanguageMap,
    Object,
    Str,
    StrictSchema,
    invalid,
)

#: ``$``, then ``.name`` / ``["name"]`` / ``[index]`` steps
JSON_PATH = re.compile(r"\$((\.[^.\[\]]+)|(\[\d+\])|(\[\"[^\"]*\"\])|(\['[^']*'\]))*")


def _json_path(value: str) -> str:
    if not JSON_PATH.fullmatch(value):
        raise invalid("intake_json_path", value=value)
    return value


class RateLimitSchema(StrictSchema):
    window_minutes = Int(load_default=60, validate=Between(1, 1440))
    per_ip = Int(load_default=10, validate=Between(1, 100000))
    per_form = Int(load_default=1000, validate=Between(1, 10000000))


class PublicFormSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    description = LanguageMap()
    entity = Key(required=True)
    form = Key(required=True)
    success_message = LanguageMap()
    enabled = Bool(load_default=True)
    #: values set on every record created through the form (e.g. the lead source)
    defaults = FreeDict(keys=Key(), load_default=dict)
    #: a submission faster than this after the form was loaded is refused as a bot
    min_fill_seconds = Int(load_default=3, validate=Between(0, 3600))
    #: the same answers again within this window create no second record
    duplicate_window_minutes = Int(load_default=1440, validate=Between(0, 525600))
    rate_limit = Object(RateLimitSchema, load_default=lambda: RateLimitSchema().load({}))


class InboundWebhookSchema(StrictSchema):
    key = Key(required=True)
    title = LanguageMap(required=True)
    entity = Key(required=True)
    enabled = Bool(load_default=True)
    #: entity field → JSON path in the posted document (``$.caller.phone``)
    mapping = FreeDict(keys=Key(), values=Str(validate=_json_path), required=True)
    #: JSON path of the sender's own id: the same id twice creates one record
    external_id = Str(validate=_json_path)
    defaults = FreeDict(keys=Key(), load_default=dict)
    #: require an HMAC-SHA256 signature (``X-Builder-Signature``) made with the hook's secret
    signature = Bool(load_default=False)


__all__ = ["JSON_PATH", "InboundWebhookSchema", "PublicFormSchema"]
