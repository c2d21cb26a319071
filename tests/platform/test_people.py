"""Anyone logged in can find the active colleagues of their own tenant by name."""

from __future__ import annotations

from typing import Any

from builder.extensions import db


def test_people_lists_active_colleagues_of_my_tenant_only(
        client: Any, tenant: Any, make_user: Any, make_tenant: Any, auth_headers: Any) -> None:
    rep = make_user(tenant, "rep_wang")
    make_user(tenant, "finance_li")
    gone = make_user(tenant, "finance_gone")
    gone.is_active = False
    db.session.commit()
    make_user(make_tenant("other"), "finance_other")

    response = client.get("/api/auth/people", headers=auth_headers(rep))
    assert response.status_code == 200
    assert [p["username"] for p in response.get_json()] == ["finance_li", "rep_wang"]

    found = client.get("/api/auth/people?q=FIN", headers=auth_headers(rep)).get_json()
    assert found == [{"id": found[0]["id"], "username": "finance_li", "name": "finance_li"}]
    assert client.get("/api/auth/people?q=%25", headers=auth_headers(rep)).get_json() == []
    assert client.get("/api/auth/people").status_code == 401

    named = client.get(f"/api/auth/people?ids={gone.id},{rep.id},999",
                       headers=auth_headers(rep)).get_json()
    assert [p["username"] for p in named] == ["rep_wang", "finance_gone"]
    assert client.get("/api/auth/people?ids=1;2", headers=auth_headers(rep)).status_code == 422
