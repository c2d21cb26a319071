"""Fixtures for every test: an isolated app, a client, small factories and logins.

- ``app``: a fresh app per test, with its application context pushed for the whole
  test, so tests and factories use ``db.session`` and the services directly.
  Embedded default: a SQLite file of its own (copied from a template migrated once per
  session). With ``TEST_DATABASE_URL`` (PostgreSQL): one database per test session,
  emptied after each test (tenant schemas dropped, platform tables truncated). With
  ``REDIS_URL``: jobs go through RQ under a ``REDIS_PREFIX`` of this session, whose keys
  are deleted at the end; otherwise jobs run synchronously in-process (``JOBS_SYNC``).
- ``client``: ``app.test_client()``. Each request runs in its own application context
  and session, as in production. Before a request the test's session is committed (the
  request sees what the test created, and SQLite's write lock is free); after it, the
  test's objects are expired so they reload what the request changed. Do not use
  ``with client:`` (contexts are not preserved across the isolation).
- ``make_tenant``, ``make_user``, ``auth_headers``: factories that commit.
  ``tenant`` (slug ``acme``), ``admin`` (its tenant admin) and ``admin_headers``.
- ``make_config(instance_dir, database_url, **overrides)``: test settings for an extra app.
- ``run_jobs()``: make sure the jobs enqueued so far have run (a burst worker on Redis).
- The business clock (``builder.clock``) is back on the wall clock after every test.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import shutil
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from flask import Flask, current_app, has_app_context
from flask.testing import FlaskClient

from builder import clock, migrate
from builder.app import create_app
from builder.config import Config
from builder.extensions import db
from builder.platform import service
from builder.platform.models import Team, Tenant, User
from builder.runtime import jobs

# the tests' robots and webhooks are local servers; the SSRF proof turns the guard back on
os.environ.setdefault("NOTIFY_ALLOW_PRIVATE_URLS", "1")
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None
REDIS_URL = os.environ.get("REDIS_URL") or None
SESSION_TAG = uuid.uuid4().hex[:10]


def config_for_tests(instance_dir: Path, database_url: str, **overrides: Any) -> Config:
    """The settings of a test app; ``overrides`` as for ``Config.from_env``."""
    values: dict[str, Any] = {
        "instance_dir": instance_dir,
        "database_url": database_url,
        "files_dir": instance_dir / "files",
        "secret_key": "test",
        "testing": True,
        "redis_url": REDIS_URL,
        "redis_prefix": f"builder_test_{SESSION_TAG}",
        "extra": {"jobs_sync": True},
    }
    values.update(overrides)
    return Config.from_env(**values)


def _close(app: Flask) -> None:
    jobs.get_jobs(app).close()
    with app.app_context():
        db.engine.dispose()


class TestDatabase:
    """Where each test's data lives; ``reset`` empties it after a test."""

    def url_for(self, tmp_path: Path) -> str:
        raise NotImplementedError

    def reset(self, app: Flask) -> None:
        pass

    def close(self) -> None:
        pass


class SqliteDatabases(TestDatabase):
    """A migrated template file, copied for each test."""

    def __init__(self, folder: Path) -> None:
        self.template = folder / "template.db"
        app = create_app(config_for_tests(folder, f"sqlite:///{self.template}"))
        try:
            migrate.upgrade(app)
        finally:
            _close(app)  # closing the last connection folds the WAL into the file

    def url_for(self, tmp_path: Path) -> str:
        target = tmp_path / "builder.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"


class PostgresDatabase(TestDatabase):
    """One database for the session, migrated once and emptied after each test."""

    def __init__(self, server_url: str, folder: Path) -> None:
        url = sa.make_url(Config.from_env(database_url=server_url, secret_key="x",
                                          instance_dir=folder).database_url)
        self.name = f"builder_test_{SESSION_TAG}"
        self.admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = url.set(database=self.name).render_as_string(hide_password=False)
        app = create_app(config_for_tests(folder, self.url))
        try:
            migrate.upgrade(app)
        finally:
            _close(app)

    def url_for(self, tmp_path: Path) -> str:
        return self.url

    def reset(self, app: Flask) -> None:
        with app.app_context(), db.engine.begin() as conn:
            schemas = conn.execute(sa.text(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'")).scalars()
            for schema in list(schemas):
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables
                               if table.schema is None)
            if tables:
                conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))

    def close(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def _test_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabase]:
    folder = tmp_path_factory.mktemp("database")
    database: TestDatabase = (PostgresDatabase(TEST_DATABASE_URL, folder) if TEST_DATABASE_URL
                              else SqliteDatabases(folder))
    yield database
    database.close()


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> None:
    service.set_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture(autouse=True)
