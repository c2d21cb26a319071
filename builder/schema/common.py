"""Building blocks shared by the definition schemas: keys, language maps, JsonLogic values.

Error messages are ``Message`` objects (an i18n key with parameters), turned into text in
the caller's language only when the errors are reported (``problems_from_errors``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields

from builder.errors import Problem
from builder.i18n import DEFAULT_LANGUAGE, LANGUAGES, gettext

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
#: columns every record carries; no field may use these keys
SYSTEM_FIELDS = ("id", "created_at", "created_by", "updated_at", "updated_by", "owner",
                 "version", "deleted", "parent_id")
#: system fields that conditions may read
SYSTEM_VARS = ("id", "created_at", "updated_at", "created_by", "updated_by", "owner", "version")


class Message:
    """An i18n key and its parameters, translated when the problem is reported."""

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params

    @property
    def code(self) -> str:
        return self.key.rsplit(".", 1)[-1]

    def text(self, language: str | None = None) -> str:
        return gettext(self.key, language, **self.params)

    def __str__(self) -> str:
        return self.text("en")

    def __repr__(self) -> str:
        return f"Message({self.key!r}, {self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.key, self.params) == (other.key, other.params)

    def __hash__(self) -> int:
        return hash(self.key)


def invalid(key: str, **params: Any) -> ValidationError:
    return ValidationError([Message(f"schema.error.{key}", **params)])


def is_key(value: Any) -> bool:
    return isinstance(value, str) and KEY_PATTERN.fullmatch(value) is not None


# -- fields -------------------------------------------------------------------------------

_COMMON_MESSAGES: dict[str, Any] = {
    "required": Message("schema.error.required"),
    "null": Message("schema.error.null"),
    "validator_failed": Message("schema.error.invalid"),
}


class _Strict(fields.Field):
    """A JSON value of one Python type, kept exactly as given (no string coercion)."""

    default_error_messages: dict[str, Any] = {**_COMMON_MESSAGES}
    accepts: tuple[type, ...] = ()
    invalid_key = "schema.error.invalid"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) and bool not in self.accepts:
            raise ValidationError([Message(self.invalid_key)])
        if not isinstance(value, self.accepts):
            raise ValidationError([Message(self.invalid_key)])
        return value


class Str(_Strict):
    accepts = (str,)
    invalid_key = "schema.error.not_string"


class Int(_Strict):
    accepts = (int,)
    invalid_key = "schema.error.not_integer"


class Num(_Strict):
    accepts = (int, float)
    invalid_key = "schema.error.not_number"

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        value = super()._deserialize(value, attr, data, **kwargs)
        if isinstance(value, float) and not math.isfinite(value):
            raise invalid("not_number")
        return value


class Bool(_Strict):
    accepts = (bool,)
    invalid_key = "schema.error.not_boolean"


class Key(Str):
    """A stable key: ``^[a-z][a-z0-9_]{0,62}$``."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        value = super()._deserialize(value, attr, data, **kwargs)
        if not is_key(value):
            raise invalid("invalid_key", value=value)
        return value


class FieldKey(Key):
    """A field key: a key that is not one of the system fields."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        value = super()._deserialize(value, attr, data, **kwargs)
        if value in SYSTEM_FIELDS:
            raise invalid("reserved_key", value=value)
        return value


class LanguageMap(fields.Field):
    """``{"zh-CN": "客户", "en": "Customer"}``: zh-CN required, non-empty strings."""

    default_error_messages: dict[str, Any] = {**_COMMON_MESSAGES}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, Mapping):
            raise invalid("language_map")
        unknown = sorted(str(k) for k in value if k not in LANGUAGES)
        if unknown:
            raise invalid("language_unknown", languages=", ".join(unknown))
        if DEFAULT_LANGUAGE not in value:
            raise invalid("language_required", lang=DEFAULT_LANGUAGE)
        for text in value.values():
            if not isinstance(text, str) or not text.strip():
                raise invalid("language_empty")
        return {lang: value[lang] for lang in LANGUAGES if lang in value}


class JsonLogic(fields.Field):
    """A JsonLogic rule, kept as given; the linker checks operators and variable names."""

    default_error_messages: dict[str, Any] = {**_COMMON_MESSAGES}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_none", True)
        super().__init__(**kwargs)


class ListOf(fields.List):
    default_error_messages: dict[str, Any] = {
        **_COMMON_MESSAGES, "invalid": Message("schema.error.not_list")}


class Object(fields.Nested):
    default_error_messages: dict[str, Any] = {
        **_COMMON_MESSAGES, "type": Message("schema.error.not_object")}


class FreeDict(fields.Dict):
    default_error_messages: dict[str, Any] = {
        **_COMMON_MESSAGES, "invalid": Message("schema.error.not_object")}


def many(schema: type[Schema] | Schema, **kwargs: Any) -> ListOf:
    """A list of objects, empty by default unless required."""
    if not kwargs.get("required"):
        kwargs.setdefault("load_default", list)
    return ListOf(Object(schema), **kwargs)


def keys(**kwargs: Any) -> ListOf:
    """A list of keys, empty by default unless required."""
    if not kwargs.get("required"):
        kwargs.setdefault("load_default", list)
    return ListOf(Key(), **kwargs)


# -- validators ---------------------------------------------------------------------------


class OneOf:
    def __init__(self, *choices: Any) -> None:
        self.choices = choices

    def __call__(self, value: Any) -> Any:
        if value not in self.choices:
            raise invalid("one_of", value=value, choices=", ".join(map(str, self.choices)))
        return value


class Between:
    def __init__(self, low: float | None = None, high: float | None = None) -> None:
        self.low, self.high = low, high

    def __call__(self, value: Any) -> Any:
        if (self.low is not None and value < self.low) or (
                self.high is not None and value > self.high):
            if self.high is None:
                raise invalid("at_least", min=self.low)
            raise invalid("between", min=self.low, max=self.high)
        return value


# -- schemas ------------------------------------------------------------------------------


class StrictSchema(Schema):
    """Unknown properties are errors."""

    class Meta:
        unknown = RAISE

    error_messages: dict[str, Any] = {"unknown": Message("schema.error.unknown_property"),
                                      "type": Message("schema.error.not_object")}


# -- errors -------------------------------------------------------------------------------

_MARSHMALLOW_TEXTS = {
    "Unknown field.": "schema.error.unknown_property",
    "Missing data for required field.": "schema.error.required",
    "Field may not be null.": "schema.error.null",
    "Invalid input type.": "schema.error.not_object",
    "Not a valid list.": "schema.error.not_list",
    "Not a valid mapping type.": "schema.error.not_object",
}


def _join(prefix: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


def problems_from_errors(messages: Any, prefix: str = "") -> list[Problem]:
    """marshmallow's nested error dict → problems with paths like ``entities[1].fields[3].key``."""
    problems: list[Problem] = []
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = prefix if key == "_schema" else _join(prefix, key)
            problems.extend(problems_from_errors(value, path))
    elif isinstance(messages, list):
        for item in messages:
            problems.extend(problems_from_errors(item, prefix))
    else:
        message = messages
        if not isinstance(message, Message):
            text = str(message)
            key = _MARSHMALLOW_TEXTS.get(text)
            message = Message(key) if key else None
            if message is None:
                problems.append(Problem(prefix or "$", text))
                return problems
        problems.append(Problem(prefix or "$", message.text(), message.code))
    return problems
