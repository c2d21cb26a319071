"""Group robots and plain webhooks: one delivery per call, to the URL of ``webhook``.

Formats, as the robots document them:

- ``wecom`` (企业微信群机器人): ``{"msgtype": "markdown", "markdown": {"content"}}`` or
  ``{"msgtype": "text", "text": {"content", "mentioned_mobile_list"}}``; the key is in the URL.
- ``dingtalk`` (钉钉自定义机器人): ``{"msgtype": "markdown", "markdown": {"title", "text"},
  "at": {"atMobiles", "isAtAll"}}`` or ``msgtype`` ``text``; with a secret, the URL gets
  ``timestamp`` (ms) and ``sign`` = base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")).
- ``feishu`` (飞书自定义机器人): ``{"msg_type": "interactive", "card": {...}}`` or
  ``{"msg_type": "text", "content": {"text"}}``; with a secret, the body gets ``timestamp``
  (s) and ``sign`` = base64(HMAC-SHA256 keyed by "<timestamp>\\n<secret>" over nothing).
- ``json``: ``{"subject", "body", "language", "link"}``, signed with our own headers
  (``builder.runtime.signing``) when a secret is set.

Robots answer HTTP 200 with an error code in the body when they refuse a message
(``errcode`` for WeCom and DingTalk, ``code`` for Feishu): that is a failed attempt too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus, urlsplit

from builder.errors import Problem
from builder.i18n import gettext
from builder.runtime import signing
from builder.runtime.notify.channels.base import Channel, DeliveryFailed, channel_registry
from builder.runtime.notify.channels.http import dumps, internal_host, post_json
from builder.runtime.notify.messages import Message


def _mention(options: Mapping[str, Any]) -> tuple[list[str], bool]:
    mention = options.get("mention") or {}
    mobiles = [str(m) for m in mention.get("mobiles") or []] if isinstance(mention, Mapping) \
        else []
    return mobiles, bool(isinstance(mention, Mapping) and mention.get("all"))


def _hmac_base64(key: bytes, message: bytes) -> str:
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


class RobotChannel(Channel):
    """A webhook channel: its target is the URL of the call's ``webhook`` option."""

    per_recipient = False
    #: message types the format knows; the first is the default
    msgtypes: tuple[str, ...] = ()
    #: the key of the error code in the robot's answer
    error_code_key: str | None = None

    def check(self, options: Mapping[str, Any]) -> list[Problem]:
        problems: list[Problem] = []
        url = options.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            problems.append(Problem("webhook.url", gettext("notify.error.bad_url"), "invalid"))
        elif internal_host(parts.hostname):
            problems.append(Problem("webhook.url", gettext("notify.error.internal_url"),
                                    "internal"))
        msgtype = options.get("msgtype")
        if msgtype is not None and msgtype not in self.msgtypes:
            problems.append(Problem("webhook.msgtype", gettext(
                "notify.error.bad_msgtype", choices=", ".join(self.msgtypes)), "invalid"))
        secret = options.get("secret")
        if secret is not None and not isinstance(secret, str):
            problems.append(Problem("webhook.secret", gettext("notify.error.bad_secret"),
                                    "invalid"))
        return problems

    def msgtype(self, options: Mapping[str, Any]) -> str:
        return str(options.get("msgtype") or self.msgtypes[0])

    def signed(self, url: str, payload: dict[str, Any], secret: str | None
               ) -> tuple[str, dict[str, Any]]:
        """The URL and body of one attempt (signatures are made per attempt)."""
        return url, payload

    def headers(self, body: bytes, secret: str | None) -> dict[str, str]:
        """Extra HTTP headers of one attempt, given its encoded body."""
        return {}

    def deliver(self, target: str, payload: Mapping[str, Any], secret: str | None) -> None:
        url, body = self.signed(target, dict(payload), secret)
        encoded = dumps(body)
        answer = post_json(url, encoded, self.headers(encoded, secret))
        if self.error_code_key and isinstance(answer, Mapping):
            code = answer.get(self.error_code_key, answer.get("StatusCode", 0))
            if code not in (0, "0", None):
                message = answer.get("errmsg") or answer.get("msg") or ""
                raise DeliveryFailed(f"{self.type} {self.error_code_key} {code}: {message}")


