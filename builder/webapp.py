"""The web app in the browser: the built frontend (``frontend/dist``) served by Flask.

Files of the build are served as they are (hashed assets cached for a year); every other
path that is not under ``/api`` answers ``index.html`` so that the browser's router shows
the page (``/designer/crm``, ``/apps/crm/customer/12``). API paths never fall back: an
unknown ``/api/...`` stays the API's JSON 404.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, send_from_directory
from werkzeug.routing import PathConverter
from werkzeug.security import safe_join

from builder.i18n import gettext

bp = Blueprint("webapp", __name__)
ASSET_MAX_AGE = 365 * 24 * 3600


class PagePathConverter(PathConverter):
    """Any path except ``api`` and what lies under it."""

    regex = r"(?!api(?:/|$))[^/].*?"


def _dist() -> Path:
    return Path(current_app.config["BUILDER"].frontend_dir)


def _not_built() -> Response:
    title, body = escape(gettext("web.not_built.title")), escape(gettext("web.not_built.body"))
    html = (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p>{body}</p></body></html>")
    return Response(html, status=503, mimetype="text/html")


def _index() -> Response:
    dist = _dist()
    if not (dist / "index.html").is_file():
        return _not_built()
    response = send_from_directory(dist, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/", methods=["GET"])
def index() -> Response:
    return _index()


@bp.route("/<page:path>", methods=["GET"])
def page(path: str) -> Response:
    """A file of the build, or the app's page for any other path."""
    dist = _dist()
    target = safe_join(str(dist), path)
    if target is not None and Path(target).is_file():
        hashed = path.startswith("assets/")
        return send_from_directory(dist, path, max_age=ASSET_MAX_AGE if hashed else 0)
    if path.startswith("assets/"):
        abort(404)  # a stale page asking for an old build's file: no HTML in its place
    return _index()


def init_app(app: Flask) -> None:
    app.url_map.converters["page"] = PagePathConverter
    app.register_blueprint(bp)
