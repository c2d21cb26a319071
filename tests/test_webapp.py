"""The built web app is served by Flask: files as they are, other pages fall back to
``index.html``, API paths never do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from builder.app import create_app
from builder.extensions import db


class Fetched:
    """A response read in full and closed (served files are streamed from open files)."""

    def __init__(self, client: Any, path: str, method: str = "GET", **kwargs: Any) -> None:
        response = client.open(path, method=method, **kwargs)
        try:
            self.status = response.status_code
            self.headers = response.headers
            self.text = response.get_data(as_text=True)
            self.json = response.get_json(silent=True)
        finally:
            response.close()


@pytest.fixture
def web(app: Flask, make_config: Callable[..., Any], tmp_path: Path) -> Iterator[Any]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=app>搭建</div>", encoding="utf-8")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    (dist / "favicon.svg").write_text("<svg/>")
    config = make_config(tmp_path / "web", app.config["SQLALCHEMY_DATABASE_URI"],
                         frontend_dir=dist)
    web_app = create_app(config)
    yield web_app.test_client()
    with web_app.app_context():
        db.engine.dispose()


def test_pages_fall_back_to_the_index(web: Any) -> None:
    for path in ("/", "/login", "/designer/crm", "/apps/crm/customer/12"):
        response = Fetched(web, path)
        assert response.status == 200, path
        assert "搭建" in response.text
        assert response.headers["Cache-Control"] == "no-cache"


def test_built_files_are_served_with_caching_for_hashed_assets(web: Any) -> None:
    asset = Fetched(web, "/assets/index-abc123.js")
    assert asset.status == 200 and asset.text == "console.log(1)"
    assert "max-age=31536000" in asset.headers["Cache-Control"]
    icon = Fetched(web, "/favicon.svg")
    assert icon.status == 200 and icon.text == "<svg/>"
    assert Fetched(web, "/assets/index-old999.js").status == 404
    outside = Fetched(web, "/%2e%2e/web/secret_key")  # never a file outside the build
    assert outside.status == 200 and "搭建" in outside.text


def test_api_paths_never_fall_back(web: Any) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = Fetched(web, "/api/no/such/route", method=method)
        assert response.status == 404, method
        assert response.json["error"]["code"] == "not_found"
    assert Fetched(web, "/api").status == 404
    assert Fetched(web, "/api/openapi.json").json["openapi"].startswith("3.")


def test_unbuilt_web_app_explains_how_to_build_it(app: Flask, make_config: Callable[..., Any],
                                                  tmp_path: Path) -> None:
    config = make_config(tmp_path / "web", app.config["SQLALCHEMY_DATABASE_URI"],
                         frontend_dir=tmp_path / "missing")
    web_app = create_app(config)
    try:
        response = Fetched(web_app.test_client(), "/designer", headers={"Accept-Language": "en"})
        assert response.status == 503
        assert "make frontend" in response.text
    finally:
        with web_app.app_context():
            db.engine.dispose()
