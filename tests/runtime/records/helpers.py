"""Shared steps of the records tests: publish the CRM app, upload files, create records."""

from __future__ import annotations

import io
from typing import Any

from tests.definitions import full_app

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def publish(client: Any, headers: dict[str, str], definition: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    """Import, plan and publish a definition over HTTP, as a designer would."""
    definition = definition or full_app()
    response = client.post("/api/apps", json={"definition": definition}, headers=headers)
    assert response.status_code == 201, response.get_json()
    response = client.post(f"/api/apps/{definition['key']}/plan", headers=headers)
    assert response.status_code == 200, response.get_json()
    response = client.post(f"/api/apps/{definition['key']}/publish", headers=headers)
    assert response.status_code == 200, response.get_json()
    return definition


def records_url(entity: str, app: str = "crm") -> str:
    return f"/api/apps/{app}/{entity}/records"


def create(client: Any, headers: dict[str, str], entity: str, data: dict[str, Any],
           app: str = "crm") -> dict[str, Any]:
    response = client.post(records_url(entity, app), json={"data": data}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def patch(client: Any, headers: dict[str, str], entity: str, record: dict[str, Any],
          data: dict[str, Any], app: str = "crm") -> Any:
    return client.patch(f"{records_url(entity, app)}/{record['id']}",
                        json={"version": record["version"], "data": data}, headers=headers)


def upload(client: Any, headers: dict[str, str], content: bytes, name: str,
           content_type: str = "application/octet-stream", **query: Any) -> Any:
    return client.post("/api/files", query_string=query, headers=headers,
                       data={"file": (io.BytesIO(content), name, content_type)},
                       content_type="multipart/form-data")


def problems(response: Any) -> dict[str, str]:
    """path → code of every problem in an error response."""
    return {d["path"]: d["code"] for d in response.get_json()["error"]["details"]}


def customer_data(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, **extra}


def make_chain(client: Any, headers: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A customer and an opportunity of it."""
    customer = create(client, headers, "customer", customer_data("华东制造"))
    opportunity = create(client, headers, "opportunity",
                         {"name": "一期项目", "customer": customer["id"], "amount": 1000})
    return customer, opportunity
