"""Settings, read from the environment; nothing configured means the embedded default."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _instance_dir() -> Path:
    return Path(os.environ.get("BUILDER_INSTANCE", Path.cwd() / "instance")).resolve()


def _secret_key(instance: Path) -> str:
    """A stable secret: from the environment, else one generated once into the instance folder."""
    env = os.environ.get("SECRET_KEY")
    if env:
        return env
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def normalize_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _cookie_secure(value: str) -> bool | str:
    value = value.strip().lower()
    return "auto" if value in {"", "auto"} else value in {"1", "true", "yes", "on"}


@dataclass
class Config:
    database_url: str
    redis_url: str | None
    secret_key: str
    instance_dir: Path
    files_dir: Path
    redis_prefix: str = "builder"
    market_dir: Path = Path(__file__).resolve().parent.parent / "templates_market"
    #: the built web app (``make frontend``); served at ``/`` by ``builder.webapp``
    frontend_dir: Path = Path(__file__).resolve().parent.parent / "frontend" / "dist"
    testing: bool = False
    #: the session cookie's Secure flag: ``"auto"`` (when the request came over https), True, False
    cookie_secure: bool | str = "auto"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, **overrides: Any) -> Config:
        instance = Path(overrides.pop("instance_dir", None) or _instance_dir())
        db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'builder.db'}"
        files = os.environ.get("FILES_DIR") or str(instance / "files")
        values: dict[str, Any] = {
            "database_url": normalize_database_url(db_url),
            "redis_url": os.environ.get("REDIS_URL") or None,
            "secret_key": overrides.pop("secret_key", None) or _secret_key(instance),
            "instance_dir": instance,
            "files_dir": Path(files),
            "redis_prefix": os.environ.get("REDIS_PREFIX", "builder"),
            "cookie_secure": _cookie_secure(os.environ.get("SESSION_COOKIE_SECURE", "auto")),
        }
        if os.environ.get("FRONTEND_DIST"):
            values["frontend_dir"] = Path(os.environ["FRONTEND_DIST"])
        values.update(overrides)
        if "database_url" in overrides:
            values["database_url"] = normalize_database_url(values["database_url"])
        return cls(**values)

    def flask_settings(self) -> dict[str, Any]:
        engine_options: dict[str, Any] = {"pool_pre_ping": True}
        if self.is_sqlite:
            engine_options = {"connect_args": {"timeout": 30, "check_same_thread": False}}
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "SQLALCHEMY_TRACK_MODIFICATIONS": False,
            "TESTING": self.testing,
            "JSON_AS_ASCII": False,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.cookie_secure,
            "API_TITLE": "Builder API",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.0.3",
            "OPENAPI_URL_PREFIX": "/api",
            "OPENAPI_JSON_PATH": "openapi.json",
            "OPENAPI_SWAGGER_UI_PATH": "/docs",
            "OPENAPI_SWAGGER_UI_URL": None,
            "OPENAPI_REDOC_PATH": "/redoc",
            "OPENAPI_REDOC_URL": None,
            "BUILDER": self,
            # Anything else, e.g. ``extra={"jobs_sync": True}`` becomes ``JOBS_SYNC``.
            **{key.upper(): value for key, value in self.extra.items()},
        }
