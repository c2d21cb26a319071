"""A sales app with roles, and an organisation to try it with.

Roles of ``sales_app()``:

- ``rep``: creates, reads, changes and deletes their own deals (``owner == $user.id``),
  never sees ``cost``, may not change ``approved``; deal lines hide ``unit_cost``.
- ``manager``: reads and changes the deals of their teams and sub-teams (``team``).
- ``finance``: reads every record of every entity (``*``), changes nothing.
- ``app_admin``: configures the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from builder.extensions import db
from builder.platform import service
from builder.platform.models import User
from tests.definitions import entity, field, minimal_app, title

APP = "sales"


def sales_app(roles: bool = True) -> dict[str, Any]:
    deal = entity("deal", "交易", "Deal", [
        field("name", "text", "名称", "Name", required=True),
        field("amount", "money", "金额", "Amount"),
        field("cost", "money", "成本", "Cost"),
        field("margin", "formula", "毛利", "Margin", result_type="number",
              expression={"-": [{"var": "amount"}, {"var": "cost"}]}),
        field("approved", "boolean", "已审核", "Approved", default=False),
        field("contract", "attachment", "合同", "Contract"),
        field("lines", "subtable", "明细", "Lines", entity="deal_line"),
    ], title_field="name")
    line = entity("deal_line", "交易明细", "Deal line", [
        field("product", "text", "产品", "Product"),
        field("unit_cost", "money", "单位成本", "Unit cost"),
    ])
    definition = minimal_app(deal, line)
    definition["key"] = APP
    if roles:
        definition["roles"] = [
            {"key": "rep", "title": title("销售", "Rep"), "permissions": [
                {"entity": "deal", "actions": ["create", "read", "update", "delete"],
                 "scope": {"==": [{"var": "owner"}, {"var": "$user.id"}]},
                 "fields": {"hidden": ["cost", "margin"], "readonly": ["approved"]}},
                {"entity": "deal_line", "actions": ["read"],
                 "fields": {"hidden": ["unit_cost"]}}]},
            {"key": "manager", "title": title("主管", "Manager"), "permissions": [
                {"entity": "deal", "actions": ["read", "update"], "scope": "team"}]},
            {"key": "finance", "title": title("财务", "Finance"), "permissions": [
                {"entity": "*", "actions": ["read", "export"]}]},
            {"key": "app_admin", "title": title("应用管理员", "App admin"), "permissions": [
                {"entity": "*", "actions": ["configure"]}]},
        ]
    return definition


@dataclass
class Org:
    """east (managed by ``boss``) has ``rep`` and the sub-team east_a with ``junior``;
    west has ``outsider``. ``auditor`` is in finance, ``nobody`` holds no role of the app."""

    rep: User
    junior: User
    outsider: User
    boss: User
    auditor: User
    nobody: User
    designer: User


def make_org(tenant: Any, make_user: Any) -> Org:
    users = Org(
        rep=make_user(tenant, "rep", roles=("rep",)),
        junior=make_user(tenant, "junior", roles=("rep",)),
        outsider=make_user(tenant, "outsider", roles=("rep",)),
        boss=make_user(tenant, "boss", roles=("manager",)),
        auditor=make_user(tenant, "auditor", roles=("finance",)),
        nobody=make_user(tenant, "nobody"),
        designer=make_user(tenant, "designer", roles=("app_admin",)),
    )
    east = service.create_team(tenant, "east", manager=users.boss, members=[users.rep])
    service.create_team(tenant, "east_a", parent=east, members=[users.junior])
    service.create_team(tenant, "west", members=[users.outsider])
    db.session.commit()
    return users


def url(entity_key: str = "deal", record_id: int | None = None, tail: str = "") -> str:
    base = f"/api/apps/{APP}/{entity_key}/records"
    return base if record_id is None else f"{base}/{record_id}{tail}"
