"""The sales package installs into a fresh tenant."""

from __future__ import annotations

from tests.templates.sales.helpers import Sales


def test_the_package_publishes(sales: Sales) -> None:
    app = sales.client.get("/api/apps/sales/export", headers=sales.admin)
    assert app.status_code == 200
