"""Notifications: in-app inbox, email, and group robots (WeCom, DingTalk, Feishu, JSON).

The contract for the engines (approvals, automations, SLA escalations, reports)::

    from builder.runtime.notify import send
    ids = send(tenant_id, [user_id, ...], {"zh-CN": "...", "en": "..."}, "body",
               channels=["inbox", "email", "dingtalk"],
               link={"app": "crm", "entity": "lead", "record_id": 7},
               webhook={"url": "https://oapi.dingtalk.com/robot/send?access_token=...",
                        "secret": "SEC..."})

It writes the deliveries in the caller's transaction; they are sent after it commits.
"""

from builder.runtime.notify.service import attempt, retry_due, send

__all__ = ["attempt", "retry_due", "send"]
