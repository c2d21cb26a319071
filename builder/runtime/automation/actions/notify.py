"""The ``notify`` action: a message to people related to the record (owner, a user field,
a role, managers), in-app and on their channels, or to a group robot's webhook
(WeCom, DingTalk, Feishu or generic JSON). Messages leave after the run commits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from builder.errors import Problem
from builder.extensions import db
from builder.i18n import LANGUAGES, current_language
from builder.platform.models import Role, User, user_roles
from builder.runtime.access import policy
from builder.runtime.automation.actions.base import Action, ActionContext, action_registry
from builder.runtime.automation.context import render_text
from builder.runtime.automation.params import problem
from builder.runtime.notify.channels import channel_registry
from builder.schema.definition import ALL_ENTITIES

PEOPLE = ("owner", "creator", "updater", "triggering_user")
_PERSON_FIELDS = {"owner": "owner", "creator": "created_by", "updater": "updated_by"}


def _user(tenant_id: int, user_id: Any) -> User | None:
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.tenant_id == tenant_id and user.is_active \
        else None


def _person(ctx: ActionContext, name: str) -> list[int]:
    """User ids named by ``owner``, ``creator``, ``updater``, ``triggering_user`` or a user
    field of the record (one user or a list)."""
    if name == "triggering_user":
        return [ctx.user.id] if ctx.user is not None else []
    record = ctx.record or {}
    value = record.get(_PERSON_FIELDS.get(name, name))
    values: list[Any] = value if isinstance(value, list) else [value]
    return [int(v) for v in values if _user(ctx.tenant_id, v) is not None]


def recipients(ctx: ActionContext, spec: Any) -> list[int]:
    """The user ids a recipient spec names, without duplicates, in order.

    A spec is a list of: ``"owner"``, ``"creator"``, ``"updater"``, ``"triggering_user"``,
    ``{"field": <user field>}``, ``{"users": [ids]}``, ``{"role": <role key>}``,
    ``{"manager_of": <one of the above names or a user field>, "levels": n}``.
    """
    from builder.platform.service import managers_of

    found: list[int] = []
    for item in spec if isinstance(spec, list) else [spec]:
        ids: list[int] = []
        if isinstance(item, str):
            ids = _person(ctx, item)
        elif isinstance(item, Mapping) and "field" in item:
            ids = _person(ctx, str(item["field"]))
        elif isinstance(item, Mapping) and "users" in item:
            ids = [u for u in item["users"] if _user(ctx.tenant_id, u) is not None]
        elif isinstance(item, Mapping) and "role" in item:
            ids = list(db.session.scalars(
                sa.select(User.id).join(user_roles, user_roles.c.user_id == User.id)
                .join(Role, Role.id == user_roles.c.role_id)
                .where(Role.tenant_id == ctx.tenant_id, Role.key == item["role"],
                       User.is_active == sa.true()).order_by(User.id)))
        elif isinstance(item, Mapping) and "manager_of" in item:
            for person in _person(ctx, str(item["manager_of"])):
                user = _user(ctx.tenant_id, person)
                if user is not None:
                    ids += [m.id for m in managers_of(user, int(item.get("levels", 1)))]
        found += [i for i in ids if i not in found]
    return found


def recipient_problems(spec: Any, path: str) -> list[Problem]:
    found: list[Problem] = []
    for index, item in enumerate(spec if isinstance(spec, list) else [spec]):
        where = f"{path}[{index}]" if isinstance(spec, list) else path
        if isinstance(item, str) or (isinstance(item, Mapping) and (
                {"field", "role", "manager_of"} & item.keys()
                or isinstance(item.get("users"), list))):
            continue
        found.append(problem(where, "bad_recipient"))
    return found


def _text(ctx: ActionContext, template: Any, hidden: frozenset[str]) -> Any:
    """A message text for every recipient's language (a language map in, one out), without
    the values of the ``hidden`` fields: their placeholders read as empty."""
    data = ctx.data()
    if hidden:
        data = {k: v for k, v in data.items() if k not in hidden}
        if isinstance(data.get("$old"), Mapping):
            data["$old"] = {k: v for k, v in data["$old"].items() if k not in hidden}
    if isinstance(template, Mapping) and set(template) <= set(LANGUAGES):
        return {language: render_text(text, data, language)
                for language, text in template.items()}
    return render_text(template, data, current_language())


def hidden_from(ctx: ActionContext, user_ids: list[int]) -> dict[frozenset[str], list[int]]:
    """The recipients grouped by the fields of the record they may not read."""
    groups: dict[frozenset[str], list[int]] = {}
    for user_id in user_ids:
        user = db.session.get(User, user_id)
        hidden = policy.rights(ctx.store, user).hidden() if user is not None else frozenset()
        groups.setdefault(hidden, []).append(user_id)
    return groups


def hidden_from_anyone(ctx: ActionContext) -> frozenset[str]:
    """The fields some role of the app hides: a group robot's chat is read by anyone."""
    return frozenset(name for role in ctx.app.get("roles") or ()
                     for permission in role.get("permissions") or ()
                     if permission.get("entity") in (ctx.store.key, ALL_ENTITIES)
                     for name in (permission.get("fields") or {}).get("hidden") or ())


