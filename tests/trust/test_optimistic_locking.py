"""Optimistic locking on each write path that takes a version: a stale version is a 409
carrying the current version, and nothing changes (the record, its lines, its audit trail,
its stage history).

Covered elsewhere: a stale form PATCH (``tests/api/test_records_api.py``), a stale stage
move with its message (``tests/runtime/workflow/test_stage_flows.py``), two approvers or
two submitters at once (``tests/runtime/workflow/test_approvals_concurrency.py``), two
claims at once (``tests/runtime/automation/test_assignment_claims.py``), lost updates
under load (the load proof)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.runtime.storage.tenancy import system_tables
from builder.runtime.workflow.stage_models import StageVisit
from tests.runtime.records.helpers import records_url
from tests.trust.tenant_data import build_tenant_data


def _state(client: Any, headers: dict[str, str], entity: str, record_id: int,
           tenant_id: int) -> dict[str, Any]:
    url = f"{records_url(entity)}/{record_id}"
    audit = system_tables(tenant_id, db.session.get_bind().dialect.name)[0]
    db.session.expire_all()
    return {
        "record": client.get(url, headers=headers).get_json(),
        "history": client.get(f"{url}/history", headers=headers).get_json(),
        "audit_rows": db.session.scalar(sa.select(sa.func.count()).select_from(audit)),
        "stage_rows": db.session.execute(
            sa.select(StageVisit.id, StageVisit.left_at).order_by(StageVisit.id)).all(),
    }


def _refused(response: Any, current: int) -> None:
    assert response.status_code == 409, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "conflict" and error["current_version"] == current


def test_stale_writes_on_every_versioned_path_change_nothing(client, admin, admin_headers):
    data = build_tenant_data(client, admin_headers)
    headers = admin_headers
    tenant_id = admin.tenant_id
    customer_url = f"{records_url('customer')}/{data.ids['customer']}"
    current = client.get(customer_url, headers=headers).get_json()
    stale = current["version"] - 1
    before = _state(client, headers, "customer", data.ids["customer"], tenant_id)

    # a form saved from an old copy
    _refused(client.patch(customer_url, json={"version": stale, "data": {"notes": "旧"}},
                          headers=headers), current["version"])
    # a delete from a list shown before someone's edit
    _refused(client.delete(customer_url, query_string={"version": stale}, headers=headers),
             current["version"])
    assert _state(client, headers, "customer", data.ids["customer"], tenant_id) == before

    # restore from the recycle bin, based on an old version of the deleted record
    deleted = client.delete(customer_url, query_string={"version": current["version"]},
                            headers=headers)
    assert deleted.status_code == 200 and deleted.get_json()["deleted"] is True
    in_bin = _state(client, headers, "customer", data.ids["customer"], tenant_id)
    _refused(client.post(f"{customer_url}/restore", query_string={"version": stale},
                         headers=headers), deleted.get_json()["version"])
    assert _state(client, headers, "customer", data.ids["customer"], tenant_id) == in_bin


def test_a_stale_kanban_move_changes_nothing(client, admin, admin_headers):
    data = build_tenant_data(client, admin_headers)
    url = f"{records_url('opportunity')}/{data.ids['opportunity']}"
    deal = client.get(url, headers=admin_headers).get_json()
    before = _state(client, admin_headers, "opportunity", deal["id"], admin.tenant_id)
    moved = client.post(f"{url}/transition", json={"to": "lead",
                                                    "version": deal["version"] - 1},
                        headers=admin_headers)
    _refused(moved, deal["version"])
    after = _state(client, admin_headers, "opportunity", deal["id"], admin.tenant_id)
    assert after == before and after["record"]["stage"] == "tech_exchange"


def test_a_stale_edit_of_lines_keeps_every_line(client, admin, admin_headers):
    """Sub-rows are written with their parent: a stale parent version writes no line."""
    data = build_tenant_data(client, admin_headers)
    url = f"{records_url('quote')}/{data.ids['quote']}"
    quote = client.get(url, headers=admin_headers).get_json()
    lines_before = client.get(records_url("quote_line"), headers=admin_headers).get_json()
    before = _state(client, admin_headers, "quote", quote["id"], admin.tenant_id)
    edit = client.patch(url, json={"version": quote["version"] - 1, "data": {
        "lines": [{"id": quote["lines"][0]["id"], "quantity": 99}]}}, headers=admin_headers)
    assert edit.status_code in (409, 423), edit.get_json()  # stale, or locked by its approval
    assert client.get(records_url("quote_line"), headers=admin_headers).get_json() == \
        lines_before
    assert _state(client, admin_headers, "quote", quote["id"], admin.tenant_id) == before
