"""Sessions over HTTP: cookie flags, CSRF on cookie-authenticated writes, login rate limits
(counted in the database, so every web node sees them), token revocation, the server-side
end of a session, and argon2 password hashes rehashed when the parameters change."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher, profiles
from werkzeug.routing import Rule

from builder.app import create_app
from builder.extensions import db
from builder.platform import service
from builder.platform.models import ApiToken, User
from builder.platform.sessions import CSRF_EXEMPT_BLUEPRINTS
from builder.runtime import jobs
from tests.conftest import IsolatedClient
from tests.trust.figures import record

LOGIN = "/api/auth/login"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def login(client, password="secret-pass", username="admin", **kwargs):
    return client.post(LOGIN, json={"tenant": "acme", "username": username,
                                    "password": password}, **kwargs)


def _close(extra: Any) -> None:
    """Let go of an extra app instance: its job runner and its database connections."""
    jobs.get_jobs(extra).close()
    with extra.app_context():
        db.session.remove()
        db.engine.dispose()


def set_cookies(response) -> dict[str, str]:
    """``Set-Cookie`` headers of a response by cookie name."""
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        found[header.split("=", 1)[0]] = header
    return found


def csrf_of(client) -> str:
    return client.get_cookie("builder_csrf").value


# --- cookies ------------------------------------------------------------------------------


def test_session_cookie_is_httponly_lax_and_secure_only_over_https(app, admin):
    plain = set_cookies(login(app.test_client()))
    assert "HttpOnly" in plain["session"] and "SameSite=Lax" in plain["session"]
    assert "Secure" not in plain["session"]
    # the CSRF cookie is for the page's own script: readable, never sent cross-site
    assert "HttpOnly" not in plain["builder_csrf"]
    assert "SameSite=Strict" in plain["builder_csrf"]

    secure = set_cookies(login(app.test_client(), base_url="https://builder.example"))
    assert "Secure" in secure["session"] and "Secure" in secure["builder_csrf"]


def test_secure_cookies_can_be_forced_for_a_tls_terminating_proxy(app, admin, make_config,
                                                                 tmp_path):
    config = make_config(tmp_path / "forced", app.config["BUILDER"].database_url,
                         cookie_secure=True)
    forced = create_app(config)
    try:
        cookies = set_cookies(login(forced.test_client()))
        assert "Secure" in cookies["session"] and "Secure" in cookies["builder_csrf"]
    finally:
        _close(forced)


# --- CSRF ---------------------------------------------------------------------------------


def _sample_url(rule: Rule) -> str:
    """The rule's path with every variable filled by a harmless sample."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: "1", rule.rule)


def test_every_cookie_authenticated_write_without_the_csrf_header_is_refused(app, client,
                                                                            admin):
    assert login(client).status_code == 200
    tokens_before = db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken))
    probes = refused = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint == "auth.login":
            continue
        if rule.endpoint.split(".")[0] in CSRF_EXEMPT_BLUEPRINTS:
            continue  # public forms and webhooks never act as the session's user
        for method in sorted(set(rule.methods or ()) & set(WRITES)):
            probes += 1
            for headers in ({}, {"X-CSRF-Token": "forged"}):
                response = client.open(_sample_url(rule), method=method, json={},
                                       headers=headers)
                assert response.status_code == 403, (method, rule.rule, response.status_code)
                assert response.get_json()["error"]["code"] == "csrf_failed"
            refused += 1
    assert probes > 40 and refused == probes
    # nothing was written: no token created, the user still logged in and unchanged
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == tokens_before
    assert client.get("/api/auth/me").status_code == 200
    record("csrf", routes_probed=probes, probes_sent=probes * 2, violations=probes - refused)


def test_a_write_with_the_csrf_cookie_value_passes_and_bearer_calls_need_none(app, client,
                                                                            admin):
    body = login(client).get_json()
    created = client.post("/api/auth/tokens", json={"name": "ci"},
                          headers={"X-CSRF-Token": csrf_of(client)})
    assert created.status_code == 201

    bearer = app.test_client()  # no cookies at all
    response = bearer.post("/api/auth/tokens", json={"name": "script"},
                           headers={"Authorization": f"Bearer {body['token']}"})
    assert response.status_code == 201


def test_the_csrf_message_is_translated(client, admin):
    login(client)
    zh = client.post("/api/auth/tokens", json={"name": "x"}, headers={"Accept-Language": "zh-CN"})
    en = client.post("/api/auth/tokens", json={"name": "x"}, headers={"Accept-Language": "en"})
    assert zh.status_code == en.status_code == 403
    assert "安全令牌" in zh.get_json()["error"]["message"]
    assert "security token" in en.get_json()["error"]["message"]


# --- login rate limits --------------------------------------------------------------------


