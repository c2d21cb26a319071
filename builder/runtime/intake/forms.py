"""Public forms: a form of an entity that anyone with the link can fill in.

``describe`` gives a browser what it needs to render the form (fields with titles,
options and rules, in the visitor's language) plus a signed ``submit_token`` carrying
the time it was issued and a one-time nonce. ``submit`` creates a record through
``RecordService``, with the same validation as any write (422 per field), after:

- rate limits per client IP and per form (``ratelimit``, counted in the database);
- a honeypot field that people never see and bots fill in;
- a minimum time between loading and submitting (bots are fast), read from the token;
- the nonce: a token submits once (a double click or a replay is a 409);
- duplicate answers: the same answers again within the form's window create nothing
  new and get the success message with ``duplicate: true``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError

from builder.errors import Conflict, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext, localized
from builder.runtime.intake import ratelimit
from builder.runtime.intake.endpoints import Resolved, resolve
from builder.runtime.intake.models import FORM, FormSubmission, IntakeEndpoint
from builder.runtime.records import RecordService
from builder.schema.field_types import field_type_registry
from builder.schema.linker_intake import form_fields

HONEYPOT = "homepage"
TOKEN_SALT = "builder.intake.form"
MAX_TOKEN_AGE = timedelta(hours=24)
#: field properties a browser needs, besides the texts (which are localized)
FIELD_PROPERTIES = ("key", "type", "required", "required_when", "visible_when",
                    "readonly_when", "default", "min", "max", "min_length", "max_length",
                    "pattern", "precision", "currency", "multiple")
TEXTS = ("title", "description", "help", "pattern_message")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def issue_submit_token(endpoint: IntakeEndpoint, issued_at: datetime) -> str:
    """A signed token for one submission of the form, issued at ``issued_at``."""
    return str(_serializer().dumps({"e": endpoint.id, "n": secrets.token_hex(12),
                                    "t": int(issued_at.timestamp())}))


def _input_keys(resolved: Resolved) -> list[str]:
    """The form's fields that a visitor fills in (live, not computed)."""
    store = resolved.store
    keys = form_fields(store.entity, resolved.entry.get("form")) or []
    return [k for k in keys if k in store.fields and
            not field_type_registry.get(str(store.fields[k]["type"])).computed]


def _field(definition: Mapping[str, Any], language: str) -> dict[str, Any]:
    item = {name: definition[name] for name in FIELD_PROPERTIES if name in definition}
    for name in TEXTS:
        if definition.get(name):
            item[name] = localized(definition[name], language)
    if "options" in definition:
        item["options"] = [{"key": o["key"], "title": localized(o.get("title"), language),
                            **({"color": o["color"]} if o.get("color") else {})}
                           for o in definition["options"]]
    return item


def describe(token: str, now: datetime, language: str) -> dict[str, Any]:
    """The form as a browser renders it, with a fresh ``submit_token``."""
    resolved = resolve(token, FORM)
    entry, store = resolved.entry, resolved.store
    keys = _input_keys(resolved)
    form = next(f for f in store.entity.get("forms") or [] if f["key"] == entry["form"])
    sections = []
    for section in form.get("sections") or []:
        shown = [k for k in section.get("fields") or [] if k in keys]
        if shown:
            sections.append({"title": localized(section.get("title"), language) or None,
                             "columns": section.get("columns", 1), "fields": shown})
    rules = [{"key": v["key"], "rule": v["rule"], "fields": v["fields"],
              "message": localized(v.get("message"), language)}
             for v in store.entity.get("validations") or []
             if v.get("fields") and set(v["fields"]) <= set(keys)]
    return {
        "key": entry["key"],
        "title": localized(entry.get("title"), language),
        "description": localized(entry.get("description"), language) or None,
        "language": language,
        "fields": [_field(store.fields[k], language) for k in keys],
        "sections": sections,
        "rules": rules,
        "honeypot": HONEYPOT,
        "min_fill_seconds": int(entry.get("min_fill_seconds", 3)),
        "submit_token": issue_submit_token(resolved.endpoint, now),
    }


def _refuse(path: str, key: str, code: str) -> ValidationFailed:
    message = gettext(key)
    return ValidationFailed(message, [Problem(path, message, code)])


def _check_token(raw: Any, endpoint: IntakeEndpoint, min_seconds: int, now: datetime) -> str:
    """The nonce of a valid submit token, or a 422 saying why it is not."""
    try:
        claims = _serializer().loads(raw) if isinstance(raw, str) and len(raw) < 500 else None
    except BadSignature:
        claims = None
    if not isinstance(claims, dict) or claims.get("e") != endpoint.id or \
            not isinstance(claims.get("t"), int) or not isinstance(claims.get("n"), str):
        raise _refuse("submit_token", "intake.error.bad_submit_token", "invalid")
    age = now.timestamp() - claims["t"]
    if age < min_seconds:
        raise _refuse("submit_token", "intake.error.too_fast", "too_fast")
    if age > MAX_TOKEN_AGE.total_seconds():
        raise _refuse("submit_token", "intake.error.token_expired", "expired")
    return str(claims["n"])


def _digest(data: Mapping[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def submit(token: str, body: Any, ip: str, now: datetime, language: str) -> dict[str, Any]:
    """Create a record from a visitor's submission; returns ``{"message", "duplicate"}``.

    Refusals: 404 unknown or disabled form, 429 over a rate limit, 422 spam signs or
    invalid values (per field), 409 a submit token used twice.
    """
    resolved = resolve(token, FORM)
    entry, endpoint = resolved.entry, resolved.endpoint
    limits = entry.get("rate_limit") or {}
    ratelimit.hit([(f"form:{endpoint.id}:ip:{ip}", int(limits.get("per_ip", 10))),
                   (f"form:{endpoint.id}", int(limits.get("per_form", 1000)))],
                  timedelta(minutes=int(limits.get("window_minutes", 60))), now)
    if not isinstance(body, Mapping):
        raise _refuse("$", "intake.error.body_expected", "invalid")
    if body.get(HONEYPOT) not in (None, ""):
        raise _refuse(HONEYPOT, "intake.error.spam", "spam")
    nonce = _check_token(body.get("submit_token"), endpoint,
                         int(entry.get("min_fill_seconds", 3)), now)
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise _refuse("data", "intake.error.data_expected", "invalid")
    keys = set(_input_keys(resolved))
    unknown = [Problem(str(k), gettext("records.error.unknown_field", field=k), "unknown_field")
               for k in data if k not in keys]
    if unknown:
        raise ValidationFailed(gettext("records.error.invalid"), unknown)
    success = localized(entry.get("success_message"), language) or \
        gettext("intake.form.thanks", language)
    digest = _digest(data)
    window = timedelta(minutes=int(entry.get("duplicate_window_minutes", 1440)))
    if window and db.session.scalar(sa.select(FormSubmission.id).where(
            FormSubmission.endpoint_id == endpoint.id, FormSubmission.digest == digest,
            FormSubmission.created_at >= now - window).limit(1)) is not None:
        db.session.rollback()
        return {"message": success, "duplicate": True}
    submission = FormSubmission(endpoint_id=endpoint.id, nonce=nonce, digest=digest,
                                ip=ip[:64], created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(submission)
    except IntegrityError:
        db.session.rollback()
        raise Conflict(gettext("intake.error.already_submitted"), [Problem(
            "submit_token", gettext("intake.error.already_submitted"), "used")]) from None
    values = {**(entry.get("defaults") or {}), **data}
    record = RecordService(resolved.store, None, commit=False).create(values)
    submission.record_id = int(record["id"])
    db.session.commit()
    return {"message": success, "duplicate": False}
