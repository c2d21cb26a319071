"""The tenant admin's users, roles and teams; tenants never see each other."""

from __future__ import annotations

import pytest

from builder.platform.models import User


@pytest.fixture
def other_tenant(make_tenant, make_user):
    """A second tenant with a user and a team, whose ids must stay invisible."""
    tenant = make_tenant("globex")
    user = make_user(tenant, "stranger", team="ops")
    return tenant, user, user.teams[0]


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/api/admin/users"), ("post", "/api/admin/users"),
    ("get", "/api/admin/roles"), ("post", "/api/admin/roles"),
    ("get", "/api/admin/teams"), ("post", "/api/admin/teams"),
])
def test_admin_routes_are_403_for_users_and_401_for_anonymous(client, tenant, make_user,
                                                              auth_headers, method, url):
    rep = make_user(tenant, "rep")
    response = getattr(client, method)(url, json={}, headers=auth_headers(rep))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert getattr(client, method)(url, json={}).status_code == 401


def test_admin_creates_lists_and_patches_users(client, admin_headers):
    role = client.post("/api/admin/roles", json={"key": "finance",
                                                 "title": {"zh-CN": "财务", "en": "Finance"}},
                       headers=admin_headers)
    assert role.status_code == 201
    assert role.get_json()["title"] == {"zh-CN": "财务", "en": "Finance"}

    created = client.post("/api/admin/users", json={
        "username": "li.lei", "password": "long-enough", "display_name": "李雷",
        "roles": ["finance"], "language": "en"}, headers=admin_headers)
    assert created.status_code == 201, created.get_json()
    user = created.get_json()
    assert user["roles"] == ["finance"] and user["language"] == "en"

    login = client.post("/api/auth/login", json={"tenant": "acme", "username": "li.lei",
                                                 "password": "long-enough"})
    assert login.status_code == 200

    patched = client.patch(f"/api/admin/users/{user['id']}",
                           json={"is_active": False, "roles": []}, headers=admin_headers)
    assert patched.status_code == 200
    assert patched.get_json()["is_active"] is False and patched.get_json()["roles"] == []

    names = [u["username"] for u in client.get("/api/admin/users",
                                                headers=admin_headers).get_json()]
    assert names == ["admin", "li.lei"]


def test_user_input_problems_are_422_or_409(client, admin_headers):
    short = client.post("/api/admin/users", json={"username": "x", "password": "short"},
                        headers=admin_headers)
    assert short.status_code == 422
    assert short.get_json()["error"]["details"][0]["path"] == "password"

    unknown_role = client.post("/api/admin/users", json={"username": "y", "roles": ["ghost"]},
                               headers=admin_headers)
    assert unknown_role.status_code == 422
    assert unknown_role.get_json()["error"]["details"][0]["path"] == "roles[0]"

    duplicate = client.post("/api/admin/users", json={"username": "admin"},
                            headers=admin_headers)
    assert duplicate.status_code == 409


def test_admin_builds_a_team_tree(client, tenant, make_user, admin_headers):
    boss = make_user(tenant, "boss")
    rep = make_user(tenant, "rep")
    sales = client.post("/api/admin/teams", json={"key": "sales", "name": "销售部",
                                                  "manager_id": boss.id},
                        headers=admin_headers)
    assert sales.status_code == 201, sales.get_json()
    east = client.post("/api/admin/teams", json={
        "key": "east", "name": "华东", "parent_id": sales.get_json()["id"],
        "members": [rep.id]}, headers=admin_headers)
    assert east.status_code == 201
    assert east.get_json()["members"] == [rep.id]

    patched = client.patch(f"/api/admin/teams/{east.get_json()['id']}",
                           json={"manager_id": rep.id, "name": "East"}, headers=admin_headers)
    assert patched.get_json()["manager_id"] == rep.id

    cycle = client.patch(f"/api/admin/teams/{sales.get_json()['id']}",
                         json={"parent_id": east.get_json()["id"]}, headers=admin_headers)
    assert cycle.status_code == 422
    assert cycle.get_json()["error"]["details"][0]["path"] == "parent_id"

    teams = client.get("/api/admin/teams", headers=admin_headers).get_json()
    assert [(t["key"], t["parent_id"]) for t in teams] == [
        ("east", sales.get_json()["id"]), ("sales", None)]


def test_ids_of_another_tenant_are_not_found(client, admin_headers, other_tenant):
    _tenant, stranger, team = other_tenant
    for url in (f"/api/admin/users/{stranger.id}", f"/api/admin/teams/{team.id}"):
        assert client.get(url, headers=admin_headers).status_code == 404
    patched = client.patch(f"/api/admin/users/{stranger.id}", json={"is_active": False},
                           headers=admin_headers)
    assert patched.status_code == 404
    assert stranger.is_active is True
    assert client.patch(f"/api/admin/teams/{team.id}", json={"name": "mine"},
                        headers=admin_headers).status_code == 404

    listed = client.get("/api/admin/users", headers=admin_headers).get_json()
    assert stranger.id not in [u["id"] for u in listed]
    assert client.get("/api/admin/teams", headers=admin_headers).get_json() == []


def test_another_tenants_user_cannot_join_or_manage_a_team(client, admin_headers, other_tenant):
    _tenant, stranger, _team = other_tenant
    for body, path in (({"key": "a", "manager_id": stranger.id}, "manager_id"),
                       ({"key": "b", "members": [stranger.id]}, "members[0]")):
        response = client.post("/api/admin/teams", json=body, headers=admin_headers)
        assert response.status_code == 422
        assert response.get_json()["error"]["details"][0]["path"] == path


def test_same_username_in_two_tenants_are_two_people(client, tenant, make_tenant, make_user):
    other = make_tenant("globex")
    mine = make_user(tenant, "zhang", password="password-one")
    theirs = make_user(other, "zhang", password="password-two")
    assert mine.id != theirs.id
    ok = client.post("/api/auth/login", json={"tenant": "globex", "username": "zhang",
                                              "password": "password-two"})
    assert ok.get_json()["user"]["id"] == theirs.id
    wrong = client.post("/api/auth/login", json={"tenant": "acme", "username": "zhang",
                                                 "password": "password-two"})
    assert wrong.status_code == 401
    assert isinstance(mine, User)
