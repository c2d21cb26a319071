"""Inbound webhooks: outside systems post JSON that becomes a record of an entity.

The definition maps entity fields to JSON paths of the posted document
(``{"phone": "$.caller.number"}``) and may name the sender's own id
(``external_id: "$.call_id"``): the same id twice creates one record, also when the two
calls arrive at once (a unique row per hook and id, written before the record, decides).
With ``signature: true`` a call must carry ``X-Builder-Timestamp`` and
``X-Builder-Signature`` made with the hook's secret (``builder.runtime.signing``).
Every call is logged, the last ``KEEP_CALLS`` per hook, for the admin.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from builder.errors import AppError, Conflict, Problem, Unauthorized, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime import signing
from builder.runtime.intake.endpoints import Resolved, get_endpoint, resolve
from builder.runtime.intake.models import HOOK, ExternalId, HookCall
from builder.runtime.records import RecordService

KEEP_CALLS = 50
MAX_LOGGED_BODY = 4000
MAX_EXTERNAL_ID = 200
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\[\"([^\"]*)\"\]|\['([^']*)'\]")
_MISSING = object()


def extract(document: Any, path: str) -> Any:
    """The value at a JSON path such as ``$.caller.phone`` or ``$.items[0]["sku"]``
    (``_MISSING`` when the document has nothing there)."""
    value = document
    for match in _STEP.finditer(path, 1):
        name, index, quoted, single = match.groups()
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
        else:
            key = name if name is not None else (quoted if quoted is not None else single)
            if not isinstance(value, Mapping) or key not in value:
                return _MISSING
            value = value[key]
    return value


def _problem(where: str, key: str, code: str, **params: Any) -> ValidationFailed:
    message = gettext(key, **params)
    return ValidationFailed(message, [Problem(where, message, code)])


def _external_id(entry: Mapping[str, Any], document: Any) -> str | None:
    path = entry.get("external_id")
    if not path:
        return None
    value = extract(document, path)
    if value is _MISSING or value is None or value == "" or \
            isinstance(value, (dict, list, bool)):
        raise _problem(path, "intake.error.external_id_missing", "required", path=path)
    text = str(value)
    if len(text) > MAX_EXTERNAL_ID:
        raise _problem(path, "intake.error.external_id_too_long", "too_long",
                       max=MAX_EXTERNAL_ID)
    return text


def _record_values(entry: Mapping[str, Any], document: Any) -> dict[str, Any]:
    values = dict(entry.get("defaults") or {})
    for field_key, path in (entry.get("mapping") or {}).items():
        value = extract(document, path)
        if value is not _MISSING:
            values[field_key] = value
    return values


def _from_payload(error: ValidationFailed, entry: Mapping[str, Any]) -> ValidationFailed:
    """The record's problems named by the payload path they came from, and the field."""
    mapping = entry.get("mapping") or {}
    details = []
    for item in error.details:
        field_key = item.path.split(".")[0].split("[")[0]
        source = mapping.get(field_key)
        if source:
            rest = item.path[len(field_key):]
            details.append(Problem(source + rest, f"{item.path}: {item.message}", item.code))
        else:
            details.append(item)
    return ValidationFailed(error.message, details, **error.extra)


def _log(resolved: Resolved, status: int, ip: str, raw: bytes, external: str | None,
         record_id: int | None, error: AppError | None) -> None:
    endpoint_id = resolved.endpoint.id
    db.session.add(HookCall(
        endpoint_id=endpoint_id, status=status, ip=ip[:64], external_id=external,
        record_id=record_id, payload=raw[:MAX_LOGGED_BODY].decode("utf-8", "replace"),
        error=error.message if error else None,
        problems=[p.as_dict() for p in error.details] if error else None))
    db.session.flush()
    cutoff = db.session.scalar(
        sa.select(HookCall.id).where(HookCall.endpoint_id == endpoint_id)
        .order_by(HookCall.id.desc()).offset(KEEP_CALLS - 1).limit(1))
    if cutoff is not None:
        db.session.execute(sa.delete(HookCall).where(HookCall.endpoint_id == endpoint_id,
                                                     HookCall.id < cutoff))


def _existing(resolved: Resolved, external: str) -> dict[str, Any] | None:
    row = db.session.scalar(sa.select(ExternalId).where(
        ExternalId.endpoint_id == resolved.endpoint.id, ExternalId.external_id == external))
    if row is None or row.record_id is None:
        return None
    return RecordService(resolved.store, None).get(int(row.record_id))


def _check_signature(resolved: Resolved, raw: bytes, headers: Mapping[str, str]) -> None:
    if resolved.entry.get("signature") and not signing.verify(
            resolved.endpoint.secret, headers.get(signing.TIMESTAMP_HEADER),
            headers.get(signing.SIGNATURE_HEADER), raw, time.time()):
        raise Unauthorized(gettext("intake.error.bad_signature"))


def receive(token: str, raw: bytes, headers: Mapping[str, str], ip: str,
            now: datetime) -> tuple[int, dict[str, Any]]:
    """Turn one call into a record; ``(201, {"record", "created": True})``, or ``200`` with
    the record made earlier for the same external id. Errors: 404 unknown token, 401 bad
    signature, 422 bad JSON or values (named by payload path and field)."""
    resolved = resolve(token, HOOK)
    external: str | None = None
    try:
        _check_signature(resolved, raw, headers)
        try:
            document = json.loads(raw)
        except ValueError:
            raise _problem("$", "intake.error.bad_json", "invalid_json") from None
        external = _external_id(resolved.entry, document)
        existing = _existing(resolved, external) if external else None
        if existing is None and external is not None:
            row = ExternalId(endpoint_id=resolved.endpoint.id, external_id=external,
                             created_at=now)
            try:
                with db.session.begin_nested():
                    db.session.add(row)
            except IntegrityError:  # a concurrent call with the same id got there first
                existing = _existing(resolved, external)
                if existing is None:
                    raise
        if existing is not None:
            _log(resolved, 200, ip, raw, external, int(existing["id"]), None)
            db.session.commit()
            return 200, {"record": existing, "created": False}
        try:
            record = RecordService(resolved.store, None, commit=False).create(
                _record_values(resolved.entry, document))
        except ValidationFailed as error:
            raise _from_payload(error, resolved.entry) from None
        except IntegrityError:  # a unique value taken by a concurrent write
            raise Conflict(gettext("error.integrity")) from None
        if external is not None:
            row.record_id = int(record["id"])
        _log(resolved, 201, ip, raw, external, int(record["id"]), None)
        db.session.commit()
        return 201, {"record": record, "created": True}
    except AppError as error:
        db.session.rollback()
        _log(resolved, error.status, ip, raw, external, None, error)
        db.session.commit()
        raise


def calls(tenant_id: int, endpoint_id: int) -> list[HookCall]:
    """The last calls of one of the tenant's webhooks, newest first."""
    endpoint = get_endpoint(tenant_id, endpoint_id)
    return list(db.session.scalars(sa.select(HookCall).where(
        HookCall.endpoint_id == endpoint.id).order_by(HookCall.id.desc()).limit(KEEP_CALLS)))