def _personal(channel: str) -> bool:
    """Whether a channel reaches each recipient (the inbox, email), not a group robot."""
    return channel in channel_registry and channel_registry.get(channel).per_recipient


@action_registry.register
class Notify(Action):
    """``{"type": "notify", "to": "owner" | [...], "subject": ..., "message": ...,
    "channels": ["inbox", "email", "dingtalk"...], "webhook": {"url": ..., "format":
    "dingtalk", "secret": ...}}``.

    ``subject`` and ``message`` are texts with ``{field}`` placeholders, language maps of
    them (each recipient reads their language), or JsonLogic. ``to`` is a recipient spec
    (see ``recipients``). Channels default to the in-app inbox for ``to`` and the robot
    for ``webhook``. The message links to the record.
    """

    type = "notify"

    def run(self, params: Mapping[str, Any], ctx: ActionContext) -> dict[str, Any]:
        from builder.runtime.notify import send

        users = recipients(ctx, params["to"]) if "to" in params else []
        message = params.get("message") or params.get("body") or ""
        subject = params.get("subject") or message
        webhook = params.get("webhook")
        if isinstance(webhook, Mapping):
            webhook = {**webhook, "url": ctx.text(webhook.get("url"))}
        channels = params.get("channels")
        if channels is None:
            channels = (["inbox"] if "to" in params else []) + (["webhook"] if webhook else [])
        link = {"app": ctx.store.app_key, "entity": ctx.store.key,
                "record_id": ctx.record_id} if ctx.record_id is not None else None
        personal = [c for c in channels if isinstance(c, str) and _personal(c)]
        robots = [c for c in channels if c not in personal]
        ids: list[int] = []
        # each reader gets the text their role lets them read
        for hidden, group in hidden_from(ctx, users).items() if personal else ():
            ids += send(ctx.tenant_id, group, _text(ctx, subject, hidden),
                        _text(ctx, message, hidden), channels=personal, link=link) or []
        if robots:
            hidden = hidden_from_anyone(ctx)
            ids += send(ctx.tenant_id, [], _text(ctx, subject, hidden),
                        _text(ctx, message, hidden), channels=robots, link=link,
                        webhook=webhook) or []
        return {"recipients": users, "notifications": ids}

    def problems(self, params: Mapping[str, Any], path: str,
                 entity: Mapping[str, Any] | None, app: Mapping[str, Any]) -> list[Problem]:
        found: list[Problem] = []
        if "to" not in params and "webhook" not in params:
            found.append(problem(f"{path}.to", "param_required", param="to"))
        if "to" in params:
            found += recipient_problems(params["to"], f"{path}.to")
        webhook = params.get("webhook")
        if webhook is not None and not (isinstance(webhook, Mapping)
                                        and isinstance(webhook.get("url"), str)):
            found.append(problem(f"{path}.webhook", "param_type", param="webhook"))
        channels = params.get("channels")
        if channels is not None and not (isinstance(channels, list)
                                         and all(isinstance(c, str) for c in channels)):
            found.append(problem(f"{path}.channels", "param_type", param="channels"))
        return found
