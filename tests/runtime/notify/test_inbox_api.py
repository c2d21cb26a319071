"""The in-app inbox over HTTP: mine only, unread first, paged, read marks, counts."""

from __future__ import annotations

from builder.extensions import db
from builder.runtime.notify import send


def inbox(client, headers, **query):
    response = client.get("/api/notifications", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_inbox_lists_mine_unread_first_and_marks_them_read(
        client, tenant, make_user, auth_headers, make_tenant):
    rep = make_user(tenant, "rep")
    manager = make_user(tenant, "manager")
    stranger = make_user(make_tenant("other"), "rep")
    ids = [send(tenant.id, [rep.id, manager.id, stranger.id],
                {"zh-CN": f"通知 {n}", "en": f"Notice {n}"}, "正文",
                link={"app": "crm", "entity": "lead", "record_id": n})[0] for n in range(1, 6)]
    db.session.commit()
    headers = auth_headers(rep)

    page = inbox(client, headers)
    assert [item["subject"] for item in page["items"]] == [
        "通知 5", "通知 4", "通知 3", "通知 2", "通知 1"]
    assert page["unread"] == 5 and page["next_cursor"] is None
    assert page["items"][0]["link"]["record_id"] == 5
    assert page["items"][0]["read"] is False
    assert inbox(client, auth_headers(stranger))["items"] == []  # other tenant: not theirs

    response = client.post(f"/api/notifications/{ids[4]}/read", headers=headers)
    assert response.status_code == 200 and response.get_json()["read"] is True
    response = client.post(f"/api/notifications/{ids[2]}/read", headers=headers)
    assert client.get("/api/notifications/unread-count",
                      headers=headers).get_json() == {"unread": 3}

    first = inbox(client, headers, limit=2)
    assert [i["subject"] for i in first["items"]] == ["通知 4", "通知 2"]
    second = inbox(client, headers, limit=2, cursor=first["next_cursor"])
    assert [i["subject"] for i in second["items"]] == ["通知 1", "通知 5"]
    third = inbox(client, headers, limit=2, cursor=second["next_cursor"])
    assert [i["subject"] for i in third["items"]] == ["通知 3"]
    assert third["next_cursor"] is None
    assert [i["subject"] for i in inbox(client, headers, unread="true")["items"]] == [
        "通知 4", "通知 2", "通知 1"]

    response = client.post("/api/notifications/read-all", headers=headers)
    assert response.get_json() == {"updated": 3}
    assert inbox(client, headers)["unread"] == 0
    assert inbox(client, auth_headers(manager))["unread"] == 5  # theirs are untouched


def test_nobody_reads_someone_elses_notification(client, tenant, make_user, auth_headers):
    rep = make_user(tenant, "rep")
    other = make_user(tenant, "other")
    [notification_id] = send(tenant.id, [rep.id], "私信", "x")
    db.session.commit()
    response = client.post(f"/api/notifications/{notification_id}/read",
                           headers=auth_headers(other))
    assert response.status_code == 404
    assert inbox(client, auth_headers(rep))["unread"] == 1
    assert client.get("/api/notifications").status_code == 401
    response = client.get("/api/notifications", query_string={"cursor": "x:1"},
                          headers=auth_headers(rep))
    assert response.status_code == 422


def test_inbox_speaks_each_users_language(client, tenant, make_user, auth_headers):
    from builder.platform import service as platform

    english = make_user(tenant, "smith")
    platform.update_user(english, language="en")
    chinese = make_user(tenant, "zhang")
    send(tenant.id, [english.id, chinese.id], {"zh-CN": "商机已赢单", "en": "Opportunity won"},
         {"zh-CN": "恭喜", "en": "Congratulations"})
    db.session.commit()
    [item] = inbox(client, auth_headers(english))["items"]
    assert (item["subject"], item["body"]) == ("Opportunity won", "Congratulations")
    [item] = inbox(client, auth_headers(chinese))["items"]
    assert (item["subject"], item["body"]) == ("商机已赢单", "恭喜")


def test_inactive_and_foreign_users_get_nothing(tenant, make_user, make_tenant):
    from builder.platform import service as platform

    gone = make_user(tenant, "gone")
    platform.update_user(gone, is_active=False)
    foreign = make_user(make_tenant("other"), "x")
    assert send(tenant.id, [gone.id, foreign.id, 987654], "x", "y") == []
