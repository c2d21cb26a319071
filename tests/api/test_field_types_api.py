"""The designer's palette reads the field-type registry over HTTP."""

from __future__ import annotations

from typing import Any

from builder.registry import Registrable
from builder.schema.field_types import field_type_registry
from builder.schema.field_types.base import FieldType


def test_every_registered_type_is_listed_with_titles_and_properties(
        client: Any, admin_headers: dict[str, str]) -> None:
    response = client.get("/api/field-types", headers=admin_headers)
    assert response.status_code == 200
    body = response.get_json()
    listed = {item["type"]: item for item in body["items"]}
    assert set(listed) == set(field_type_registry.types())
    assert listed["select"]["title"] == {"zh-CN": "单选", "en": listed["select"]["title"]["en"]}
    assert listed["select"]["properties"] == ["options"]
    assert listed["money"]["properties"] == ["precision", "currency"]
    assert listed["money"]["kind"] == "number"
    assert listed["autonumber"]["computed"] is True
    assert listed["subtable"]["has_column"] is False
    assert all(item["title"]["en"] and item["title"]["zh-CN"] for item in body["items"])
    assert {"required", "visible_when", "help", "default"} <= set(body["common_properties"])


def test_a_newly_registered_type_appears(client: Any, admin_headers: dict[str, str]) -> None:
    class RatingType(FieldType):
        type = "rating_probe"
        kind = "number"
        properties = ("precision",)

    field_type_registry.register(RatingType)
    try:
        listed = client.get("/api/field-types", headers=admin_headers).get_json()["items"]
        probe = next(item for item in listed if item["type"] == "rating_probe")
        assert probe["kind"] == "number" and probe["title"]["en"] == "field.type.rating_probe"
    finally:
        field_type_registry.unregister("rating_probe")
    assert isinstance(field_type_registry.get("text"), Registrable)


def test_field_types_need_a_login(client: Any) -> None:
    assert client.get("/api/field-types").status_code == 401
