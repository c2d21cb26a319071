"""Sending notifications: ``send`` writes deliveries, a job sends them, failures retry.

``send`` runs in the caller's transaction: its rows are written with the caller's change
and the sending job leaves only when that transaction commits (``jobs.enqueue``), so a
rolled-back change notifies nobody. Each attempt first claims its delivery with a
conditional UPDATE (status still open and due), so two workers never send the same
delivery at once and a worker that dies mid-attempt only delays it by ``LEASE``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from builder.database import utcnow
from builder.errors import Conflict, NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.platform.models import User
from builder.runtime import jobs
from builder.runtime.notify import settings
from builder.runtime.notify.channels import Channel, DeliveryFailed, channel_registry
from builder.runtime.notify.messages import Text, record_link, render
from builder.runtime.notify.models import DEAD, FAILED, PENDING, RETRYABLE, SENT, Delivery

log = logging.getLogger(__name__)

#: how long a claimed attempt may take before another worker may try again
LEASE = timedelta(minutes=5)
#: the channel name that means "the format named by ``webhook["format"]``"
WEBHOOK = "webhook"
MAX_LIST = 200


def _channels(names: Sequence[str], webhook: Mapping[str, Any] | None
              ) -> list[Channel]:
    problems: list[Problem] = []
    chosen: list[Channel] = []
    for index, name in enumerate(names):
        type_name = str((webhook or {}).get("format") or "json") if name == WEBHOOK else name
        if not isinstance(type_name, str) or type_name not in channel_registry:
            problems.append(Problem(f"channels[{index}]", gettext(
                "notify.error.unknown_channel", channel=type_name,
                choices=", ".join(channel_registry.types())), "unknown"))
            continue
        channel = channel_registry.get(type_name)
        if not channel.per_recipient:
            if not isinstance(webhook, Mapping):
                problems.append(Problem("webhook", gettext("notify.error.webhook_required",
                                                           channel=type_name), "required"))
                continue
            problems.extend(channel.check(webhook))
        if channel not in chosen:
            chosen.append(channel)
    if problems:
        raise ValidationFailed(gettext("notify.error.invalid"), problems)
    return chosen


def _recipients(tenant_id: int, user_ids: Iterable[int]) -> list[User]:
    """Active users of the tenant among ``user_ids``, in the given order, once each."""
    wanted = list(dict.fromkeys(i for i in user_ids if isinstance(i, int)))
    if not wanted:
        return []
    found = {u.id: u for u in db.session.scalars(sa.select(User).where(
        User.tenant_id == tenant_id, User.id.in_(wanted), User.is_active.is_(True)))}
    return [found[i] for i in wanted if i in found]


def send(tenant_id: int, recipients: list[int], subject: Text, body: Text, *,
         channels: Sequence[str] | None = None, link: Mapping[str, Any] | None = None,
         webhook: Mapping[str, Any] | None = None) -> list[int]:
    """Notify users of a tenant (and/or a group robot); returns the delivery ids.

    ``subject``/``body`` are strings or language maps, rendered in each recipient's
    language. ``channels`` defaults to ``["inbox"]``; ``inbox`` and ``email`` reach each
    recipient, the robot channels (``wecom``, ``dingtalk``, ``feishu``, ``json``, or
    ``webhook`` for ``webhook["format"]``) post once to ``webhook["url"]``, signed with
    ``webhook["secret"]`` when given. ``link`` (``{"app", "entity", "record_id"}``)
    points at the record the message is about. Users of other tenants are ignored.

    Runs in the caller's transaction (flushes, never commits); the deliveries are sent
    by a job once it commits. Bad channels or webhook options are a ``ValidationFailed``.
    """
    chosen = _channels(list(channels or ["inbox"]), webhook)
    users = _recipients(tenant_id, recipients)
    now = utcnow()
    stored_link = record_link(link)
    rows: list[Delivery] = []
    for channel in chosen:
        if channel.per_recipient:
            for user in users:
                message = render(subject, body, user.language, stored_link)
                target = channel.target_for(user)
                row = Delivery(tenant_id=tenant_id, channel=channel.type,
                               recipient_id=user.id, target=target or "",
                               language=message.language, subject=message.subject,
                               body=message.body, link=stored_link,
                               payload=channel.build(message, {}), attempts=0, created_at=now)
                if channel.immediate:
                    row.status, row.sent_at = SENT, now
                elif target is None:
                    row.status = DEAD
                    row.last_error = gettext("notify.error.no_address", "en",
                                             channel=channel.type)
                else:
                    row.status, row.next_attempt_at = PENDING, now
                rows.append(row)
        else:
            options = webhook or {}
            message = render(subject, body, options.get("language"), stored_link)
            rows.append(Delivery(
                tenant_id=tenant_id, channel=channel.type, recipient_id=None,
                target=str(options["url"]), language=message.language,
                subject=message.subject, body=message.body, link=stored_link,
                payload=channel.build(message, options), secret=options.get("secret") or None,
                status=PENDING, attempts=0, next_attempt_at=now, created_at=now))
    db.session.add_all(rows)
    db.session.flush()
    pending = [row.id for row in rows if row.status == PENDING]
    if pending:
        jobs.enqueue(deliver_job, pending)
    return [row.id for row in rows]


# -- sending --------------------------------------------------------------------------------


def deliver_job(delivery_ids: list[int]) -> None:
    """The job ``send`` enqueues: one attempt at each of its deliveries."""
    for delivery_id in delivery_ids:
        attempt(delivery_id, utcnow())


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: the base doubled each time."""
    return timedelta(seconds=settings.retry_seconds() * 2 ** max(0, attempts - 1))


