"""The WSGI entry point for production servers: ``gunicorn builder.wsgi:app``."""

from __future__ import annotations

from builder.app import create_app

app = create_app()
