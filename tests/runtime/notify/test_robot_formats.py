"""Group robots receive messages in their own formats, signed as they document it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
import sqlalchemy as sa

from builder.extensions import db
from builder.runtime import signing
from builder.runtime.notify import send
from builder.runtime.notify.models import Delivery
from tests.runtime.notify.local_servers import http_endpoint

SUBJECT = {"zh-CN": "新线索待跟进", "en": "New lead to follow up"}
BODY = {"zh-CN": "客户:华东制造,预算 50 万", "en": "Customer: East Manufacturing"}
LINK = {"app": "crm", "entity": "lead", "record_id": 42}


def deliveries(ids):
    db.session.expire_all()
    return [db.session.get(Delivery, i) for i in ids]


@pytest.fixture
def base_url(app):
    app.config["PUBLIC_BASE_URL"] = "https://crm.example.com"


def test_dingtalk_markdown_arrives_signed(tenant, run_jobs, base_url):
    secret = "SECdingtalk-secret"
    with http_endpoint("/robot/send") as robot:
        ids = send(tenant.id, [], SUBJECT, BODY, channels=["dingtalk"], link=LINK,
                   webhook={"url": f"{robot.url}?access_token=tok123", "secret": secret,
                            "mention": {"mobiles": ["13800001111"]}})
        db.session.commit()
        run_jobs()
        assert len(robot.requests) == 1
        call = robot.requests[0]
    assert call.path == "/robot/send"
    assert call.query["access_token"] == "tok123"
    timestamp = call.query["timestamp"]
    assert abs(int(timestamp) - time.time() * 1000) < 60_000  # milliseconds
    expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert call.query["sign"] == expected
    body = call.json
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "新线索待跟进"
    text = body["markdown"]["text"]
    assert "新线索待跟进" in text and "客户:华东制造,预算 50 万" in text
    assert "[查看记录](https://crm.example.com/apps/crm/lead/records/42)" in text
    assert "@13800001111" in text
    assert body["at"] == {"atMobiles": ["13800001111"], "isAtAll": False}
    [delivery] = deliveries(ids)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, None)


def test_dingtalk_text_without_secret_is_unsigned(tenant, run_jobs):
    with http_endpoint("/robot/send") as robot:
        send(tenant.id, [], "提醒", "两小时内未响应", channels=["dingtalk"],
             webhook={"url": f"{robot.url}?access_token=abc", "msgtype": "text",
                      "mention": {"all": True}})
        db.session.commit()
        run_jobs()
        [call] = robot.requests
    assert set(call.query) == {"access_token"}
    assert call.json == {"msgtype": "text", "text": {"content": "提醒\n两小时内未响应"},
                         "at": {"atMobiles": [], "isAtAll": True}}


def test_wecom_markdown_and_text(tenant, run_jobs, base_url):
    with http_endpoint("/cgi-bin/webhook/send") as robot:
        send(tenant.id, [], SUBJECT, BODY, channels=["wecom"], link=LINK,
             webhook={"url": f"{robot.url}?key=693a91f6", "language": "en"})
        send(tenant.id, [], "日报", "今日新增线索 12 条", channels=["webhook"],
             webhook={"url": f"{robot.url}?key=693a91f6", "format": "wecom",
                      "msgtype": "text", "mention": {"mobiles": ["13800001111"], "all": True}})
        db.session.commit()
        run_jobs()
        markdown, text = sorted(robot.requests, key=lambda r: r.json["msgtype"])
    assert markdown.query == {"key": "693a91f6"}
    assert markdown.json == {"msgtype": "markdown", "markdown": {"content": (
        "**New lead to follow up**\nCustomer: East Manufacturing\n"
        "[Open the record](https://crm.example.com/apps/crm/lead/records/42)")}}
    assert text.json == {"msgtype": "text", "text": {
        "content": "日报\n今日新增线索 12 条",
        "mentioned_mobile_list": ["13800001111", "@all"]}}


def test_feishu_card_arrives_signed(tenant, run_jobs, base_url):
    secret = "feishu-secret"
    with http_endpoint("/open-apis/bot/v2/hook/abc") as robot:
        robot.answer(200, {"code": 0, "msg": "success", "data": {}})
        ids = send(tenant.id, [], SUBJECT, BODY, channels=["feishu"], link=LINK,
                   webhook={"url": robot.url, "secret": secret})
        db.session.commit()
        run_jobs()
        [call] = robot.requests
    body = call.json
    timestamp = body.pop("timestamp")
    assert abs(int(timestamp) - time.time()) < 60  # seconds
    string_to_sign = f"{timestamp}\n{secret}".encode()
    assert body.pop("sign") == base64.b64encode(
        hmac.new(string_to_sign, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "interactive"
    card = body["card"]
    assert card["header"]["title"] == {"tag": "plain_text", "content": "新线索待跟进"}
    assert card["elements"][0] == {"tag": "div", "text": {
        "tag": "lark_md", "content": "客户:华东制造,预算 50 万"}}
    button = card["elements"][1]["actions"][0]
    assert button["url"] == "https://crm.example.com/apps/crm/lead/records/42"
    assert button["text"]["content"] == "查看记录"
    assert deliveries(ids)[0].status == "sent"


def test_feishu_text(tenant, run_jobs):
    with http_endpoint("/open-apis/bot/v2/hook/abc") as robot:
        robot.answer(200, {"code": 0, "msg": "success"})
        send(tenant.id, [], "提醒", "请跟进", channels=["feishu"],
             webhook={"url": robot.url, "msgtype": "text"})
        db.session.commit()
        run_jobs()
        [call] = robot.requests
    assert call.json == {"msg_type": "text", "content": {"text": "提醒\n请跟进"}}


def test_generic_json_webhook_is_signed_with_our_headers(tenant, run_jobs, base_url):
    with http_endpoint("/erp/notify") as endpoint:
        endpoint.answer(204, "")
        send(tenant.id, [], SUBJECT, BODY, channels=["webhook"], link=LINK,
             webhook={"url": endpoint.url, "secret": "s3cret", "language": "en"})
        db.session.commit()
        run_jobs()
        [call] = endpoint.requests
    assert call.json == {"subject": "New lead to follow up",
                         "body": "Customer: East Manufacturing", "language": "en",
                         "link": {**LINK, "url": "https://crm.example.com/apps/crm/lead/records/42"}}
    assert signing.verify("s3cret", call.headers[signing.TIMESTAMP_HEADER],
                          call.headers[signing.SIGNATURE_HEADER], call.raw, time.time())
    assert not signing.verify("other", call.headers[signing.TIMESTAMP_HEADER],
                              call.headers[signing.SIGNATURE_HEADER], call.raw, time.time())


def test_a_robot_refusing_the_message_is_a_failure(tenant, run_jobs):
    with http_endpoint("/robot/send") as robot:
        robot.answer(200, {"errcode": 310000, "errmsg": "sign not match"})
        [delivery_id] = send(tenant.id, [], "x", "y", channels=["dingtalk"],
                             webhook={"url": robot.url, "secret": "wrong"})
        db.session.commit()
        run_jobs()
    [delivery] = deliveries([delivery_id])
    assert delivery.status == "failed"
    assert "310000" in delivery.last_error and "sign not match" in delivery.last_error


def test_bad_channels_and_webhooks_are_refused_before_anything_is_written(tenant):
    from builder.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as error:
        send(tenant.id, [], "x", "y", channels=["pigeon", "dingtalk", "feishu"],
             webhook=None)
    assert [p.path for p in error.value.details] == ["channels[0]", "webhook", "webhook"]
    with pytest.raises(ValidationFailed) as error:
        send(tenant.id, [], "x", "y", channels=["wecom"],
             webhook={"url": "ftp://example.com/x", "msgtype": "card"})
    assert [p.path for p in error.value.details] == ["webhook.url", "webhook.msgtype"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0
