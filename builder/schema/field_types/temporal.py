"""Dates and times. Datetimes are stored in UTC; input without an offset is taken as UTC."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from builder.schema.field_types.base import FieldType, FieldValueError, field_type_registry


@field_type_registry.register
class DateType(FieldType):
    type = "date"
    kind = "date"
    indexed = True

    def column_type(self, field: Mapping[str, Any]) -> sa.types.TypeEngine[Any]:
        return sa.Date()

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if not isinstance(value, str):
            raise FieldValueError("field.error.not_date")
        text = value.strip().replace("/", "-")
        try:
            return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
        except ValueError:
            raise FieldValueError("field.error.not_date") from None

    def to_json(self, value: Any, field: Mapping[str, Any]) -> Any:
        if isinstance(value, datetime):
            value = value.date()
        return value.isoformat() if isinstance(value, date) else value


@field_type_registry.register
class DateTimeType(FieldType):
    type = "datetime"
    kind = "datetime"
    indexed = True

    def column_type(self, field: Mapping[str, Any]) -> sa.types.TypeEngine[Any]:
        return sa.DateTime(timezone=True)

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str):
            text = value.strip().replace("Z", "+00:00")
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise FieldValueError("field.error.not_datetime") from None
        else:
            raise FieldValueError("field.error.not_datetime")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).replace(microsecond=0)

    def to_json(self, value: Any, field: Mapping[str, Any]) -> Any:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return value