def _wall_clock() -> Iterator[None]:
    """A test that moves the business clock (``builder.clock``) does not leak it."""
    yield
    clock.reset()


@pytest.fixture(scope="session", autouse=True)
def _redis_cleanup() -> Iterator[None]:
    yield
    if REDIS_URL is None:
        return
    from redis import Redis

    prefix = f"builder_test_{SESSION_TAG}"
    with Redis.from_url(REDIS_URL) as redis:
        for key in redis.scan_iter(match=f"*{prefix}*", count=500):
            redis.delete(key)
        for registry in ("rq:queues", "rq:workers"):
            stale = [m for m in redis.smembers(registry) if prefix.encode() in m]
            if stale:
                redis.srem(registry, *stale)


class IsolatedClient(FlaskClient):
    """Runs each request in its own application context (see the module docstring)."""

    def _is_test_context(self) -> bool:
        return has_app_context() and current_app == self.application

    def open(self, *args: Any, **kwargs: Any) -> Any:
        in_test = self._is_test_context()
        if in_test:
            db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if in_test:
            db.session.expire_all()
        return response


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Settings of the ``app`` fixture that a folder of tests changes (see tests/browser)."""
    return {}


@pytest.fixture
def app(_test_database: TestDatabase, tmp_path: Path,
        app_overrides: dict[str, Any]) -> Iterator[Flask]:
    instance = tmp_path / "instance"
    app = create_app(config_for_tests(instance, _test_database.url_for(tmp_path),
                                      **app_overrides))
    app.test_client_class = IsolatedClient
    context = app.app_context()
    context.push()
    try:
        yield app
    finally:
        db.session.rollback()
        context.pop()
        jobs.get_jobs(app).close()
        _test_database.reset(app)
        _close(app)


@pytest.fixture
def make_config() -> Callable[..., Config]:
    """``make_config(instance_dir, database_url, **overrides)``: settings for an extra app."""
    return config_for_tests


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_tenant(app: Flask) -> Callable[..., Tenant]:
    counter = itertools.count(1)

    def make(slug: str | None = None, name: str | None = None) -> Tenant:
        tenant = service.create_tenant(slug or f"org{next(counter)}", name)
        db.session.commit()
        return tenant

    return make


@pytest.fixture
def make_user(app: Flask) -> Callable[..., User]:
    counter = itertools.count(1)

    def make(tenant: Tenant, username: str | None = None, password: str = "secret-pass",
             roles: tuple[str, ...] | list[str] = (), is_tenant_admin: bool = False,
             team: Team | str | None = None) -> User:
        """A user of ``tenant``; missing roles (by key) and a team given by key are created."""
        for key in roles:
            if service.get_role(tenant.id, key) is None:
                service.create_role(tenant, key)
        user = service.create_user(tenant, username or f"user{next(counter)}", password,
                                   roles=roles, is_tenant_admin=is_tenant_admin)
        if isinstance(team, str):
            key = team
            team = db.session.scalar(sa.select(Team).where(Team.tenant_id == tenant.id,
                                                           Team.key == key))
            team = team or service.create_team(tenant, key)
        if team is not None:
            team.members.append(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def auth_headers(app: Flask) -> Callable[[User], dict[str, str]]:
    issued: dict[int, str] = {}

    def headers(user: User) -> dict[str, str]:
        if user.id not in issued:
            _token, issued[user.id] = service.issue_token(user, "test")
            db.session.commit()
        return {"Authorization": f"Bearer {issued[user.id]}"}

    return headers


@pytest.fixture
def tenant(make_tenant: Callable[..., Tenant]) -> Tenant:
    return make_tenant("acme", "Acme")


@pytest.fixture
def admin(make_user: Callable[..., User], tenant: Tenant) -> User:
    return make_user(tenant, "admin", is_tenant_admin=True)


@pytest.fixture
def admin_headers(auth_headers: Callable[[User], dict[str, str]], admin: User) -> dict[str, str]:
    return auth_headers(admin)


@pytest.fixture
def run_jobs(app: Flask) -> Callable[[], None]:
    """Make sure the jobs enqueued so far have run: a burst worker on Redis, else wait."""

    def run() -> None:
        db.session.commit()  # jobs enqueued in the test's transaction leave on commit
        runner = jobs.get_jobs(app)
        if runner.uses_redis:
            handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                jobs.run_worker(app, burst=True, fork=False)
            finally:
                for sig, handler in handlers.items():
                    signal.signal(sig, handler)
        else:
            runner.wait()

    return run