def test_repeated_failures_lock_the_user_with_a_clear_429(app, admin):
    client = app.test_client()
    for _ in range(5):
        assert login(client, "wrong-password").status_code == 401
    locked = login(client, headers={"Accept-Language": "en"})  # even the right password
    assert locked.status_code == 429
    retry = int(locked.headers["Retry-After"])
    assert 1 <= retry <= 900
    error = locked.get_json()["error"]
    assert error["code"] == "rate_limited" and error["retry_after"] == retry
    assert f"try again in {retry} seconds" in error["message"]
    zh = login(client, headers={"Accept-Language": "zh-CN"}).get_json()["error"]["message"]
    assert "登录失败次数过多" in zh
    # another user of the tenant is not locked out by someone guessing admin's password
    db.session.add(service.create_user(admin.tenant, "li.lei", "secret-pass"))
    db.session.commit()
    assert login(client, username="li.lei").status_code == 200


def test_a_successful_login_clears_the_user_failures(app, admin):
    client = app.test_client()
    for _ in range(4):
        login(client, "wrong-password")
    assert login(client).status_code == 200
    for _ in range(4):
        assert login(client, "wrong-password").status_code == 401
    assert login(client).status_code == 200


def test_one_address_trying_many_users_is_limited_and_others_are_not(app, admin):
    app.config["LOGIN_LIMIT_IP"] = 3
    attacker = app.test_client()
    here = {"REMOTE_ADDR": "203.0.113.7"}
    for name in ("a1", "a2", "a3"):
        assert login(attacker, username=name, environ_base=here).status_code == 401
    assert login(attacker, environ_base=here).status_code == 429
    elsewhere = {"REMOTE_ADDR": "198.51.100.9"}
    assert login(app.test_client(), environ_base=elsewhere).status_code == 200


def test_the_limit_holds_across_web_nodes(app, admin, make_config, tmp_path):
    """Failures counted by one app instance lock the user on another one (same database)."""
    other = create_app(make_config(tmp_path / "node2", app.config["BUILDER"].database_url))
    other.test_client_class = IsolatedClient
    try:
        for node in (app, other, app, other, app):
            assert login(node.test_client(), "wrong-password").status_code == 401
        assert login(other.test_client()).status_code == 429
        assert login(app.test_client()).status_code == 429
    finally:
        _close(other)


# --- revocation and logout ----------------------------------------------------------------


def test_a_revoked_token_is_refused_at_once(app, admin):
    token = login(app.test_client()).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    caller = app.test_client()
    created = caller.post("/api/auth/tokens", json={"name": "spare"}, headers=bearer).get_json()
    spare = {"Authorization": f"Bearer {created['token']}"}
    assert caller.get("/api/auth/me", headers=spare).status_code == 200

    assert caller.delete(f"/api/auth/tokens/{created['id']}", headers=bearer).status_code == 204
    assert caller.get("/api/auth/me", headers=spare).status_code == 401
    assert caller.post("/api/auth/tokens", json={"name": "x"}, headers=spare).status_code == 401
    assert caller.get("/api/auth/me", headers=bearer).status_code == 200


def test_logout_ends_the_session_on_the_server(app, admin):
    browser = app.test_client()
    login(browser)
    stolen = browser.get_cookie("session").value
    assert browser.post("/api/auth/logout",
                        headers={"X-CSRF-Token": csrf_of(browser)}).status_code == 204

    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/api/auth/me").status_code == 401


def test_revoking_the_login_token_ends_its_browser_session(app, admin):
    browser = app.test_client()
    body = login(browser).get_json()
    assert browser.get("/api/auth/me").status_code == 200
    login_token = next(t for t in service.list_tokens(admin) if t.name == "login")
    response = app.test_client().delete(f"/api/auth/tokens/{login_token.id}",
                                        headers={"Authorization": f"Bearer {body['token']}"})
    assert response.status_code == 204
    assert browser.get("/api/auth/me").status_code == 401


def test_a_deactivated_user_loses_sessions_and_tokens(app, admin, make_user, tenant,
                                                      admin_headers):
    worker = make_user(tenant, "zhang")
    browser = app.test_client()
    token = login(browser, username="zhang").get_json()["token"]
    patched = app.test_client().patch(f"/api/admin/users/{worker.id}", json={"is_active": False},
                                      headers=admin_headers)
    assert patched.status_code == 200
    assert browser.get("/api/auth/me").status_code == 401
    assert app.test_client().get("/api/auth/me",
                                 headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --- password hashing ---------------------------------------------------------------------


@pytest.fixture
def stronger_hasher():
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    stronger = PasswordHasher(time_cost=2, memory_cost=cheap.memory_cost * 2, parallelism=1,
                              hash_len=cheap.hash_len, salt_len=cheap.salt_len)
    yield stronger
    service.set_password_hasher(cheap)


def test_passwords_are_argon2id_and_rehashed_when_parameters_change(app, admin,
                                                                    stronger_hasher):
    stored = db.session.scalar(sa.select(User.password_hash).where(User.id == admin.id))
    assert stored.startswith("$argon2id$") and "secret-pass" not in stored

    service.set_password_hasher(stronger_hasher)
    assert login(app.test_client()).status_code == 200
    db.session.expire_all()
    rehashed = db.session.scalar(sa.select(User.password_hash).where(User.id == admin.id))
    assert rehashed != stored
    assert not stronger_hasher.check_needs_rehash(rehashed)
    assert f"m={stronger_hasher.memory_cost}" in rehashed
    assert login(app.test_client()).status_code == 200  # the new hash verifies
    assert login(app.test_client(), "wrong-password").status_code == 401
