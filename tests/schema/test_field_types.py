"""The field-type registry: parse, to_json and convert of every type; adding a type."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from builder.i18n import catalogue
from builder.registry import AlreadyRegistered, UnknownType
from builder.schema import check_definition, validate_definition
from builder.schema.field_types import FieldType, FieldValueError, field_type_registry, kind_of
from tests.definitions import entity, field, minimal_app

OPTIONS = [{"key": "east", "title": {"zh-CN": "华东", "en": "East"}},
           {"key": "west", "title": {"zh-CN": "华西", "en": "West"}}]


def spec(type_: str, **props: Any) -> dict[str, Any]:
    return {"key": "f", "type": type_, "title": {"zh-CN": "字段"}, **props}


def parse(type_: str, value: Any, **props: Any) -> Any:
    return field_type_registry.get(type_).parse(value, spec(type_, **props))


def to_json(type_: str, value: Any, **props: Any) -> Any:
    return field_type_registry.get(type_).to_json(value, spec(type_, **props))


def error_key(type_: str, value: Any, **props: Any) -> str:
    with pytest.raises(FieldValueError) as caught:
        parse(type_, value, **props)
    return caught.value.key


@pytest.mark.parametrize(("type_", "value", "expected", "props"), [
    ("text", "  hello ", "hello", {}),
    ("text", True, "true", {}),
    ("text", 12, "12", {}),
    ("text", "", None, {}),
    ("text", "   ", None, {}),
    ("long_text", "  keep\n spaces ", "  keep\n spaces ", {}),
    ("email", " Sales@Example.COM ", "sales@example.com", {}),
    ("phone", "+86 138-0000-0000", "+86 138-0000-0000", {}),
    ("url", "https://example.com/a?b=1", "https://example.com/a?b=1", {}),
    ("number", "1,234", 1234, {}),
    ("number", 2.5, 3, {}),  # half-up (四舍五入), not banker's rounding
    ("money", "12.345", 12.35, {}),
    ("number", "3.14159", 3.1416, {"precision": 4}),
    ("number", -0.5, -0.5, {"precision": 1}),
    ("money", "99.999", 100.0, {}),
    ("money", 10, 10.0, {}),
    ("percent", "12.346", 12.35, {}),
    ("date", "2026-01-31", date(2026, 1, 31), {}),
    ("date", "2026/01/31", date(2026, 1, 31), {}),
    ("date", "2026-01-31T10:00:00", date(2026, 1, 31), {}),
    ("date", datetime(2026, 1, 31, 23, 0), date(2026, 1, 31), {}),
    ("datetime", "2026-01-31T10:00:00Z", datetime(2026, 1, 31, 10, tzinfo=UTC), {}),
    ("datetime", "2026-01-31T18:00:00+08:00", datetime(2026, 1, 31, 10, tzinfo=UTC), {}),
    ("datetime", "2026-01-31 10:00", datetime(2026, 1, 31, 10, tzinfo=UTC), {}),
    ("boolean", "是", True, {}),
    ("boolean", "off", False, {}),
    ("boolean", 1, True, {}),
    ("boolean", False, False, {}),
    ("select", "east", "east", {"options": OPTIONS}),
    ("select", "华西", "west", {"options": OPTIONS}),
    ("select", "West", "west", {"options": OPTIONS}),
    ("multi_select", "west，east", ["east", "west"], {"options": OPTIONS}),
    ("multi_select", ["华西", "west"], ["west"], {"options": OPTIONS}),
    ("multi_select", [], None, {"options": OPTIONS}),
    ("user", "7", 7, {}),
    ("user", {"id": 3, "name": "张三"}, 3, {}),
    ("relation", 42, 42, {"entity": "customer"}),
    ("subtable", [{"product": "A"}], [{"product": "A"}], {"entity": "line"}),
    ("subtable", [], [], {"entity": "line"}),
    ("attachment", ["f1", {"id": "f2"}], ["f1", "f2"], {}),
    ("attachment", "f1", ["f1"], {}),
    ("image", [" img "], ["img"], {}),
    ("autonumber", "KH-2026-00001", "KH-2026-00001", {"template": "KH-{YYYY}-{seq:5}"}),
    ("formula", "2.5", 2.5, {"result_type": "number", "precision": 1,
                             "expression": {"var": "a"}}),
    ("formula", "x", "x", {"result_type": "text", "expression": {"var": "a"}}),
    ("formula", "yes", True, {"result_type": "boolean", "expression": {"var": "a"}}),
])
def test_parse(type_: str, value: Any, expected: Any, props: dict[str, Any]) -> None:
    assert parse(type_, value, **props) == expected


@pytest.mark.parametrize(("type_", "value", "key", "props"), [
    ("text", {"a": 1}, "field.error.not_text", {}),
    ("text", "x" * 1001, "field.error.too_long", {}),
    ("email", "not-an-email", "field.error.email", {}),
    ("phone", "call me", "field.error.phone", {}),
    ("url", "example.com", "field.error.url", {}),
    ("number", "abc", "field.error.not_number", {}),
    ("number", True, "field.error.not_number", {}),
    ("number", "NaN", "field.error.not_number", {}),
    ("number", "Infinity", "field.error.not_number", {}),
    ("number", 10 ** 18, "field.error.number_too_large", {}),
    ("date", "31.01.2026", "field.error.not_date", {}),
    ("date", 20260131, "field.error.not_date", {}),
    ("datetime", "yesterday", "field.error.not_datetime", {}),
    ("datetime", 5, "field.error.not_datetime", {}),
    ("boolean", "maybe", "field.error.not_boolean", {}),
    ("boolean", 2, "field.error.not_boolean", {}),
    ("select", "north", "field.error.not_an_option", {"options": OPTIONS}),
    ("select", ["east"], "field.error.not_an_option", {"options": OPTIONS}),
    ("multi_select", 3, "field.error.not_a_list", {"options": OPTIONS}),
    ("multi_select", ["north"], "field.error.not_an_option", {"options": OPTIONS}),
    ("user", "abc", "field.error.not_an_id", {}),
    ("user", 0, "field.error.not_an_id", {}),
    ("user", True, "field.error.not_an_id", {}),
    ("relation", -3, "field.error.not_an_id", {"entity": "customer"}),
    ("subtable", {"product": "A"}, "field.error.not_rows", {"entity": "line"}),
    ("subtable", ["A"], "field.error.not_rows", {"entity": "line"}),
    ("attachment", [""], "field.error.not_a_file", {}),
    ("attachment", [{"name": "x"}], "field.error.not_a_file", {}),
    ("attachment", ["a", "b"], "field.error.too_many_files", {"multiple": False}),
    ("image", ["a", "b", "c"], "field.error.too_many_files", {"max_files": 2}),
])
def test_parse_errors(type_: str, value: Any, key: str, props: dict[str, Any]) -> None:
    assert error_key(type_, value, **props) == key


@pytest.mark.parametrize("type_", field_type_registry.types())
def test_empty_values_parse_to_none(type_: str) -> None:
    props = {"options": OPTIONS} if "options" in field_type_registry.get(type_).properties else {}
    assert parse(type_, None, **props) is None
    assert field_type_registry.get(type_).is_empty(None)


@pytest.mark.parametrize(("type_", "value", "expected", "props"), [
    ("number", 3.0, 3, {}),
    ("number", 3, 3, {}),
    ("number", 2.345, 2.35, {"precision": 2}),
    ("money", None, None, {}),
    ("date", date(2026, 2, 1), "2026-02-01", {}),
    ("date", datetime(2026, 2, 1, 5), "2026-02-01", {}),
    ("datetime", datetime(2026, 2, 1, 5, tzinfo=UTC), "2026-02-01T05:00:00Z", {}),
    ("datetime", datetime(2026, 2, 1, 5), "2026-02-01T05:00:00Z", {}),
    ("datetime", datetime(2026, 2, 1, 13, tzinfo=timezone(timedelta(hours=8))),
     "2026-02-01T05:00:00Z", {}),
    ("boolean", 1, True, {}),
    ("boolean", None, None, {}),
    ("multi_select", None, [], {"options": OPTIONS}),
    ("attachment", None, [], {}),
    ("text", "x", "x", {}),
    ("formula", 1.0, 1, {"result_type": "number", "expression": {"var": "a"}}),
])
def test_to_json(type_: str, value: Any, expected: Any, props: dict[str, Any]) -> None:
    result = to_json(type_, value, **props)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("type_", field_type_registry.types())
def test_parse_then_to_json_is_json(type_: str) -> None:
    samples = {"text": "a", "long_text": "a", "email": "a@b.cn", "phone": "13800000000",
               "url": "http://a.cn", "number": 1, "money": 1, "percent": 1,
               "date": "2026-01-01", "datetime": "2026-01-01T00:00:00Z", "boolean": True,
               "select": "east", "multi_select": ["east"], "user": 1, "relation": 1,
               "subtable": [{"a": 1}], "attachment": ["f"], "image": ["f"],
               "autonumber": "A-1", "formula": 1, "rollup": 1}
    props = {"options": OPTIONS, "expression": {"var": "a"}, "result_type": "number"}
    if type_ not in samples:
        pytest.skip(f"no sample for {type_}")
    ftype = field_type_registry.get(type_)
    value = ftype.to_json(ftype.parse(samples[type_], spec(type_, **props)),
                          spec(type_, **props))
    assert json.loads(json.dumps(value)) == value
    assert ftype.parse(value, spec(type_, **props)) is not None or type_ == "subtable"


@pytest.mark.parametrize(("from_type", "to_type", "stored", "expected", "props"), [
    ("text", "number", "12", 12, {}),
    ("number", "text", 12, "12", {}),
    ("number", "text", 12.0, "12", {}),
    ("text", "date", "2026-03-01", date(2026, 3, 1), {}),
    ("date", "text", date(2026, 3, 1), "2026-03-01", {}),
    ("datetime", "date", datetime(2026, 3, 1, 8, tzinfo=UTC), date(2026, 3, 1), {}),
    ("select", "text", "east", "east", {}),
    ("text", "select", "华东", "east", {"options": OPTIONS}),
    ("multi_select", "text", ["east", "west"], "east,west", {}),
    ("select", "multi_select", "west", ["west"], {"options": OPTIONS}),
    ("boolean", "text", True, "true", {}),
    ("text", "boolean", "是", True, {}),
    ("number", "money", 5, 5.0, {}),
    ("attachment", "image", ["f1"], ["f1"], {}),
    ("text", "email", None, None, {}),
])
def test_convert(from_type: str, to_type: str, stored: Any, expected: Any,
                 props: dict[str, Any]) -> None:
    source = spec(from_type, options=OPTIONS) if "select" in from_type else spec(from_type)
    result = field_type_registry.get(to_type).convert(stored, source, spec(to_type, **props))
    assert result == expected


@pytest.mark.parametrize(("from_type", "to_type", "stored", "key"), [
    ("text", "number", "twelve", "field.error.not_number"),
    ("text", "date", "soon", "field.error.not_date"),
    ("text", "select", "north", "field.error.not_an_option"),
    ("text", "attachment", "file", "field.error.not_a_file"),
    ("text", "email", "nobody", "field.error.email"),
])
def test_convert_errors(from_type: str, to_type: str, stored: Any, key: str) -> None:
    with pytest.raises(FieldValueError) as caught:
        field_type_registry.get(to_type).convert(stored, spec(from_type),
                                                 spec(to_type, options=OPTIONS))
    assert caught.value.key == key


def test_kinds_and_flags() -> None:
    assert kind_of(spec("formula", result_type="date", expression={})) == "date"
    assert kind_of(spec("money")) == "number"
    assert kind_of(spec("relation", entity="x")) == "id"
    assert field_type_registry.get("subtable").has_column is False
    assert field_type_registry.get("formula").computed is True
    assert field_type_registry.get("select").indexed is True


@pytest.mark.parametrize(("props", "path", "code"), [
    ({"type": "number", "precision": 9}, "precision", "precision"),
    ({"type": "money", "currency": "XYZ"}, "currency", "currency"),
    ({"type": "select"}, "options", "options_required"),
    ({"type": "multi_select", "options": []}, "options", "options_required"),
    ({"type": "autonumber", "template": "KH-{YYYY}"}, "template", "autonumber_template"),
    ({"type": "autonumber", "template": "KH-{seq:5}-{HH}"}, "template", "autonumber_template"),
    ({"type": "formula", "expression": {"var": "name"}, "result_type": "list"}, "result_type",
     "result_type"),
    ({"type": "formula"}, "expression", "expression_required"),
])
def test_type_lint_through_the_linker(props: dict[str, Any], path: str, code: str) -> None:
    app = minimal_app(entity("item", "条目", fields=[
        field("name", "text", "名称"), {"key": "other", "title": {"zh-CN": "其他"}, **props}]))
    _, problems = check_definition(app)
    assert [(p.path, p.code) for p in problems] == [(f"entities[0].fields[1].{path}", code)]


@pytest.fixture
def registry() -> Iterator[Any]:
    """The field-type registry, restored to its entries after the test."""
    saved = dict(field_type_registry._entries)
    yield field_type_registry
    field_type_registry._entries.clear()
    field_type_registry._entries.update(saved)


def test_adding_a_type_is_one_class(registry: Any) -> None:
    @registry.register
    class RatingType(FieldType):
        """Stars from 1 to ``stars``."""

        type = "rating"
        kind = "number"
        properties = ("stars",)

        def parse(self, value: Any, field: Any) -> Any:
            if value is None:
                return None
            if not isinstance(value, int) or not 1 <= value <= field.get("stars", 5):
                raise FieldValueError("field.error.not_number")
            return value

    app = minimal_app(entity("item", "条目", fields=[
        field("name", "text", "名称"), field("score", "rating", "评分", stars=10)]))
    result = validate_definition(app)
    assert result["entities"][0]["fields"][1]["stars"] == 10
    assert registry.get("rating").parse(7, {"stars": 10}) == 7
    app["entities"][0]["fields"][1]["colour"] = "gold"
    _, problems = check_definition(app)
    assert [(p.path, p.code) for p in problems] == [
        ("entities[0].fields[1].colour", "unknown_property")]
    with pytest.raises(AlreadyRegistered):
        registry.register(RatingType)


def test_registry_fixture_restored() -> None:
    assert "rating" not in field_type_registry
    with pytest.raises(UnknownType):
        field_type_registry.get("rating")


def test_every_field_error_has_messages_in_both_languages() -> None:
    source = Path(__file__).resolve().parents[2] / "builder" / "schema" / "field_types"
    text = "\n".join(p.read_text(encoding="utf-8") for p in source.glob("*.py"))
    used = set(re.findall(r"\"(field\.error\.[a-z_]+)\"", text))
    assert used
    for language in ("zh-CN", "en"):
        assert used <= set(catalogue(language)), language


def test_schema_catalogues_have_the_same_keys() -> None:
    root = Path(__file__).resolve().parents[2] / "builder" / "i18n"
    for name in ("schema.json", "field.json"):
        zh = json.loads((root / "zh-CN" / name).read_text(encoding="utf-8"))
        en = json.loads((root / "en" / name).read_text(encoding="utf-8"))
        assert set(zh) == set(en)
        assert all(value.strip() for value in [*zh.values(), *en.values()])


def test_schema_messages_used_in_code_exist() -> None:
    root = Path(__file__).resolve().parents[2] / "builder" / "schema"
    text = "\n".join(p.read_text(encoding="utf-8") for p in root.rglob("*.py"))
    used = set(re.findall(r"schema\.error\.([a-z_]+)", text))
    used |= set(re.findall(r"invalid\(\"([a-z_]+)\"", text))
    used |= set(re.findall(r"(?:add|problem)\([^,()]+, \"([a-z_]+)\"", text))
    known = {k.removeprefix("schema.error.") for k in catalogue("en")}
    assert used <= known, used - known
