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
    from builder.runtime.api.assignment import blp as assignment_blp
    from builder.runtime.api.automations import blp as automations_blp
    from builder.runtime.api.docs import blp as docs_blp
    from builder.runtime.api.documents import blp as documents_blp
    from builder.runtime.api.field_types import blp as field_types_blp
    from builder.runtime.api.files import blp as files_blp
    from builder.runtime.api.insight import blp as insight_blp
    from builder.runtime.api.intake import admin_blp as intake_admin_blp
    from builder.runtime.api.intake import hooks_blp, public_blp
    from builder.runtime.api.jobs import blp as jobs_blp
    from builder.runtime.api.market import blp as market_blp
    from builder.runtime.api.market import transfer_blp as market_transfer_blp
    from builder.runtime.api.mywork import blp as mywork_blp
    from builder.runtime.api.notifications import admin_blp as deliveries_blp
    from builder.runtime.api.notifications import inbox_blp as notifications_blp
    from builder.runtime.api.records import blp as records_blp
    from builder.runtime.api.reports import blp as reports_blp
    from builder.runtime.api.stages import blp as stages_blp

    api.register_blueprint(apps_blp)
    api.register_blueprint(records_blp)
    api.register_blueprint(files_blp)
    api.register_blueprint(jobs_blp)
    api.register_blueprint(documents_blp)
    api.register_blueprint(insight_blp)
    api.register_blueprint(approvals_blp)
    api.register_blueprint(stages_blp)
    api.register_blueprint(notifications_blp)
    api.register_blueprint(deliveries_blp)
    api.register_blueprint(public_blp)
    api.register_blueprint(hooks_blp)
    api.register_blueprint(intake_admin_blp)
    api.register_blueprint(field_types_blp)
    api.register_blueprint(assignment_blp)
    api.register_blueprint(automations_blp)
    api.register_blueprint(mywork_blp)
    api.register_blueprint(market_blp)
    api.register_blueprint(market_transfer_blp)
    api.register_blueprint(reports_blp)
    app.register_blueprint(docs_blp)