def _claim(delivery_id: int, now: datetime) -> bool:
    result = db.session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status.in_(RETRYABLE),
               sa.or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
        .values(attempts=Delivery.attempts + 1, next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False))
    claimed = result.rowcount == 1  # type: ignore[attr-defined]
    db.session.commit()
    return claimed


def attempt(delivery_id: int, now: datetime) -> str | None:
    """Try a due delivery once, at business time ``now``; returns its new status.

    ``None`` when it is not due, already done or being sent by someone else. A failure
    is ``failed`` with the next attempt after ``backoff``, or ``dead`` after
    ``NOTIFY_MAX_ATTEMPTS`` attempts; the reason is kept in ``last_error``.
    """
    if not _claim(delivery_id, now):
        return None
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:
        return None
    error: str | None = None
    try:
        channel_registry.get(delivery.channel).deliver(delivery.target, delivery.payload,
                                                       delivery.secret)
    except DeliveryFailed as failure:
        error = str(failure)
    except Exception as failure:  # a bug or an unexpected library error: keep it visible
        log.exception("delivery %s failed unexpectedly", delivery_id)
        error = f"{type(failure).__name__}: {failure}"
    if error is None:
        delivery.status, delivery.sent_at = SENT, utcnow()
        delivery.next_attempt_at = None
    elif delivery.attempts >= settings.max_attempts():
        delivery.status, delivery.next_attempt_at = DEAD, None
    else:
        delivery.status = FAILED
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    if error is not None:
        delivery.last_error = error[:2000]
        log.info("delivery %s (%s) attempt %s: %s", delivery.id, delivery.channel,
                 delivery.attempts, error)
    status = delivery.status
    db.session.commit()
    return status


def retry_due(now: datetime, limit: int = 100) -> int:
    """Attempt every delivery whose next attempt is due at ``now`` (oldest first, at most
    ``limit``); returns how many were attempted. The periodic sweep calls this."""
    due = list(db.session.scalars(
        sa.select(Delivery.id)
        .where(Delivery.status.in_(RETRYABLE), Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit)))
    db.session.commit()
    return sum(1 for delivery_id in due if attempt(delivery_id, now) is not None)


# -- administration -------------------------------------------------------------------------


def get_delivery(tenant_id: int, delivery_id: int) -> Delivery:
    delivery = db.session.scalar(sa.select(Delivery).where(
        Delivery.id == delivery_id, Delivery.tenant_id == tenant_id))
    if delivery is None:
        raise NotFound(gettext("notify.error.delivery_not_found"))
    return delivery


def list_deliveries(tenant_id: int, *, status: str | None = None, channel: str | None = None,
                    limit: int = 50, before: int | None = None) -> dict[str, Any]:
    """A tenant's deliveries, newest first; ``before`` (an id) pages on."""
    query = sa.select(Delivery).where(Delivery.tenant_id == tenant_id)
    if status:
        query = query.where(Delivery.status == status)
    if channel:
        query = query.where(Delivery.channel == channel)
    if before:
        query = query.where(Delivery.id < before)
    limit = max(1, min(limit, MAX_LIST))
    items = list(db.session.scalars(query.order_by(Delivery.id.desc()).limit(limit + 1)))
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_before": items[-1].id if more else None}


def retry(tenant_id: int, delivery_id: int) -> Delivery:
    """Send a failed or dead delivery again now, with a fresh count of attempts.

    The caller commits; the attempt leaves as a job after that.
    """
    delivery = get_delivery(tenant_id, delivery_id)
    if delivery.status not in (FAILED, DEAD):
        raise Conflict(gettext("notify.error.not_retryable", status=delivery.status))
    delivery.status, delivery.attempts = PENDING, 0
    delivery.next_attempt_at = utcnow()
    db.session.flush()
    jobs.enqueue(deliver_job, [delivery.id])
    return delivery
