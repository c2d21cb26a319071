"""The platform: tenants, users, roles, teams (with managers) and API tokens, and who is calling.

``models`` holds the tables, ``service`` the business logic, ``auth`` the session and
bearer-token login plus the helpers other modules use (``require_user``,
``current_tenant_id``, ``login_required_api``), ``api`` the HTTP views.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    # Imported here: the ``builder.platform.api`` submodule would shadow a global ``api``.
    from builder.extensions import api as rest_api
    from builder.platform import auth
    from builder.platform.api import admin_blp, auth_blp

    auth.init_app(app)
    rest_api.register_blueprint(auth_blp)
    rest_api.register_blueprint(admin_blp)
    rest_api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer", "description": "POST /api/auth/login"})
