"""Thin HTTP blueprints over the runtime services."""

from __future__ import annotations

from flask import Flask

from builder.extensions import api
from builder.runtime.api import converters, errors


def init_errors(app: Flask) -> None:
    """Error shapes and URL converters: needed before any blueprint is registered."""
    errors.init_app(app)
    converters.init_app(app)


def init_app(app: Flask) -> None:
    from builder.runtime.api.approvals import blp as approvals_blp
    from builder.runtime.api.apps import blp as apps_blp
    from builder.runtime.api.docs import blp as docs_blp
    from builder.runtime.api.documents import blp as documents_blp
    from builder.runtime.api.files import blp as files_blp
    from builder.runtime.api.insight import blp as insight_blp
    from builder.runtime.api.records import blp as records_blp
    from builder.runtime.api.stages import blp as stages_blp

    api.register_blueprint(apps_blp)
    api.register_blueprint(records_blp)
    api.register_blueprint(files_blp)
    api.register_blueprint(documents_blp)
    api.register_blueprint(approvals_blp)
    api.register_blueprint(stages_blp)
    api.register_blueprint(insight_blp)
    app.register_blueprint(docs_blp)
