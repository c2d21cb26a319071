"""Attachments and images: the value is a list of uploaded files of the same tenant.

Input is a list of file ids (as returned by ``POST /api/files``); the records service
checks each id against the tenant's files and stores a small descriptor per file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from builder.schema.field_types.base import FieldType, FieldValueError, field_type_registry


@field_type_registry.register
class AttachmentType(FieldType):
    type = "attachment"
    kind = "list"
    properties: tuple[str, ...] = ("multiple", "max_files", "accept")
    image_only = False

    def column_type(self, field: Mapping[str, Any]) -> sa.types.TypeEngine[Any]:
        return sa.JSON()

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        if value is None or value == "" or value == []:
            return None
        items = value if isinstance(value, list) else [value]
        ids: list[str] = []
        for item in items:
            file_id = item.get("id") if isinstance(item, Mapping) else item
            if not isinstance(file_id, str) or not file_id.strip():
                raise FieldValueError("field.error.not_a_file")
            ids.append(file_id.strip())
        limit = field.get("max_files") or (1 if field.get("multiple") is False else 20)
        if len(ids) > int(limit):
            raise FieldValueError("field.error.too_many_files", max=limit)
        return ids

    def to_json(self, value: Any, field: Mapping[str, Any]) -> Any:
        return value or []

    def convert(self, value: Any, from_field: Mapping[str, Any], field: Mapping[str, Any]) -> Any:
        if value is None:
            return None
        if from_field["type"] in ("attachment", "image"):
            return value
        raise FieldValueError("field.error.not_a_file")


@field_type_registry.register
class ImageType(AttachmentType):
    type = "image"
    image_only = True
    #: ``stamp``: only photos stamped with time and place on upload are accepted
    #: (``builder.runtime.records.stamps``)
    properties = ("multiple", "max_files", "accept", "stamp")
