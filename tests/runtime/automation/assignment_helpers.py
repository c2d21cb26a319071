"""Shared steps of the assignment tests: a leads app, a sales organisation, lead counts."""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.platform import service
from builder.platform.models import Team, Tenant, User
from builder.runtime.automation.assignment_models import AssignmentLog
from builder.runtime.records import RecordService
from builder.runtime.storage.tables import EntityStore, entity_store
from tests.definitions import entity, field, minimal_app, option, title
from tests.runtime.records.helpers import publish

APP = "leads"


def lead_entity() -> dict[str, Any]:
    return entity("lead", "线索", "Lead", [
        field("name", "text", "名称", "Name", required=True),
        field("region", "select", "区域", "Region", options=[
            option("east", "华东", "East"), option("north", "华北", "North"),
            option("south", "华南", "South")]),
        field("industry", "select", "行业", "Industry", options=[
            option("manufacturing", "制造业", "Manufacturing"),
            option("retail", "零售", "Retail")]),
        field("budget", "money", "预算", "Budget", precision=2),
        field("score", "number", "评分", "Score", precision=0),
        field("status", "select", "状态", "Status", options=[
            option("new", "新线索", "New"), option("following", "跟进中", "Following"),
            option("closed", "已关闭", "Closed")], default="new"),
        field("sales_rep", "user", "销售代表", "Sales rep"),
    ], title_field="name")


def lead_app(*rules: dict[str, Any]) -> dict[str, Any]:
    """The leads app with these assignment rules (``entity`` defaults to ``lead``)."""
    definition = minimal_app(lead_entity(), assignment_rules=[
        {"entity": "lead", "title": title("线索分配", "Lead assignment"), **rule}
        for rule in rules], roles=[
        {"key": "sales", "title": title("销售", "Sales")},
        {"key": "sales_manager", "title": title("销售经理", "Sales manager")}])
    definition["key"] = APP
    return definition


def publish_leads(client: Any, headers: dict[str, str], *rules: dict[str, Any]) -> None:
    publish(client, headers, lead_app(*rules))


def store_of(tenant: Tenant) -> EntityStore:
    return entity_store(tenant.id, APP, "lead")


def team(tenant: Tenant, key: str, parent: str | None = None) -> Team:
    found = db.session.scalar(sa.select(Team).where(Team.tenant_id == tenant.id,
                                                    Team.key == key))
    if found is not None:
        return found
    parent_team = team(tenant, parent) if parent else None
    created = service.create_team(tenant, key, parent=parent_team)
    db.session.commit()
    return created


def reps(make_user: Any, tenant: Tenant, team_key: str, count: int, *, prefix: str = "rep",
         parent: str | None = None, roles: tuple[str, ...] = ()) -> list[User]:
    """``count`` users in team ``team_key`` (created under ``parent`` if new)."""
    target = team(tenant, team_key, parent)
    return [make_user(tenant, f"{prefix}{i}", team=target, roles=roles)
            for i in range(1, count + 1)]


def system_leads(tenant: Tenant, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Leads stored without an owner, as a web form or an integration delivers them."""
    created: list[dict[str, Any]] = []
    service_ = RecordService(store_of(tenant), None)
    for start in range(0, len(rows), 1000):
        created.extend(service_.bulk_create(rows[start:start + 1000]))
    return created


def owners(tenant: Tenant, field: str = "owner") -> Counter[int | None]:
    """Assignee → number of live leads."""
    db.session.commit()
    store = store_of(tenant)
    column = store.table.c.owner if field == "owner" else store.columns[field]
    return Counter({user: count for user, count in db.session.execute(
        sa.select(column, sa.func.count()).where(store.table.c.deleted == sa.false())
        .group_by(column))})


def assignments_per_record(tenant: Tenant) -> Counter[int]:
    """Record id → how many times the engine changed its assignee."""
    db.session.commit()
    return Counter(db.session.scalars(sa.select(AssignmentLog.record_id).where(
        AssignmentLog.tenant_id == tenant.id)))


def url(path: str = "") -> str:
    return f"/api/apps/{APP}/lead{path}"
