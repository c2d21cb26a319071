"""Every error leaves the API in one shape: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from werkzeug.exceptions import HTTPException

from builder.errors import AppError, Problem
from builder.extensions import db
from builder.i18n import gettext
from builder.schema.common import problems_from_errors

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: ("bad_request", "error.bad_request"),
    401: ("unauthorized", "error.unauthorized"),
    403: ("forbidden", "error.forbidden"),
    404: ("not_found", "error.not_found"),
    409: ("conflict", "error.conflict"),
    422: ("validation_failed", "error.validation"),
}


def error_body(code: str, message: str, details: list[Problem] | None = None,
               **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message,
                            "details": [p.as_dict() for p in details or []]}
    body.update(extra)
    return {"error": body}


def handle_app_error(error: AppError) -> ResponseReturnValue:
    db.session.rollback()
    body = error_body(error.code, error.message, error.details, **error.extra)
    response = jsonify(body)
    if "retry_after" in error.extra:
        response.headers["Retry-After"] = str(error.extra["retry_after"])
    return response, error.status


def handle_http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    code, key = _HTTP_CODES.get(status, ("error", "error.internal"))
    details: list[Problem] = []
    data = getattr(error, "data", None)
    if isinstance(data, dict) and "messages" in data:
        # webargs/flask-smorest: {"json": {...}, "query": {...}}
        for location, messages in data["messages"].items():
            details.extend(problems_from_errors(messages, "" if location == "json" else location))
        if status == 422:
            code, key = "validation_failed", "error.validation"
    message = gettext(key)
    if status not in _HTTP_CODES and error.description:
        message = error.description
    return jsonify(error_body(code, message, details)), status


def handle_integrity_error(error: IntegrityError) -> ResponseReturnValue:
    """A constraint the database enforces (a unique value taken by a concurrent write)."""
    db.session.rollback()
    log.info("integrity error: %s", error.orig)
    return jsonify(error_body("conflict", gettext("error.integrity"))), 409


def handle_database_error(error: DBAPIError) -> ResponseReturnValue:
    """A value the database refused (400), or the connection lost mid-request: its
    transaction is gone with it, so nothing was changed and the client may try again (503)."""
    if isinstance(error, DataError):
        # A value the database cannot hold (an id beyond an integer column, say): no row
        # can match it and nothing was written, so it is the request that is wrong.
        log.info("value refused by the database: %s", error.orig)
        db.session.rollback()
        return jsonify(error_body("bad_request", gettext("error.bad_request"))), 400
    if not error.connection_invalidated:
        if current_app.config.get("PROPAGATE_UNEXPECTED"):
            raise error
        return handle_unexpected(error)
    log.warning("database connection lost: %s", error.orig)
    db.session.rollback()
    return jsonify(error_body("unavailable", gettext("error.database_unavailable"))), 503


def handle_too_deep(error: RecursionError) -> ResponseReturnValue:
    """Input nested deeper than the interpreter reads (a JSON body, a rule): refused."""
    db.session.rollback()
    log.info("input nested too deeply: %s", error)
    return jsonify(error_body("bad_request", gettext("error.too_deep"))), 400


def handle_unexpected(error: Exception) -> ResponseReturnValue:
    log.exception("unhandled error", exc_info=error)
    db.session.rollback()
    return jsonify(error_body("internal", gettext("error.internal"))), 500


def init_app(app: Flask) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(RecursionError, handle_too_deep)
    if not app.config.get("PROPAGATE_UNEXPECTED"):
        app.register_error_handler(Exception, handle_unexpected)
