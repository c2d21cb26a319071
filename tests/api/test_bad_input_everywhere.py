"""No route answers bad input with a server error: every path and method of the OpenAPI
document is called with malformed ids, bodies and query strings."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from tests.runtime.records.helpers import create, publish

BODIES: list[Any] = [
    None, "", "null", "[]", "{}", '{"data": null}', '{"data": []}', '{"data": {"name": 5}}',
    '{"definition": "x"}', '{"version": "abc", "data": {}}', '{"rows": [1, 2]}',
    '{"tenant": [], "username": {}, "password": 1}', "{not json", '"just a string"',
    json.dumps({"a": [[[[[[[[[[{"b": 1}]]]]]]]]]]}), json.dumps({"data": {"name": "x" * 20000}}),
    '{"entity": "../../etc/passwd", "field": "\' OR 1=1 --"}',
    '{"data": {"account_manager": 99999999999999999999, "founded_on": "2026-13-45"}}',
    '{"version": 99999999999999999999, "data": {"employees": 1e400}}',
]
QUERIES: list[dict[str, str]] = [
    {}, {"filter": "{"}, {"filter": '{"nope": [1]}'}, {"filter": '{"==": [{"var": "x;drop"}, 1]}'},
    {"sort": "-nope,,"}, {"limit": "abc"}, {"limit": "-1"}, {"cursor": "!!notbase64"},
    {"fields": "id,'"}, {"count": "maybe"}, {"q": "%_\\"}, {"deleted": "sometimes"},
    {"filter": '{"==": [{"var": "id"}, 99999999999999999999]}'},
    {"filter": '{">": [{"var": "employees"}, 1e308]}', "sort": "employees"},
]
PARAM_VALUES = ["0", "-1", "99999999999999999999", "abc", "%27%20OR%201%3D1", "..%2F..%2Fx"]


def _paths(client: Any) -> list[tuple[str, str]]:
    spec = client.get("/api/openapi.json").get_json()
    return [(path, method) for path, item in spec["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


def test_no_route_answers_bad_input_with_a_server_error(client: Any, admin_headers: Any) -> None:
    publish(client, admin_headers)
    customer = create(client, admin_headers, "customer", {"name": "探针客户"})
    valid = {"app_key": "crm", "entity_key": "customer", "record_id": str(customer["id"]),
             "number": "1", "user_id": "1", "team_id": "1"}
    statuses: dict[int, int] = {}
    calls = 0
    failures: list[str] = []
    for path, method in _paths(client):
        if path in ("/api/auth/logout", "/api/auth/tokens/{token_id}"):
            continue  # they would end the session that makes the other calls
        names = re.findall(r"{(\w+)}", path)
        candidates = [[valid.get(name, "1"), *PARAM_VALUES] for name in names]
        for values in itertools.islice(itertools.product(*candidates), 12):
            url = path
            for name, value in zip(names, values, strict=True):
                url = url.replace("{" + name + "}", value)
            for body, query in zip(BODIES, itertools.cycle(QUERIES), strict=False):
                headers = dict(admin_headers)
                kwargs: dict[str, Any] = {"headers": headers, "query_string": query}
                if body is not None and method != "get":
                    kwargs["data"] = body
                    headers["Content-Type"] = "application/json"
                response = client.open(url, method=method.upper(), **kwargs)
                calls += 1
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code >= 500:
                    failures.append(f"{method.upper()} {url} {query} {body!r:.60}: "
                                    f"{response.status_code}")
                elif response.status_code >= 400:
                    assert "error" in response.get_json(), (method, url)
    assert calls > 500
    assert statuses.get(401, 0) == 0, statuses  # every call went past authentication
    assert statuses.get(200, 0) + statuses.get(201, 0) > 20, statuses
    assert not failures, "\n".join(failures[:20])
