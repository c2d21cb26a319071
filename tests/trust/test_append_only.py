"""The trails are append-only: every write route of the API, called by the tenant admin with
the ids of real records, tasks and approvals, leaves each existing row of the audit trail,
the approval actions and the stage history as it was (new rows may be added; a stage visit
may be closed once). On PostgreSQL the database refuses such changes itself."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from builder.extensions import db
from builder.runtime.storage.tenancy import system_tables
from builder.runtime.workflow.approvals_models import ApprovalAction, ApprovalInstance, ApprovalTask
from builder.runtime.workflow.stage_models import StageVisit
from tests.conftest import TEST_DATABASE_URL
from tests.trust.figures import record
from tests.trust.tenant_data import TenantData, build_tenant_data

WRITES = ("POST", "PUT", "PATCH", "DELETE")
ENTITIES = ("customer", "opportunity", "quote")
# routes that end the caller's own access; probed, but last
LAST = ("/api/auth/logout", "/api/auth/tokens/<int:token_id>")


def _trails(tenant_id: int) -> dict[str, dict[Any, dict[str, Any]]]:
    audit = system_tables(tenant_id, db.session.get_bind().dialect.name)[0]
    found: dict[str, dict[Any, dict[str, Any]]] = {}
    for name, table in (("audit", audit), ("approval_actions", ApprovalAction.__table__),
                        ("stage_history", StageVisit.__table__)):
        found[name] = {row["id"]: dict(row)
                       for row in db.session.execute(sa.select(table)).mappings()}
    return found


def _values(data: TenantData) -> dict[str, list[Any]]:
    """Candidate values of each path variable: the tenant's real ids and keys."""
    task_ids = list(db.session.scalars(sa.select(ApprovalTask.id)))
    instance_ids = list(db.session.scalars(sa.select(ApprovalInstance.id)))
    return {"app_key": ["crm"], "app": ["crm"], "entity_key": list(ENTITIES),
            "record_id": [data.ids[e] for e in ENTITIES], "task_id": task_ids or [1],
            "instance_id": instance_ids or [1], "approval_id": instance_ids or [1],
            "run_id": instance_ids or [1]}


def _urls(rule: str, values: dict[str, list[Any]], data: TenantData) -> list[str]:
    names = re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)
    if "entity_key" in names and "record_id" in names:
        pairs = [{"entity_key": e, "record_id": data.ids[e]} for e in ENTITIES]
    else:
        pairs = [{}]
    urls = []
    for pair in pairs:
        def fill(match: re.Match[str], pair: dict[str, Any] = pair) -> str:
            name = match.group(1)
            if name in pair:
                return str(pair[name])
            return str(values.get(name, ["1"])[0])
        urls.append(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", fill, rule))
    return urls


def test_no_api_route_changes_or_deletes_a_trail_row(app, client, admin_headers, admin):
    data = build_tenant_data(client, admin_headers)
    before = _trails(admin.tenant_id)
    assert all(before.values()), {k: len(v) for k, v in before.items()}
    values = _values(data)
    rules = sorted((r for r in app.url_map.iter_rules() if r.rule.startswith("/api/")),
                   key=lambda r: (r.rule in LAST, r.rule))
    routes = probes = server_errors = 0
    for rule in rules:
        methods = sorted(set(rule.methods or ()) & set(WRITES), reverse=True)  # PUT/PATCH first
        if not methods:
            continue
        routes += 1
        for url in _urls(rule.rule, values, data):
            for method in methods:
                for body in ({}, {"version": 1, "data": {}}):
                    response = client.open(url, method=method, json=body,
                                           headers=admin_headers)
                    probes += 1
                    server_errors += response.status_code >= 500
    db.session.expire_all()
    after = _trails(admin.tenant_id)
    violations = []
    for name, rows in before.items():
        for row_id, row in rows.items():
            now = after[name].get(row_id)
            if now is None:
                violations.append(f"{name} {row_id} deleted")
            elif now != row:
                closed = (name == "stage_history" and row["left_at"] is None
                          and {**now, "left_at": None} == row)
                if not closed:
                    violations.append(f"{name} {row_id} changed: {row} -> {now}")
    record("append_only", routes_probed=routes, probes_sent=probes, violations=len(violations),
           server_errors=server_errors)
    print(f"append-only: {routes} write routes, {probes} probes, "
          f"{sum(len(r) for r in before.values())} trail rows checked, "
          f"{len(violations)} violations, {server_errors} server errors")
    assert violations == []
    assert routes > 50
    assert sum(len(r) for r in after.values()) >= sum(len(r) for r in before.values())


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="database triggers are PostgreSQL's")
def test_the_database_refuses_to_rewrite_the_trails(app, client, admin_headers, admin):
    build_tenant_data(client, admin_headers)
    audit = system_tables(admin.tenant_id, "postgresql")[0]
    attempts = [
        sa.update(audit).values(action="forged"),
        sa.delete(audit),
        sa.update(ApprovalAction.__table__).values(comment="forged"),
        sa.delete(ApprovalAction.__table__),
        sa.update(StageVisit.__table__).values(to_stage="won"),
        sa.delete(StageVisit.__table__),
    ]
    for statement in attempts:
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(statement)
        db.session.rollback()
    # closing an open stage visit is the one change allowed
    visits = StageVisit.__table__
    closed = db.session.execute(sa.update(visits).where(visits.c.left_at.is_(None))
                                .values(left_at=sa.func.now()))
    assert closed.rowcount >= 1
    db.session.rollback()
    # ...but only once
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(sa.update(visits).where(visits.c.left_at.is_not(None))
                           .values(left_at=sa.func.now()))
    db.session.rollback()
