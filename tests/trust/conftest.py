"""Fixtures of the trust proofs: a tenant with the CRM starter package installed."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def crm(client: Any, admin_headers: dict[str, str]) -> dict[str, str]:
    """The tenant admin's headers, after installing ``crm_starter`` (app ``crm``) without
    its demo data."""
    response = client.post("/api/market/crm_starter/install", headers=admin_headers,
                           json={"demo_data": False})
    assert response.status_code == 200, response.get_json()
    return admin_headers
