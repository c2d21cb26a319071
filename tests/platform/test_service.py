"""Tenants, teams and the manager hierarchy, at the service level."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from builder.errors import Conflict, ValidationFailed
from builder.extensions import db
from builder.platform import service
from builder.runtime.storage import tenancy


@pytest.fixture
def org(tenant, make_user):
    """ceo manages hq; sales (under hq) is managed by vp; east (under sales) by lead,
    with rep as a member; west (under sales) has no manager and one member."""
    users = {name: make_user(tenant, name) for name in ("ceo", "vp", "lead", "rep", "solo")}
    hq = service.create_team(tenant, "hq", manager=users["ceo"])
    sales = service.create_team(tenant, "sales", parent=hq, manager=users["vp"])
    east = service.create_team(tenant, "east", parent=sales, manager=users["lead"],
                               members=[users["rep"], users["lead"]])
    west = service.create_team(tenant, "west", parent=sales, members=[users["solo"]])
    db.session.commit()
    return users, {"hq": hq, "sales": sales, "east": east, "west": west}


def names(users):
    return [u.username for u in users]


def test_manager_of_a_member_is_the_team_manager(org):
    users, _ = org
    assert names(service.managers_of(users["rep"])) == ["lead"]
    assert names(service.managers_of(users["rep"], levels=2)) == ["vp"]
    assert names(service.managers_of(users["rep"], levels=3)) == ["ceo"]
    assert service.managers_of(users["rep"], levels=4) == []


def test_a_managers_manager_is_the_parent_teams_manager(org):
    users, _ = org
    assert names(service.managers_of(users["lead"])) == ["vp"]
    assert names(service.managers_of(users["lead"], levels=2)) == ["ceo"]
    assert service.managers_of(users["ceo"]) == []


def test_a_team_without_manager_defers_to_its_parent(org):
    users, _ = org
    assert names(service.managers_of(users["solo"])) == ["vp"]


def test_a_user_in_two_teams_has_two_managers(org, tenant, make_user):
    users, teams = org
    teams["west"].manager = users["ceo"]
    teams["west"].members.append(users["rep"])
    db.session.commit()
    assert sorted(names(service.managers_of(users["rep"]))) == ["ceo", "lead"]


def test_team_subtree_and_user_context(org, tenant):
    users, teams = org
    assert [t.key for t in service.team_subtree(teams["sales"])] == ["sales", "east", "west"]
    assert [t.key for t in service.team_subtree(teams["east"])] == ["east"]
    service.create_role(tenant, "sales_rep")
    service.set_user_roles(users["rep"], ["sales_rep"])
    context = service.user_context(users["rep"])
    assert context == {"id": users["rep"].id, "username": "rep", "roles": ["sales_rep"],
                       "teams": ["east"], "team_ids": [teams["east"].id],
                       "team_member_ids": ids(users, "lead", "rep"),
                       "managed_user_ids": ids(users, "rep"), "is_tenant_admin": False}
    vp = service.user_context(users["vp"])
    assert vp["teams"] == ["sales"]
    assert vp["team_member_ids"] == vp["managed_user_ids"] == ids(users, "vp", "lead", "rep",
                                                                  "solo")


def ids(users, *names):
    return sorted(users[name].id for name in names)


def test_team_scopes_reach_sub_teams_and_their_managers(org):
    users, teams = org
    lead = service.user_context(users["lead"])
    assert lead["team_member_ids"] == lead["managed_user_ids"] == ids(users, "lead", "rep")
    ceo = service.user_context(users["ceo"])
    assert ceo["managed_user_ids"] == ids(users, "ceo", "vp", "lead", "rep", "solo")
    solo = service.user_context(users["solo"])  # a member of west, which has no manager
    assert solo["team_member_ids"] == ids(users, "solo")
    assert solo["managed_user_ids"] == ids(users, "solo")
    teams["west"].parent = teams["east"]  # moving a team moves its people into the scope
    db.session.commit()
    assert service.user_context(users["lead"])["managed_user_ids"] == ids(
        users, "lead", "rep", "solo")


def test_creating_a_tenant_creates_its_namespace(app, make_tenant):
    tenant = make_tenant("initech")
    dialect = db.session.connection().dialect.name
    inspector = sa.inspect(db.session.connection())
    for table in tenancy.system_tables(tenant.id, dialect):
        assert inspector.has_table(table.name, schema=table.schema)


def test_tenant_slugs_are_unique_and_checked(app, tenant):
    with pytest.raises(Conflict):
        service.create_tenant("acme")
    with pytest.raises(ValidationFailed):
        service.create_tenant("Not A Slug")
