"""Text-like types: text, long text, email, phone, URL."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from builder.schema.field_types.base import FieldType, FieldValueError, field_type_registry

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9][0-9 \-()]{4,24}$")
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@field_type_registry.register
class TextType(FieldType):
    type = "text"
    searchable = True
    max_length = 1000

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        if isinstance(value, bool):
            value = "true" if value else "false"
        text = super().parse(value, field)
        if text is None:
            return None
        text = text.strip() if self.type != "long_text" else text
        if len(text) > self.max_length:
            raise FieldValueError("field.error.too_long", max=self.max_length)
        return text or None


@field_type_registry.register
class LongTextType(TextType):
    type = "long_text"
    max_length = 100_000


@field_type_registry.register
class BarcodeType(TextType):
    """A code read by a scanner or a phone's camera (EAN-13, Code 128, a QR code's text),
    stored as text. The web app offers the camera where the browser can read codes and a
    plain input otherwise; a hardware scanner types into it like a keyboard."""

    type = "barcode"
    max_length = 500


class _PatternText(TextType):
    regex: re.Pattern[str] = EMAIL
    error_key = ""

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        text = super().parse(value, field)
        if text is not None and not self.regex.match(text):
            raise FieldValueError(self.error_key)
        return text


@field_type_registry.register
class EmailType(_PatternText):
    type = "email"
    regex = EMAIL
    error_key = "field.error.email"

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        text = super().parse(value, field)
        return text.lower() if text else text


@field_type_registry.register
class PhoneType(_PatternText):
    type = "phone"
    regex = PHONE
    error_key = "field.error.phone"


@field_type_registry.register
class UrlType(_PatternText):
    type = "url"
    regex = URL
    error_key = "field.error.url"