@channel_registry.register
class WecomChannel(RobotChannel):
    type = "wecom"
    msgtypes = ("markdown", "text")
    error_code_key = "errcode"

    def build(self, message: Message, options: Mapping[str, Any]) -> dict[str, Any]:
        mobiles, everyone = _mention(options)
        if self.msgtype(options) == "text":
            text: dict[str, Any] = {"content": message.plain_text()}
            mentioned = [*mobiles, *(["@all"] if everyone else [])]
            if mentioned:
                text["mentioned_mobile_list"] = mentioned
            return {"msgtype": "text", "text": text}
        lines = [f"**{message.subject}**"]
        if message.body:
            lines.append(message.body)
        if message.url:
            lines.append(f"[{message.link_label}]({message.url})")
        return {"msgtype": "markdown", "markdown": {"content": "\n".join(lines)}}


@channel_registry.register
class DingtalkChannel(RobotChannel):
    type = "dingtalk"
    msgtypes = ("markdown", "text")
    error_code_key = "errcode"

    def build(self, message: Message, options: Mapping[str, Any]) -> dict[str, Any]:
        mobiles, everyone = _mention(options)
        at = {"atMobiles": mobiles, "isAtAll": everyone}
        # DingTalk only notifies the @-mentioned numbers that also appear in the text
        tags = " ".join(f"@{m}" for m in mobiles)
        if self.msgtype(options) == "text":
            content = message.plain_text() + (f"\n{tags}" if tags else "")
            return {"msgtype": "text", "text": {"content": content}, "at": at}
        parts = [f"#### {message.subject}"]
        if message.body:
            parts.append(message.body)
        if message.url:
            parts.append(f"[{message.link_label}]({message.url})")
        if tags:
            parts.append(tags)
        return {"msgtype": "markdown",
                "markdown": {"title": message.subject, "text": "\n\n".join(parts)}, "at": at}

    def signed(self, url: str, payload: dict[str, Any], secret: str | None
               ) -> tuple[str, dict[str, Any]]:
        if not secret:
            return url, payload
        timestamp = str(int(time.time() * 1000))
        sign = _hmac_base64(secret.encode(), f"{timestamp}\n{secret}".encode())
        separator = "&" if "?" in url else "?"
        return f"{url}{separator}timestamp={timestamp}&sign={quote_plus(sign)}", payload


@channel_registry.register
class FeishuChannel(RobotChannel):
    type = "feishu"
    msgtypes = ("interactive", "text")
    error_code_key = "code"

    def build(self, message: Message, options: Mapping[str, Any]) -> dict[str, Any]:
        _mobiles, everyone = _mention(options)
        if self.msgtype(options) == "text":
            text = message.plain_text()
            if everyone:
                text += '\n<at user_id="all"></at>'
            return {"msg_type": "text", "content": {"text": text}}
        elements: list[dict[str, Any]] = []
        if message.body:
            elements.append({"tag": "div", "text": {"tag": "lark_md", "content": message.body}})
        if message.url:
            elements.append({"tag": "action", "actions": [{
                "tag": "button", "type": "primary", "url": message.url,
                "text": {"tag": "plain_text", "content": message.link_label}}]})
        return {"msg_type": "interactive", "card": {
            "config": {"wide_screen_mode": True},
            "header": {"template": "blue",
                       "title": {"tag": "plain_text", "content": message.subject}},
            "elements": elements}}

    def signed(self, url: str, payload: dict[str, Any], secret: str | None
               ) -> tuple[str, dict[str, Any]]:
        if not secret:
            return url, payload
        timestamp = str(int(time.time()))
        sign = _hmac_base64(f"{timestamp}\n{secret}".encode(), b"")
        return url, {"timestamp": timestamp, "sign": sign, **payload}


@channel_registry.register
class JsonWebhookChannel(RobotChannel):
    type = "json"
    msgtypes = ("json",)

    def build(self, message: Message, options: Mapping[str, Any]) -> dict[str, Any]:
        return {"subject": message.subject, "body": message.body,
                "language": message.language, "link": message.link}

    def headers(self, body: bytes, secret: str | None) -> dict[str, str]:
        return signing.signed_headers(secret, int(time.time()), body) if secret else {}
