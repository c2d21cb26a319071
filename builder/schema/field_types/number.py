"""Numeric types: number (with precision), money (with currency), percent."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem
from builder.schema.field_types.base import (
    FieldType,
    FieldValueError,
    LintContext,
    field_type_registry,
)

MAX_DIGITS = 18
CURRENCIES = {"CNY", "USD", "EUR", "HKD", "JPY", "GBP", "TWD", "SGD", "KRW", "AUD", "CAD"}


@field_type_registry.register
class NumberType(FieldType):
    type = "number"
    kind = "number"
    properties: tuple[str, ...] = ("precision",)
    default_precision = 0

    def precision(self, field: Mapping[str, Any]) -> int:
        value = field.get("precision")
        return int(value) if isinstance(value, int) else self.default_precision

    def column_type(self, field: Mapping[str, Any]) -> sa.types.TypeEngine[Any]:
        return sa.Numeric(MAX_DIGITS + 2, self.precision(field), asdecimal=False)

    def parse(self, value: Any, field: Mapping[str, Any]) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, (bool, dict, list)):
            raise FieldValueError("field.error.not_number")
        text = str(value).strip().replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise FieldValueError("field.error.not_number") from None
        if not number.is_finite():
            raise FieldValueError("field.error.not_number")
        digits = self.precision(field)
        rounded = number.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
        if abs(rounded) >= Decimal(10) ** MAX_DIGITS:
            raise FieldValueError("field.error.number_too_large")
        return int(rounded) if digits == 0 else float(rounded)

    def to_json(self, value: Any, field: Mapping[str, Any]) -> Any:
        if value is None:
            return None
        number = float(value)
        if not math.isfinite(number):
            return None
        digits = self.precision(field)
        return round(number) if digits == 0 else round(number, digits)

    def lint(self, field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
        precision = field.get("precision")
        if precision is not None and (not isinstance(precision, int) or not 0 <= precision <= 8):
            return [ctx.problem("precision", "schema.error.precision")]
        return []


@field_type_registry.register
class MoneyType(NumberType):
    type = "money"
    properties: tuple[str, ...] = ("precision", "currency")
    default_precision = 2

    def lint(self, field: Mapping[str, Any], ctx: LintContext) -> list[Problem]:
        problems = super().lint(field, ctx)
        currency = field.get("currency", "CNY")
        if currency not in CURRENCIES:
            problems.append(ctx.problem("currency", "schema.error.currency", currency=currency))
        return problems


@field_type_registry.register
class PercentType(NumberType):
    """Stored as the number shown (12.5 means 12.5%)."""

    type = "percent"
    default_precision = 2
