"""Fixtures of the market tests: a market folder holding the ``sales_kit`` package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.market.packages import sales_app, write_package


@pytest.fixture
def market(app: Any, tmp_path: Path) -> Path:
    """The app's market folder, with ``sales_kit`` 1.0.0 in it."""
    folder = tmp_path / "market"
    write_package(folder / "sales_kit", sales_app())
    app.config["BUILDER"].market_dir = folder
    return folder


@pytest.fixture
def rep(make_user: Any, tenant: Any) -> Any:
    return make_user(tenant, "rep")
