"""The sales package installed in the ``acme`` tenant, with its organisation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.templates.sales.helpers import Sales, build_org, install


@pytest.fixture
def sales(client: Any, admin_headers: dict[str, str]) -> Sales:
    org = build_org(client, admin_headers)
    install(client, admin_headers)
    return org
