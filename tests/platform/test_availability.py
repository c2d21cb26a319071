"""Availability: a user says whether they are ready to receive work; admins can set it too."""

from __future__ import annotations


def test_users_start_available_and_set_it_themselves(client, tenant, make_user, auth_headers):
    rep = make_user(tenant, "rep")
    me = client.get("/api/auth/me", headers=auth_headers(rep)).get_json()
    assert me["is_available"] is True

    away = client.put("/api/auth/me/availability", json={"available": False},
                      headers=auth_headers(rep))
    assert away.status_code == 200 and away.get_json()["is_available"] is False
    assert client.get("/api/auth/me", headers=auth_headers(rep)).get_json()["is_available"] \
        is False
    missing = client.put("/api/auth/me/availability", json={}, headers=auth_headers(rep))
    assert missing.status_code == 422
    assert missing.get_json()["error"]["details"][0]["path"] == "available"
    assert client.put("/api/auth/me/availability", json={"available": True}).status_code == 401


def test_admins_set_availability_of_their_tenants_users(client, tenant, admin_headers,
                                                        make_user, make_tenant, auth_headers):
    rep = make_user(tenant, "rep")
    patched = client.patch(f"/api/admin/users/{rep.id}", json={"is_available": False},
                           headers=admin_headers)
    assert patched.status_code == 200 and patched.get_json()["is_available"] is False
    listed = {u["username"]: u["is_available"] for u in client.get(
        "/api/admin/users", headers=admin_headers).get_json()}
    assert listed == {"admin": True, "rep": False}

    created = client.post("/api/admin/users", json={"username": "on.leave",
                                                    "is_available": False},
                          headers=admin_headers)
    assert created.status_code == 201 and created.get_json()["is_available"] is False

    stranger = make_user(make_tenant("globex"), "stranger")
    other = client.patch(f"/api/admin/users/{stranger.id}", json={"is_available": False},
                         headers=admin_headers)
    assert other.status_code == 404
    assert client.get("/api/auth/me", headers=auth_headers(stranger)).get_json()[
        "is_available"] is True
