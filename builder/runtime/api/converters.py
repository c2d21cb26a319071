"""URL converters. Every ``<int:...>`` in a route is a database id: positive and within
BIGINT, so an out-of-range id is a plain 404 instead of a driver overflow."""

from __future__ import annotations

from flask import Flask
from flask_smorest.spec.plugins import integerconverter2paramschema
from werkzeug.routing import IntegerConverter, Map

from builder.extensions import api

MAX_ID = 2**63 - 1


class IdConverter(IntegerConverter):
    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = 1,
                 max: int | None = MAX_ID, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    api.register_converter(IdConverter, integerconverter2paramschema)
