"""Extension objects, created unbound and bound to the app in ``create_app``."""

from __future__ import annotations

import marshmallow as ma
from flask_login import LoginManager
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class ProblemSchema(ma.Schema):
    """One thing wrong in a request, and where (``builder.errors.Problem``)."""

    path = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    code = ma.fields.String(required=True)
    record = ma.fields.Integer()


class ErrorBodySchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE  # some errors add context, e.g. the current version

    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    details = ma.fields.List(ma.fields.Nested(ProblemSchema), required=True)


class ErrorSchema(ma.Schema):
    """What every error answers: ``{"error": {"code", "message", "details"}}``."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)


class BuilderApi(Api):
    """The OpenAPI document describes the error shape the API really answers with."""

    ERROR_SCHEMA = ErrorSchema


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
api = BuilderApi()
login_manager = LoginManager()
