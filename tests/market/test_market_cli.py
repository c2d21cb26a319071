"""``builder market ...`` and ``builder tenant export|import|clone`` from the command line."""

from __future__ import annotations

import signal

import pytest
from click.testing import CliRunner, Result

from builder.cli import main
from builder.extensions import db
from builder.market import catalog
from builder.market.package import read_zip
from builder.platform import service
from builder.runtime.storage.tables import entity_store
from tests.market.packages import sales_app_v2, v2_seed, write_package


@pytest.fixture
def cli(app, monkeypatch):
    monkeypatch.setenv("BUILDER_LANG", "en")

    def invoke(*args: str) -> Result:
        db.session.commit()
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            result = CliRunner().invoke(main, list(args), obj=app)
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
        db.session.expire_all()
        return result

    return invoke


def count(tenant, entity, app_key="sales"):
    store = entity_store(tenant.id, app_key, entity)
    return db.session.execute(db.select(db.func.count()).select_from(store.table)).scalar()


def test_install_upgrade_export_import_clone_uninstall(cli, market, tenant, admin, make_user,
                                                        make_tenant, tmp_path):
    make_user(tenant, "rep")
    listed = cli("market", "list", "--tenant", "acme")
    assert listed.exit_code == 0, listed.output
    assert listed.output.startswith("sales_kit\t1.0.0\t")

    installed = cli("market", "install", "sales_kit", "--tenant", "acme", "--demo-data")
    assert installed.exit_code == 0, installed.output
    assert "[1/" in installed.output and "Records of sales.opportunity written" in installed.output
    assert "install sales_kit 1.0.0: install" in installed.output
    assert "User ghost does not exist here (1 places left empty)" in installed.output
    assert count(tenant, "customer") == 3

    write_package(market / "sales_kit", sales_app_v2(), version="1.1.0", seed=v2_seed())
    planned = cli("market", "upgrade", "sales_kit", "--tenant", "acme", "--dry-run")
    assert planned.exit_code == 0, planned.output
    assert "Dry run, nothing changed" in planned.output
    assert catalog.find_install(tenant.id, "sales_kit").version == "1.0.0"
    upgraded = cli("market", "upgrade", "sales_kit", "--tenant", "acme", "--json")
    assert upgraded.exit_code == 0, upgraded.output
    assert '"action": "upgrade"' in upgraded.output
    assert catalog.find_install(tenant.id, "sales_kit").version == "1.1.0"

    exported = tmp_path / "acme.zip"
    result = cli("tenant", "export", "acme", str(exported), "--with-data")
    assert result.exit_code == 0, result.output
    assert read_zip(exported.read_bytes()).manifest["key"] == "tenant_acme"

    beta = make_tenant("beta")
    imported = cli("tenant", "import", "beta", str(exported))
    assert imported.exit_code == 0, imported.output
    assert count(beta, "customer") == 4
    again = cli("tenant", "import", "beta", str(exported))
    assert again.exit_code == 1 and "already used" in again.output

    cloned = cli("tenant", "clone", "acme", "gamma")
    assert cloned.exit_code == 0, cloned.output
    gamma = service.get_tenant("gamma")
    assert gamma is not None and count(gamma, "customer") == 0

    kept = tmp_path / "kept.zip"
    removed = cli("market", "uninstall", "sales_kit", "--tenant", "acme", "--purge",
                  "--export", str(kept))
    assert removed.exit_code == 0, removed.output
    assert len(read_zip(kept.read_bytes()).json("data/sales.json")["sales"]["customer"]) == 4
    assert catalog.find_install(tenant.id, "sales_kit") is None
    missing = cli("market", "uninstall", "sales_kit", "--tenant", "acme")
    assert missing.exit_code == 1 and "not installed" in missing.output


def test_a_bad_package_is_reported_with_its_file_and_path(cli, market, tenant, admin):
    write_package(market / "sales_kit", {"format": 1, "key": "sales", "title": {"zh-CN": "x"},
                                         "entities": [{"key": "a", "title": {"zh-CN": "a"},
                                                       "fields": [{"key": "b", "type": "nope",
                                                                   "title": {"zh-CN": "b"}}]}]})
    result = cli("market", "install", "sales_kit", "--tenant", "acme")
    assert result.exit_code == 1
    assert "app.json#entities[0].fields[0].type" in result.output


def test_init_demo_installs_the_crm_starter_with_demo_data(cli):
    result = cli("init", "--demo", "--admin-password", "demo-password")
    assert result.exit_code == 0, result.output
    demo = service.get_tenant("demo")
    assert count(demo, "customer", "crm") == 3 and count(demo, "follow_up", "crm") == 3
    assert catalog.find_install(demo.id, "crm_starter").demo_data is True
    assert cli("init", "--demo").exit_code == 0
    assert count(demo, "customer", "crm") == 3
