"""Roles in the definition: actions, scope presets, ``*`` permissions, scopes that must
translate to SQL."""

from __future__ import annotations

from typing import Any

import pytest

from builder.schema import check_definition, validate_definition
from tests.definitions import full_app


def codes(data: Any) -> dict[str, str]:
    _, problems = check_definition(data)
    return {p.path: p.code for p in problems}


def with_permission(**permission: Any) -> dict[str, Any]:
    app = full_app()
    app["roles"].append({"key": "rep", "title": {"zh-CN": "销售"},
                         "permissions": [{"entity": "opportunity", **permission}]})
    return app


@pytest.mark.parametrize("scope", ["own", "team", "managed", "all", True, False,
                                   {"==": [{"var": "sales_rep"}, {"var": "$user.id"}]},
                                   {"in": [{"var": "owner"}, {"var": "$user.team_member_ids"}]},
                                   {">": [{"var": "amount"}, 1000]}])
def test_valid_scopes(scope: Any) -> None:
    app = with_permission(actions=["read", "approve", "configure"], scope=scope)
    assert codes(app) == {}
    assert validate_definition(app)["roles"][2]["permissions"][0]["scope"] == scope


@pytest.mark.parametrize(("scope", "code"), [
    ("mine", "one_of"),
    (3, "scope"),
    ({"<": [{"var": "name"}, "m"]}, "scope"),       # text ordering has no SQL meaning
    ({"==": [{"var": "budget"}, 1]}, "unknown_field"),  # no such field
])
def test_invalid_scopes(scope: Any, code: str) -> None:
    found = codes(with_permission(actions=["read"], scope=scope))
    assert list(found.values()) == [code], found
    assert all(path.startswith("roles[2].permissions[0].scope") for path in found)


def test_a_permission_for_every_entity() -> None:
    app = full_app()
    app["roles"].append({"key": "auditor", "title": {"zh-CN": "审计"}, "permissions": [
        {"entity": "*", "actions": ["read", "export"], "scope": "team",
         "fields": {"hidden": ["amount", "price"]}}]})
    assert codes(app) == {}
    app["roles"][2]["permissions"][0]["scope"] = {"==": [{"var": "stage"}, "won"]}
    app["roles"][2]["permissions"][0]["fields"]["readonly"] = ["nothing_like_it"]
    assert codes(app) == {
        "roles[2].permissions[0].scope.==[0].var": "unknown_field",
        "roles[2].permissions[0].fields.readonly[0]": "unknown_field"}


def test_unknown_actions_are_refused() -> None:
    found = codes(with_permission(actions=["read", "share"]))
    assert found == {"roles[2].permissions[0].actions[1]": "one_of"}
