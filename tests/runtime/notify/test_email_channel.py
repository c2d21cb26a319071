"""Email goes through SMTP, in each recipient's language."""

from __future__ import annotations

import sqlalchemy as sa

from builder.extensions import db
from builder.platform import service as platform
from builder.runtime.notify import send
from builder.runtime.notify.models import Delivery
from tests.runtime.notify.local_servers import smtp_server

SUBJECT = {"zh-CN": "报价待审批", "en": "Quote awaiting approval"}
BODY = {"zh-CN": "报价单 BJ-2611-0001 低于目录价 85%", "en": "Quote BJ-2611-0001 is below 85%"}


def by_id(ids):
    db.session.expire_all()
    return {d.recipient_id: d for d in db.session.scalars(
        sa.select(Delivery).where(Delivery.id.in_(ids)))}


def test_email_reaches_each_recipient_in_their_language(app, tenant, make_user, run_jobs):
    chinese = make_user(tenant, "zhang")
    english = make_user(tenant, "smith")
    nobody = make_user(tenant, "noemail")
    platform.update_user(chinese, email="zhang@example.cn")
    platform.update_user(english, email="smith@example.com", language="en")
    db.session.commit()
    with smtp_server() as (port, mailbox):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="crm@example.cn",
                          PUBLIC_BASE_URL="https://crm.example.cn")
        ids = send(tenant.id, [chinese.id, english.id, nobody.id], SUBJECT, BODY,
                   channels=["email"], link={"app": "crm", "entity": "quote", "record_id": 9})
        db.session.commit()
        run_jobs()
        messages = {m["To"]: m for m in mailbox.messages}
        envelopes = sorted(mailbox.envelopes)
    assert envelopes == [("crm@example.cn", ["smith@example.com"]),
                         ("crm@example.cn", ["zhang@example.cn"])]
    assert messages["zhang@example.cn"]["Subject"] == "报价待审批"
    text = messages["zhang@example.cn"].get_content()
    assert "报价单 BJ-2611-0001 低于目录价 85%" in text
    assert "查看记录: https://crm.example.cn/apps/crm/quote/records/9" in text
    assert messages["smith@example.com"]["Subject"] == "Quote awaiting approval"
    assert "Open the record: https://crm.example.cn/apps/crm/quote/records/9" in \
        messages["smith@example.com"].get_content()
    states = by_id(ids)
    assert states[chinese.id].status == states[english.id].status == "sent"
    assert states[nobody.id].status == "dead"
    assert "no address" in states[nobody.id].last_error


def test_email_without_a_server_fails_visibly(app, tenant, make_user, run_jobs, admin_headers,
                                              client):
    user = make_user(tenant, "li")
    platform.update_user(user, email="li@example.cn")
    db.session.commit()
    [delivery_id] = send(tenant.id, [user.id], "x", "y", channels=["email"])
    db.session.commit()
    run_jobs()
    response = client.get("/api/admin/deliveries", query_string={"status": "failed"},
                          headers=admin_headers)
    [item] = response.get_json()["items"]
    assert item["id"] == delivery_id and item["target"] == "li@example.cn"
    assert "SMTP_HOST" in item["last_error"]
