"""``builder tenant backup`` and ``builder tenant restore``: a tenant with data of every kind
is backed up to one file, restored into a fresh database (its own SQLite file, or a
PostgreSQL database created for the test and dropped after), and compared table by table
and record by record; the restored tenant then works over HTTP as before."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from flask import Flask

from builder import migrate
from builder.app import create_app
from builder.cli import main
from builder.extensions import db
from builder.market import backup
from builder.platform.models import Tenant
from builder.runtime import jobs
from tests.conftest import TEST_DATABASE_URL, IsolatedClient
from tests.runtime.records.helpers import records_url
from tests.trust.figures import record
from tests.trust.tenant_data import PASSWORD, build_tenant_data


def run_cli(app: Flask, *args: str) -> Result:
    """``builder ...`` on ``app``; the test's own transaction ends first."""
    db.session.commit()
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return CliRunner().invoke(main, list(args), obj=app, env={"BUILDER_LANG": "en"})
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a new SQLite file, or a new PostgreSQL database."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url = sa.make_url(TEST_DATABASE_URL)
    name = f"builder_restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def restored_app(fresh_database: str, make_config: Any, tmp_path: Path) -> Iterator[Flask]:
    """Another installation: its own database (migrated, empty) and its own file store."""
    target = create_app(make_config(tmp_path / "restored", fresh_database,
                                    files_dir=tmp_path / "restored-files"))
    target.test_client_class = IsolatedClient
    migrate.upgrade(target)
    try:
        yield target
    finally:
        jobs.get_jobs(target).close()
        with target.app_context():
            db.session.remove()
            db.engine.dispose()


def _views(client: Any, headers: dict[str, str], ids: dict[str, int]) -> dict[str, Any]:
    """What users see of the tenant: lists, records, histories, approvals, the logo."""
    seen: dict[str, Any] = {}
    for entity in ("customer", "opportunity", "quote", "quote_line"):
        seen[entity] = client.get(records_url(entity), headers=headers).get_json()
    for entity in ("customer", "opportunity", "quote"):
        url = f"{records_url(entity)}/{ids[entity]}"
        seen[f"{entity}.record"] = client.get(url, headers=headers).get_json()
        seen[f"{entity}.history"] = client.get(f"{url}/history", headers=headers).get_json()
    quote = f"{records_url('quote')}/{ids['quote']}/approvals"
    seen["approvals"] = client.get(quote, headers=headers).get_json()
    stages = f"{records_url('opportunity')}/{ids['opportunity']}/stages"
    seen["stages"] = client.get(stages, headers=headers).get_json()
    for visit in seen["stages"]["items"]:
        if visit["current"]:
            visit.pop("dwell_seconds")  # still running: grows with the clock
    logo = seen["customer.record"]["logo"][0]
    with client.get(f"/api/files/{logo['id']}", headers=headers) as download:
        seen["logo"] = download.data
    assert seen["logo"].startswith(b"\x89PNG")
    return seen


def test_a_tenant_restored_into_a_fresh_database_is_the_same_record_by_record(
        app, client, admin, admin_headers, restored_app, tmp_path):
    data = build_tenant_data(client, admin_headers)
    tenant_id = admin.tenant_id
    seen_before = _views(client, admin_headers, data.ids)  # reading is recorded too
    before = backup.snapshot(tenant_id)

    path = tmp_path / "acme.backup"
    saved = run_cli(app, "tenant", "backup", "acme", str(path))
    assert saved.exit_code == 0, saved.output
    assert "[1/" in saved.output and "backed up" in saved.output  # progress, then the result

    restored = run_cli(restored_app, "tenant", "restore", str(path))
    assert restored.exit_code == 0, restored.output
    assert "restored" in restored.output

    with restored_app.app_context():
        after = backup.snapshot(tenant_id)
    differences = backup.compare(before, after)
    assert differences == []
    rows = sum(len(r) for r in before.values())
    for must in ("shared/users", "shared/roles", "shared/teams", "shared/team_members",
                 "shared/user_roles", "shared/apps", "shared/app_versions",
                 "shared/stage_history", "shared/approval_instances", "shared/approval_tasks",
                 "shared/approval_actions", "tenant/audit", "tenant/files", "tenant/counters"):
        assert before[must], must  # each kind of thing was really there, and compared
    assert len(before["shared/stage_history"]) >= 2 and len(before["tenant/audit"]) >= 5

    # the restored tenant works: people log in with their passwords and see the same things
    other = restored_app.test_client()
    login = other.post("/api/auth/login", json={"tenant": "acme", "username": "admin",
                                                "password": "secret-pass"})
    assert login.status_code == 200, login.get_json()
    headers = {"Authorization": f"Bearer {login.get_json()['token']}"}
    assert _views(other, headers, data.ids) == seen_before
    rep = other.post("/api/auth/login", json={"tenant": "acme", "username": "rep",
                                              "password": PASSWORD})
    assert rep.status_code == 200
    # and goes on: new records get new ids after the restored ones
    created = other.post(records_url("customer"), json={"data": {"name": "新客户"}},
                         headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["id"] > data.ids["customer"]
    record("backup_restore", records_lost=len(differences))
    print(f"backup/restore: {len(before)} tables, {rows} rows compared, "
          f"{len(differences)} differences")


def test_restore_refuses_a_taken_tenant_and_changes_nothing(app, client, admin, admin_headers,
                                                            tmp_path):
    build_tenant_data(client, admin_headers)
    path = tmp_path / "acme.backup"
    assert run_cli(app, "tenant", "backup", "acme", str(path)).exit_code == 0
    with app.app_context():
        tenants = db.session.scalar(sa.select(sa.func.count()).select_from(Tenant))

    same = run_cli(app, "tenant", "restore", str(path), "--as", "acme-copy")
    assert same.exit_code == 1
    assert "already has tenant" in same.output and "builder tenant clone" in same.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Tenant)) == tenants

    broken = tmp_path / "broken.backup"
    broken.write_bytes(b"PK not really a zip")
    bad = run_cli(app, "tenant", "restore", str(broken))
    assert bad.exit_code == 1 and "not a tenant backup" in bad.output


def test_restore_with_a_database_url_migrates_the_target_and_renames(app, client, admin,
                                                                     admin_headers,
                                                                     fresh_database, tmp_path):
    data = build_tenant_data(client, admin_headers)
    path = tmp_path / "acme.backup"
    assert run_cli(app, "tenant", "backup", "acme", str(path)).exit_code == 0

    result = run_cli(app, "tenant", "restore", str(path), "--as", "acme-dr",
                     "--database-url", fresh_database)
    assert result.exit_code == 0, result.output
    engine = sa.create_engine(fresh_database)
    try:
        with engine.connect() as conn:
            slugs = conn.execute(sa.text("SELECT slug FROM tenants")).scalars().all()
            users = conn.execute(sa.text("SELECT count(*) FROM users")).scalar_one()
    finally:
        engine.dispose()
    assert slugs == ["acme-dr"]
    assert users == 1 + len([k for k in data.ids if k in ("mgr", "rep", "fin", "gm")])
    # the source database is untouched
    db.session.expire_all()
    assert [t.slug for t in db.session.scalars(sa.select(Tenant))] == ["acme"]
