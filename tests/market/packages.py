"""A small market package written for the tests (``sales_kit``), in two versions, and
helpers to write packages into a market folder and to snapshot a tenant."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from builder.designer.models import App, AppVersion
from builder.extensions import db
from builder.market.models import MarketInstall
from builder.platform.models import Role, Team, User
from builder.runtime.storage.models import EntityTable, FieldColumn
from builder.runtime.storage.tenancy import schema_name, system_tables
from tests.definitions import entity, field, option, title
from tests.runtime.records.helpers import PNG


def sales_app() -> dict[str, Any]:
    """Customers, opportunities with lines, a funnel, a role, a metric and a dashboard."""
    customer = entity("customer", "客户", "Customer", [
        field("code", "autonumber", "客户编号", "Customer no.", template="KH-{seq:4}"),
        field("name", "text", "客户名称", "Name", required=True, unique=True),
        field("region", "select", "区域", "Region", options=[
            option("east", "华东", "East"), option("south", "华南", "South")]),
        field("sales_rep", "user", "负责销售", "Sales rep"),
        field("logo", "image", "标志", "Logo", multiple=False, max_files=1),
        field("partner", "relation", "合作伙伴", "Partner", entity="customer"),
    ], title_field="name", views=[{"key": "all", "title": title("全部客户", "All customers"),
                                    "columns": ["code", "name", "region"]}])
    opportunity = entity("opportunity", "商机", "Opportunity", [
        field("name", "text", "商机名称", "Name", required=True),
        field("customer", "relation", "客户", "Customer", entity="customer", required=True),
        field("stage", "select", "阶段", "Stage", options=[
            option("lead", "线索", "Lead"), option("proposal", "方案报价", "Proposal"),
            option("won", "赢单", "Won"), option("lost", "输单", "Lost")], default="lead"),
        field("amount", "money", "金额", "Amount", min=0),
        field("lines", "subtable", "明细", "Lines", entity="line"),
    ], title_field="name")
    line = entity("line", "明细", "Line", [
        field("product", "text", "产品", "Product", required=True),
        field("qty", "number", "数量", "Quantity", precision=0),
    ])
    return {
        "format": 1, "key": "sales", "version": "1.0.0", "title": title("销售", "Sales"),
        "entities": [customer, opportunity, line],
        "stage_flows": [{"key": "funnel", "title": title("漏斗", "Funnel"),
                         "entity": "opportunity", "field": "stage", "stages": [
                             {"key": "lead", "title": title("线索", "Lead"), "probability": 10},
                             {"key": "proposal", "title": title("方案报价", "Proposal"),
                              "probability": 50},
                             {"key": "won", "title": title("赢单", "Won"), "probability": 100,
                              "terminal": "won"},
                             {"key": "lost", "title": title("输单", "Lost"), "probability": 0,
                              "terminal": "lost"}]}],
        "metrics": [{"key": "pipeline", "title": title("商机金额", "Pipeline"),
                     "entity": "opportunity", "aggregate": "sum", "field": "amount"},
                    {"key": "deals", "title": title("商机数", "Deals"),
                     "entity": "opportunity", "aggregate": "count"}],
        "dashboards": [{"key": "board", "title": title("看板", "Board"), "widgets": [
            {"key": "total", "type": "number", "metrics": ["pipeline"],
             "options": {"window": "all"}, "layout": {"x": 0, "y": 0, "w": 3, "h": 2}},
            {"key": "by_stage", "type": "pie", "metrics": ["deals"], "group_by": "stage",
             "options": {"window": "all"}, "layout": {"x": 3, "y": 0, "w": 3, "h": 2}}]}],
        "roles": [{"key": "sales_manager", "title": title("销售经理", "Sales manager"),
                   "permissions": [{"entity": "opportunity", "actions": ["read", "update"]}]}],
    }


def sales_app_v2() -> dict[str, Any]:
    """Version 1.1.0: a new ``source`` field, a ``negotiation`` stage, the ``proposal``
    stage retitled, an extra view column."""
    app = sales_app()
    app["version"] = "1.1.0"
    customer, opportunity, _ = app["entities"]
    customer["fields"].append(field("source", "select", "来源", "Source", options=[
        option("web", "官网", "Website"), option("referral", "转介绍", "Referral")]))
    customer["views"][0]["columns"].append("source")
    stage = opportunity["fields"][2]
    stage["options"].insert(2, option("negotiation", "商务谈判", "Negotiation"))
    stages = app["stage_flows"][0]["stages"]
    stages.insert(2, {"key": "negotiation", "title": title("商务谈判", "Negotiation"),
                      "probability": 75})
    stages[1]["title"] = title("方案与报价", "Proposal and quote")
    return app


SEED = {"sales": {"customer": [{"$key": "acme", "name": "示例客户", "region": "east"}]}}
DEMO = {"sales": {
    "customer": [
        {"$key": "huadong", "name": "华东制造", "region": "east",
         "sales_rep": {"$user": "rep"}, "logo": [{"$file": "files/logo.png"}],
         "partner": {"$ref": "customer:nanfang"}},
        {"$key": "nanfang", "name": "南方零售", "region": "south",
         "sales_rep": {"$user": "ghost"}, "partner": {"$ref": "customer:huadong"}},
    ],
    "opportunity": [
        {"$key": "big", "name": "二期项目", "customer": {"$ref": "customer:huadong"},
         "stage": "proposal", "amount": 250000,
         "lines": [{"product": "传感器", "qty": 40}, {"product": "网关", "qty": 4}]},
        {"$key": "small", "name": "门店试点", "customer": {"$ref": "customer:nanfang"},
         "stage": "won", "amount": 36000},
        {"$key": "seeded", "name": "示例商机", "customer": {"$ref": "customer:acme"},
         "amount": 1000},
    ],
}}


def manifest(version: str = "1.0.0", **extra: Any) -> dict[str, Any]:
    return {"format": 1, "key": "sales_kit", "version": version,
            "title": title("销售套件", "Sales kit"),
            "description": title("客户与商机", "Customers and opportunities"),
            "requires": {"platform": "0.1.0"}, "screenshots": ["screenshots/list.png"],
            "roles": [{"key": "sales_manager", "title": title("销售经理", "Sales manager")}],
            "apps": ["app.json"], "seed": ["data/seed.json"], "demo": ["data/demo.json"],
            **extra}


def write_package(folder: Path, definition: dict[str, Any], *, version: str = "1.0.0",
                  seed: dict[str, Any] | None = None, demo: dict[str, Any] | None = None,
                  **extra: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"manifest.json": manifest(version, **extra), "app.json": definition,
             "data/seed.json": seed if seed is not None else SEED,
             "data/demo.json": demo if demo is not None else DEMO}
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(content, ensure_ascii=False), "utf-8")
    for name, content in (("files/logo.png", PNG), ("screenshots/list.png", PNG)):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder


def v2_seed() -> dict[str, Any]:
    seed = copy.deepcopy(SEED)
    seed["sales"]["customer"].append({"$key": "globex", "name": "环球集团", "region": "south",
                                      "source": "web"})
    return seed


def snapshot(tenant_id: int) -> dict[str, Any]:
    """Everything of a tenant that an install may touch: tables and their rows, apps,
    versions, storage metadata, roles, teams, installs."""
    conn = db.session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        names = conn.execute(sa.text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = :s "
            "ORDER BY table_name"), {"s": schema_name(tenant_id)}).scalars().all()
        schema = schema_name(tenant_id)
    else:
        names = conn.execute(sa.text(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE :p ESCAPE '\\' "
            "ORDER BY name"), {"p": f"t{tenant_id}\\_%"}).scalars().all()
        schema = None
    tables: dict[str, Any] = {}
    for name in names:
        table = sa.Table(name, sa.MetaData(), autoload_with=conn, schema=schema)
        tables[name] = [tuple(map(repr, row)) for row in conn.execute(
            sa.select(table).order_by(*table.primary_key.columns))]
    audit = system_tables(tenant_id, dialect)[0]

    def rows(model: Any, *where: Any) -> list[tuple[str, ...]]:
        columns = model.__table__.columns
        return [tuple(repr(getattr(r, c.key)) for c in columns)
                for r in db.session.scalars(sa.select(model).where(*where).order_by(
                    *model.__table__.primary_key.columns))]

    app_ids = list(db.session.scalars(sa.select(App.id).where(App.tenant_id == tenant_id)))
    table_ids = list(db.session.scalars(sa.select(EntityTable.id).where(
        EntityTable.tenant_id == tenant_id)))
    return {
        "tables": tables, "audit": audit.name in tables,
        "apps": rows(App, App.tenant_id == tenant_id),
        "versions": rows(AppVersion, AppVersion.app_id.in_(app_ids)),
        "entity_tables": rows(EntityTable, EntityTable.tenant_id == tenant_id),
        "columns": rows(FieldColumn, FieldColumn.entity_table_id.in_(table_ids)),
        "roles": rows(Role, Role.tenant_id == tenant_id),
        "teams": rows(Team, Team.tenant_id == tenant_id),
        "users": rows(User, User.tenant_id == tenant_id),
        "installs": rows(MarketInstall, MarketInstall.tenant_id == tenant_id),
    }
