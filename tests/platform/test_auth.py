"""Logging in by password, session and bearer token; tokens; the JSON 401."""

from __future__ import annotations

import pytest

from builder.platform import service

LOGIN = "/api/auth/login"


def login(client, tenant="acme", username="admin", password="secret-pass", **kwargs):
    return client.post(LOGIN, json={"tenant": tenant, "username": username,
                                    "password": password}, **kwargs)


def test_password_login_returns_a_working_bearer_token(app, admin):
    anonymous = app.test_client()  # a client without the session cookie
    response = login(app.test_client())
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["username"] == "admin"
    assert body["user"]["tenant"]["slug"] == "acme"
    assert "password" not in body["user"] and "password_hash" not in body["user"]

    me = anonymous.get("/api/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == "admin"


def test_login_also_starts_a_session(client, admin):
    assert login(client).status_code == 200
    assert client.get("/api/auth/me").get_json()["username"] == "admin"

    csrf = client.get_cookie("builder_csrf").value
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/auth/me").status_code == 401


@pytest.mark.parametrize(("tenant_slug", "username", "password"), [
    ("acme", "admin", "wrong-password"),
    ("acme", "nobody", "secret-pass"),
    ("other", "admin", "secret-pass"),
])
def test_bad_credentials_get_one_generic_401(client, admin, make_tenant, tenant_slug, username,
                                             password):
    make_tenant("other")
    response = login(client, tenant_slug, username, password)
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "unauthorized"
    assert error["message"] == login(client, "acme", "admin", "nope-nope").get_json()[
        "error"]["message"]


def test_messages_follow_the_language(client, admin):
    zh = login(client, password="wrong-password", headers={"Accept-Language": "zh-CN"})
    en = login(client, password="wrong-password", headers={"Accept-Language": "en"})
    assert zh.get_json()["error"]["message"] == "租户、用户名或密码错误"
    assert en.get_json()["error"]["message"] == "Wrong tenant, username or password"


def test_inactive_user_cannot_log_in_and_its_tokens_stop_working(client, admin, auth_headers):
    headers = auth_headers(admin)
    admin.is_active = False
    assert login(client).status_code == 401
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_unauthenticated_api_call_is_a_json_401_not_a_redirect(client):
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": {"code": "unauthorized",
                                             "message": response.get_json()["error"]["message"],
                                             "details": []}}
    assert "Location" not in response.headers


def test_garbage_bearer_tokens_are_401(client, admin):
    for value in ("Bearer", "Bearer nonsense", "Bearer bld_nonsense", "Basic YWRtaW4="):
        assert client.get("/api/auth/me", headers={"Authorization": value}).status_code == 401


def test_bad_bearer_token_does_not_fall_back_to_the_session(client, admin):
    login(client)
    response = client.get("/api/auth/me", headers={"Authorization": "Bearer bld_wrong"})
    assert response.status_code == 401


def test_invalid_login_body_is_a_422_with_paths(client):
    response = client.post(LOGIN, json={"tenant": "acme"})
    assert response.status_code == 422
    paths = {d["path"] for d in response.get_json()["error"]["details"]}
    assert {"username", "password"} <= paths


def test_tokens_are_created_listed_and_revoked(client, admin, admin_headers):
    created = client.post("/api/auth/tokens", json={"name": "script"}, headers=admin_headers)
    assert created.status_code == 201
    token = created.get_json()
    assert token["token"].startswith("bld_")
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert client.get("/api/auth/me", headers=bearer).status_code == 200

    listed = client.get("/api/auth/tokens", headers=admin_headers).get_json()
    assert [t["name"] for t in listed] == ["test", "script"]
    assert all("token" not in t for t in listed)
    assert next(t for t in listed if t["name"] == "script")["last_used_at"] is not None

    revoked = client.delete(f"/api/auth/tokens/{token['id']}", headers=admin_headers)
    assert revoked.status_code == 204
    assert client.get("/api/auth/me", headers=bearer).status_code == 401
    listed = client.get("/api/auth/tokens", headers=admin_headers).get_json()
    assert next(t for t in listed if t["name"] == "script")["revoked_at"] is not None


def test_logout_with_a_bearer_token_revokes_it(client, admin, admin_headers):
    assert client.post("/api/auth/logout", headers=admin_headers).status_code == 204
    assert client.get("/api/auth/me", headers=admin_headers).status_code == 401


def test_someone_elses_token_cannot_be_revoked(client, tenant, admin, admin_headers, make_user,
                                               auth_headers):
    rep = make_user(tenant, "rep")
    token, _plaintext = service.issue_token(rep, "mine")
    response = client.delete(f"/api/auth/tokens/{token.id}", headers=admin_headers)
    assert response.status_code == 404
    assert token.revoked_at is None


def test_only_the_token_hash_is_stored(app, admin):
    token, plaintext = service.issue_token(admin, "x")
    assert plaintext not in token.token_hash
    assert len(token.token_hash) == 64
    assert service.user_from_token(plaintext) is admin
    service.revoke_token(token)
    assert service.user_from_token(plaintext) is None


def test_passwords_are_hashed_with_argon2(admin):
    assert admin.password_hash.startswith("$argon2")
    assert service.authenticate("acme", "admin", "secret-pass") is admin


def test_openapi_documents_the_platform_routes(client):
    spec = client.get("/api/openapi.json").get_json()
    for path in ("/api/auth/login", "/api/auth/me", "/api/auth/tokens",
                 "/api/admin/users", "/api/admin/roles", "/api/admin/teams/{team_id}"):
        assert path in spec["paths"], path
    assert "bearer" in spec["components"]["securitySchemes"]
