"""The ``builder`` command, driven through click's runner."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from builder.app import create_app
from builder.cli import main
from builder.extensions import db
from builder.platform import service
from builder.runtime import jobs
from builder.runtime.storage import tenancy


@pytest.fixture
def cli(app, monkeypatch):
    """Run ``builder ...`` against the test app, in English."""
    monkeypatch.setenv("BUILDER_LANG", "en")

    def invoke(*args: str, input: str | None = None) -> Result:
        db.session.commit()  # the command works in its own session
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            result = CliRunner().invoke(main, list(args), obj=app, input=input)
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        db.session.expire_all()
        return result

    return invoke


def test_init_on_a_fresh_instance_migrates_and_creates_the_admin(tmp_path: Path, monkeypatch,
                                                                 make_config):
    monkeypatch.setenv("BUILDER_LANG", "en")
    instance = tmp_path / "fresh"
    app = create_app(make_config(instance, f"sqlite:///{tmp_path / 'fresh.db'}"))
    try:
        first = CliRunner().invoke(main, ["init", "--tenant", "acme"], obj=app)
        assert first.exit_code == 0, first.output
        assert "tenant acme  username admin  password " in first.output
        password = first.output.rsplit("password ", 1)[1].split()[0]
        assert json.loads((instance / "initial-credentials.json").read_text()) == {
            "acme/admin": password}
        assert (instance / "files").is_dir()

        again = CliRunner().invoke(main, ["init", "--tenant", "acme"], obj=app)
        assert again.exit_code == 0, again.output
        assert f"password {password}" in again.output
        with app.app_context():
            assert [t.slug for t in service.list_tenants()] == ["acme"]
            user = service.authenticate("acme", "admin", password)
            assert user.is_tenant_admin
    finally:
        jobs.get_jobs(app).close()
        with app.app_context():
            db.engine.dispose()


def test_init_demo_creates_the_demo_logins(app, cli, client):
    result = cli("init", "--demo", "--admin-password", "demo-password")
    assert result.exit_code == 0, result.output
    assert "tenant demo  username admin  password demo-password" in result.output
    assert "username rep" in result.output

    login = client.post("/api/auth/login", json={"tenant": "demo", "username": "admin",
                                                 "password": "demo-password"})
    assert login.status_code == 200
    assert login.get_json()["user"]["is_tenant_admin"] is True
    rep = service.get_user_by_username(service.get_tenant("demo"), "rep")
    assert [m.username for m in service.managers_of(rep)] == ["admin"]

    # The sales-management app comes with its demo people; a rep and their supervisor may
    # log in with the passwords printed (the same ones on every run).
    assert "username zhang.wei" in result.output and "username chen.jing" in result.output
    again = cli("init", "--demo")
    for username in ("zhang.wei", "chen.jing"):
        password = re.search(rf"username {username}\s+password (\S+)", again.output)
        assert password and f"username {username}  password {password.group(1)}" in result.output
        login = client.post("/api/auth/login", json={
            "tenant": "demo", "username": username, "password": password.group(1)})
        assert login.status_code == 200, login.get_json()
    token = login.get_json()["token"]
    leads = client.get("/api/apps/sales/lead/records", query_string={"count": "true"},
                       headers={"Authorization": f"Bearer {token}"})
    assert leads.status_code == 200 and leads.get_json()["total"] > 0


def test_tenant_create_and_list(app, cli):
    created = cli("tenant", "create", "initech", "--name", "Initech")
    assert created.exit_code == 0, created.output
    assert "initech" in created.output
    tenant = service.get_tenant("initech")
    assert tenant is not None and tenant.name == "Initech"
    audit = tenancy.system_tables(tenant.id, db.session.connection().dialect.name)[0]
    assert db.inspect(db.session.connection()).has_table(audit.name, schema=audit.schema)

    cli("tenant", "create", "acme")
    listed = cli("tenant", "list")
    assert listed.exit_code == 0
    assert listed.output.splitlines() == ["acme\tacme", "initech\tInitech"]

    duplicate = cli("tenant", "create", "initech")
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output


def test_user_create_with_roles_and_admin_flag(app, cli, client, tenant):
    assert cli("role", "create", "finance", "--tenant", "acme", "--title-zh", "财务").exit_code == 0
    result = cli("user", "create", "han", "--tenant", "acme", "--password", "han-password",
                 "--admin", "--role", "finance")
    assert result.exit_code == 0, result.output
    user = service.get_user_by_username(tenant, "han")
    assert user.is_tenant_admin and [r.key for r in user.roles] == ["finance"]

    login = client.post("/api/auth/login", json={"tenant": "acme", "username": "han",
                                                 "password": "han-password"})
    assert login.status_code == 200

    prompted = cli("user", "create", "mei", "--tenant", "acme", input="mei-password\n" * 2)
    assert prompted.exit_code == 0, prompted.output
    assert service.authenticate("acme", "mei", "mei-password").username == "mei"


def test_user_create_problems_are_one_line_errors(app, cli, tenant):
    unknown_tenant = cli("user", "create", "x", "--tenant", "nope", "--password", "long-enough")
    assert unknown_tenant.exit_code == 1 and "nope" in unknown_tenant.output
    unknown_role = cli("user", "create", "x", "--tenant", "acme", "--password", "long-enough",
                       "--role", "ghost")
    assert unknown_role.exit_code == 1 and "ghost" in unknown_role.output
    assert service.get_user_by_username(tenant, "x") is None


def test_migrate_is_idempotent(app, cli):
    result = cli("migrate")
    assert result.exit_code == 0, result.output
    assert "revision" in result.output


def create_tenant_job(slug: str) -> None:
    service.create_tenant(slug)
    db.session.commit()


def test_worker_burst_runs_a_queued_job_on_redis(app, cli):
    if not jobs.get_jobs(app).uses_redis:
        pytest.skip("needs REDIS_URL")
    jobs.enqueue(create_tenant_job, "from-worker")
    assert service.get_tenant("from-worker") is None
    result = cli("worker", "--burst")  # RQ's forking worker, with the scheduler
    assert result.exit_code == 0, result.output
    assert service.get_tenant("from-worker") is not None


def test_worker_needs_redis(app, cli):
    if jobs.get_jobs(app).uses_redis:
        pytest.skip("REDIS_URL is set")
    result = cli("worker", "--burst")
    assert result.exit_code == 1
    assert "REDIS_URL" in result.output
