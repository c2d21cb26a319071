"""A clone that fails half-way leaves no trace: no target tenant, no apps, no records, and
the source as it was; the same clone without the fault then succeeds.

All-or-nothing is proven elsewhere for imports (``tests/runtime/documents/
test_sheet_import.py``), publishes (``tests/designer/test_publish.py``), installs
(``tests/market/test_install.py``), upgrades (``tests/market/test_upgrade.py``), restores
(``tests/trust/test_backup_restore.py``) and the fault proofs."""

from __future__ import annotations

from builder.extensions import db
from builder.market import backup
from builder.market import records as records_module
from builder.platform import service as platform
from tests.trust.tenant_data import build_tenant_data


def test_a_clone_failing_half_way_keeps_nothing(client, admin, admin_headers, monkeypatch):
    build_tenant_data(client, admin_headers)
    db.session.commit()
    source_before = backup.snapshot(admin.tenant_id)
    original = records_module.ExactLoader._fill_deferred

    def failing(self):
        original(self)  # the records are written by now
        raise RuntimeError("injected")

    monkeypatch.setattr(records_module.ExactLoader, "_fill_deferred", failing)
    client.application.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.post("/api/admin/clone", json={"target": "gamma", "with_data": True},
                           headers=admin_headers)
    assert response.status_code == 500
    db.session.expire_all()
    assert platform.get_tenant("gamma") is None
    assert backup.snapshot(admin.tenant_id) == source_before

    monkeypatch.setattr(records_module.ExactLoader, "_fill_deferred", original)
    done = client.post("/api/admin/clone", json={"target": "gamma", "with_data": True},
                       headers=admin_headers)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["records"], done.get_json()
