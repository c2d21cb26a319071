"""Failed deliveries retry with exponential backoff, die after the last attempt, and are
visible (and retryable) through the admin API."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from builder.database import utcnow
from builder.extensions import db
from builder.runtime.notify import retry_due, send
from builder.runtime.notify.models import Delivery
from tests.runtime.notify.local_servers import closed_port_url, http_endpoint


@pytest.fixture
def settings(app):
    app.config.update(NOTIFY_MAX_ATTEMPTS=3, NOTIFY_RETRY_SECONDS=60)


def delivery(delivery_id: int) -> Delivery:
    db.session.expire_all()
    found = db.session.get(Delivery, delivery_id)
    assert found is not None
    return found


def failed(client, headers, status="failed"):
    response = client.get("/api/admin/deliveries", query_string={"status": status},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_500_is_retried_with_backoff_then_dead_then_retried_by_hand(
        client, tenant, admin_headers, run_jobs, settings):
    with http_endpoint("/robot/send") as robot:
        robot.answer(500, {"error": "internal"})
        started = utcnow()
        [delivery_id] = send(tenant.id, [], "新线索", "请跟进", channels=["dingtalk"],
                             webhook={"url": f"{robot.url}?access_token=tok"})
        db.session.commit()
        run_jobs()
        first = delivery(delivery_id)
        assert (first.status, first.attempts) == ("failed", 1)
        assert "HTTP 500" in first.last_error
        wait = first.next_attempt_at - started
        assert timedelta(seconds=59) < wait < timedelta(seconds=90)

        [listed] = failed(client, admin_headers)
        assert listed["id"] == delivery_id and listed["channel"] == "dingtalk"
        assert listed["attempts"] == 1 and "HTTP 500" in listed["last_error"]
        assert listed["target"].endswith("/robot/send?access_token=%E2%80%A6")  # no token

        assert retry_due(first.next_attempt_at - timedelta(seconds=1)) == 0
        assert len(robot.requests) == 1

        second_try = first.next_attempt_at
        assert retry_due(second_try) == 1
        second = delivery(delivery_id)
        assert (second.status, second.attempts) == ("failed", 2)
        assert second.next_attempt_at - second_try == timedelta(seconds=120)  # doubled

        third_try = second.next_attempt_at
        assert retry_due(third_try) == 1
        third = delivery(delivery_id)
        assert (third.status, third.attempts, third.next_attempt_at) == ("dead", 3, None)
        assert retry_due(third_try + timedelta(days=1)) == 0
        assert len(robot.requests) == 3
        assert failed(client, admin_headers) == []
        assert [d["id"] for d in failed(client, admin_headers, "dead")] == [delivery_id]

        robot.answer(200, {"errcode": 0, "errmsg": "ok"})
        response = client.post(f"/api/admin/deliveries/{delivery_id}/retry",
                               headers=admin_headers)
        assert response.status_code == 200, response.get_json()
        run_jobs()
        assert len(robot.requests) == 4
    done = delivery(delivery_id)
    assert (done.status, done.attempts) == ("sent", 1)
    response = client.post(f"/api/admin/deliveries/{delivery_id}/retry", headers=admin_headers)
    assert response.status_code == 409


def test_an_endpoint_that_is_down_fails_visibly_and_recovers(
        client, tenant, admin_headers, run_jobs, settings):
    url = closed_port_url("/open-apis/bot/v2/hook/abcdefghijklmnop")
    [delivery_id] = send(tenant.id, [], "提醒", "x", channels=["feishu"], webhook={"url": url})
    db.session.commit()
    run_jobs()
    down = delivery(delivery_id)
    assert down.status == "failed" and "unreachable" in down.last_error
    [listed] = failed(client, admin_headers)
    assert listed["target"].endswith("/open-apis/bot/v2/hook/abcd…")

    port = int(url.split(":")[2].split("/")[0])
    with http_endpoint("/open-apis/bot/v2/hook/abcdefghijklmnop", port=port) as robot:
        robot.answer(200, {"code": 0, "msg": "success"})
        assert retry_due(down.next_attempt_at) == 1
        assert len(robot.requests) == 1
    assert delivery(delivery_id).status == "sent"


def test_a_rolled_back_change_notifies_nobody(tenant, run_jobs, admin):
    with http_endpoint("/robot/send") as robot:
        db.session.execute(sa.select(1))
        send(tenant.id, [admin.id], "x", "y", channels=["inbox", "dingtalk"],
             webhook={"url": robot.url})
        db.session.rollback()
        run_jobs()
        assert robot.requests == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0


def test_a_due_delivery_is_sent_once_however_often_it_is_swept(tenant, run_jobs, settings):
    with http_endpoint("/robot/send") as robot:
        robot.answer(500, {})
        [delivery_id] = send(tenant.id, [], "x", "y", channels=["wecom"],
                             webhook={"url": robot.url})
        db.session.commit()
        run_jobs()
        robot.answer(200, {"errcode": 0})
        due = delivery(delivery_id).next_attempt_at
        assert retry_due(due) == 1
        assert retry_due(due) == 0
        assert len(robot.requests) == 2
    assert delivery(delivery_id).status == "sent"


def test_deliveries_are_for_tenant_admins_of_their_own_tenant(
        client, tenant, make_tenant, make_user, auth_headers, admin_headers, run_jobs):
    other = make_tenant("other")
    other_admin = make_user(other, "boss", is_tenant_admin=True)
    rep = make_user(tenant, "rep")
    [delivery_id] = send(tenant.id, [], "x", "y", channels=["wecom"],
                         webhook={"url": closed_port_url()})
    db.session.commit()
    run_jobs()
    assert client.get("/api/admin/deliveries", headers=auth_headers(rep)).status_code == 403
    assert client.get("/api/admin/deliveries").status_code == 401
    response = client.get("/api/admin/deliveries", headers=auth_headers(other_admin))
    assert response.get_json()["items"] == []
    assert client.get(f"/api/admin/deliveries/{delivery_id}",
                      headers=auth_headers(other_admin)).status_code == 404
    assert client.post(f"/api/admin/deliveries/{delivery_id}/retry",
                       headers=auth_headers(other_admin)).status_code == 404
    response = client.get(f"/api/admin/deliveries/{delivery_id}", headers=admin_headers)
    assert response.status_code == 200 and response.get_json()["status"] == "failed"
    assert "secret" not in response.get_json()
    response = client.get("/api/admin/deliveries", query_string={"status": "lost"},
                          headers=admin_headers)
    assert response.status_code == 422


def test_the_scheduler_retries_a_failed_delivery_once_its_backoff_has_passed(
        app, tenant, run_jobs, settings):
    from builder import clock
    from builder.runtime.jobs.scheduler import Scheduler

    with http_endpoint("/robot/send") as robot:
        robot.answer(500, {"error": "down"})
        [delivery_id] = send(tenant.id, [], "新线索", "请跟进", channels=["dingtalk"],
                             webhook={"url": f"{robot.url}?access_token=tok"})
        db.session.commit()
        run_jobs()
        assert delivery(delivery_id).status == "failed"
        robot.answer(200, {"errcode": 0, "errmsg": "ok"})
        db.session.commit()
        scheduler = Scheduler(app)
        assert "notify.retry" in scheduler.tick(reconcile=True)
        assert delivery(delivery_id).attempts == 1  # not due yet
        db.session.commit()  # SQLite: a transaction holds the write lock, even for reads
        clock.advance(timedelta(seconds=61))
        scheduler.tick(reconcile=True)
        assert (delivery(delivery_id).status, len(robot.requests)) == ("sent", 2)
