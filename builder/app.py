"""The application factory: read the config, wire each part with ``init_app``, nothing else."""

from __future__ import annotations

from flask import Flask

from builder import database, platform, webapp
from builder.config import Config
from builder.extensions import api, db
from builder.runtime import api as runtime_api
from builder.runtime import automation, effects, jobs, reports
from builder.runtime.automation import assignment
from builder.runtime.records import rollups, stamps
from builder.runtime.workflow import approvals_hooks, stage_engine


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__, instance_path=str(config.instance_dir), static_folder=None)
    app.config.update(config.flask_settings())
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    db.init_app(app)
    database.init_app(app)
    api.init_app(app)
    runtime_api.init_errors(app)
    platform.init_app(app)
    runtime_api.init_app(app)
    jobs.init_app(app)
    approvals_hooks.init_app(app)
    stage_engine.init_app(app)
    rollups.init_app(app)
    stamps.init_app(app)
    effects.init_app(app)
    webapp.init_app(app)
    assignment.init_app(app)
    automation.init_app(app)
    reports.init_app(app)
    return app
