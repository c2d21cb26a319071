"""What an alert does when it fires: one class per action type in
``alert_action_registry``.

- ``create_record``: ``{"entity", "set": {field: JsonLogic over the figures},
  "owner": JsonLogic}`` creates a record (a coaching task for the rep), written by the
  engine through the records service (validated, audited) and given to ``owner``.
- ``notify``: ``{"to": [...], "subject", "message", "channels", "webhook"}`` sends a
  message through the notification channels. ``to`` lists ``"subject"`` (the person the
  alert is about; a team's manager for ``$team``), ``{"manager_of": "subject",
  "levels": 1}`` (their manager in the team tree), ``{"role": key}``, ``{"users":
  [username or id]}``. Texts take ``{figure}`` placeholders.

Actions run in the transaction that records the firing: all of them take effect, or
none and the firing is not recorded either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from builder.extensions import db
from builder.platform.models import Role, User, user_roles
from builder.registry import Registrable, Registry
from builder.runtime.reports.texts import render_all, value_of
from builder.runtime.reports.viewer import active_user, team_by_key
from builder.runtime.storage.tables import EntityStore
from builder.schema.logic import check_logic

if TYPE_CHECKING:
    from builder.schema.linker import Linker

SUBJECT = "subject"


@dataclass
class AlertContext:
    """One firing: the alert, its subject and the figures the actions read."""

    tenant_id: int
    app_key: str
    stores: Mapping[str, EntityStore]
    alert: Mapping[str, Any]
    subject: Any
    team_subject: bool
    data: dict[str, Any]
    #: ``(entity, record id)`` of the records created so far, for links
    created: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class AlertLint:
    """What the linker knows of the alert an action belongs to."""

    person_subject: bool
    known_vars: tuple[str, ...]


class AlertAction(Registrable):
    type = ""

    def run(self, params: Mapping[str, Any], ctx: AlertContext) -> dict[str, Any]:
        """Do it; return what was done (kept on the firing)."""
        raise NotImplementedError

    def lint(self, linker: Linker, params: Mapping[str, Any], path: str,
             alert: AlertLint) -> None:
        """Report problems of ``params`` at ``path``."""


alert_action_registry: Registry[AlertAction] = Registry("alert action")


def known_role(linker: Linker, role: Any, path: str) -> None:
    from builder.schema.linker import BUILTIN_ROLES

    if isinstance(role, str) and role not in linker.roles and role not in BUILTIN_ROLES:
        linker.add(path, "unknown_role", role=role)


def _logic(linker: Linker, value: Any, path: str, alert: AlertLint) -> None:
    if value is not None:
        linker.problems.extend(check_logic(value, path, set(alert.known_vars)))


@alert_action_registry.register
class CreateRecord(AlertAction):
    type = "create_record"

    def run(self, params: Mapping[str, Any], ctx: AlertContext) -> dict[str, Any]:
        from builder.runtime.records import RecordService

        store = ctx.stores[str(params["entity"])]
        values = {k: value_of(v, ctx.data) for k, v in (params.get("set") or {}).items()}
        service = RecordService(store, None, stores=ctx.stores, commit=False)
        record = service.create(values)
        owner = value_of(params.get("owner"), ctx.data)
        if active_user(ctx.tenant_id, owner) is not None:
            record = service.set_owner(int(record["id"]), owner)
        ctx.created.append((store.key, int(record["id"])))
        return {"type": self.type, "entity": store.key, "record_id": record["id"]}

    def lint(self, linker: Linker, params: Mapping[str, Any], path: str,
             alert: AlertLint) -> None:
        if not params.get("entity"):
            linker.add(f"{path}.entity", "required")
            return
        info = linker.entity(params.get("entity"), f"{path}.entity")
        values = params.get("set")
        for key, logic in (values.items() if isinstance(values, Mapping) else []):
            linker.field(info, key, f"{path}.set.{key}", system=False)
            _logic(linker, logic, f"{path}.set.{key}", alert)
        _logic(linker, params.get("owner"), f"{path}.owner", alert)


def _subject_people(ctx: AlertContext) -> list[User]:
    if ctx.team_subject:
        team = team_by_key(ctx.tenant_id, str(ctx.subject))
        return [team.manager] if team is not None and team.manager is not None else []
    user = active_user(ctx.tenant_id, ctx.subject)
    return [user] if user is not None else []


def _by_name(tenant_id: int, value: Any) -> User | None:
    if isinstance(value, str):
        return db.session.scalar(sa.select(User).where(
            User.tenant_id == tenant_id, User.username == value, User.is_active.is_(True)))
    return active_user(tenant_id, value)


def recipients(ctx: AlertContext, spec: Any) -> list[int]:
    """User ids named by a ``to`` spec (see the module doc), in order, once each."""
    from builder.platform.service import managers_of

    found: list[int] = []
    for item in spec if isinstance(spec, list) else [spec]:
        people: list[User] = []
        if item == SUBJECT:
            people = _subject_people(ctx)
        elif isinstance(item, Mapping) and item.get("manager_of") == SUBJECT:
            for person in _subject_people(ctx):
                people += managers_of(person, int(item.get("levels") or 1))
        elif isinstance(item, Mapping) and "role" in item:
            people = list(db.session.scalars(
                sa.select(User).join(user_roles, user_roles.c.user_id == User.id)
                .join(Role, Role.id == user_roles.c.role_id)
                .where(Role.tenant_id == ctx.tenant_id, Role.key == item["role"],
                       User.is_active.is_(True)).order_by(User.id)))
        elif isinstance(item, Mapping) and isinstance(item.get("users"), list):
            people = [u for u in (_by_name(ctx.tenant_id, v) for v in item["users"]) if u]
        found += [p.id for p in people if p.id not in found]
    return found


def _recipient_ok(item: Any) -> bool:
    if item == SUBJECT:
        return True
    if not isinstance(item, Mapping):
        return False
    if "manager_of" in item:
        levels = item.get("levels", 1)
        return item["manager_of"] == SUBJECT and isinstance(levels, int) and 1 <= levels <= 10
    return isinstance(item.get("role"), str) or isinstance(item.get("users"), list)


@alert_action_registry.register
class Notify(AlertAction):
    type = "notify"

    def run(self, params: Mapping[str, Any], ctx: AlertContext) -> dict[str, Any]:
        from builder.runtime.notify import send

        users = recipients(ctx, params["to"]) if "to" in params else []
        message = params.get("message") or ""
        subject = render_all(params.get("subject") or ctx.alert.get("title"), ctx.data)
        body = render_all(message, ctx.data)
        webhook = params.get("webhook")
        channels = params.get("channels") or (
            (["inbox"] if users else []) + (["webhook"] if webhook else []))
        link = None
        if ctx.created:
            entity, record_id = ctx.created[-1]
            link = {"app": ctx.app_key, "entity": entity, "record_id": record_id}
        ids = send(ctx.tenant_id, users, subject, body, channels=channels, link=link,
                   webhook=webhook) if users or webhook else []
        return {"type": self.type, "recipients": users, "notifications": list(ids)}

    def lint(self, linker: Linker, params: Mapping[str, Any], path: str,
             alert: AlertLint) -> None:
        if "to" not in params and "webhook" not in params:
            linker.add(f"{path}.to", "required")
        spec = params.get("to")
        items = spec if isinstance(spec, list) else [spec] if "to" in params else []
        for index, item in enumerate(items):
            where = f"{path}.to[{index}]" if isinstance(spec, list) else f"{path}.to"
            if not _recipient_ok(item):
                linker.add(where, "alert_recipient")
            elif isinstance(item, Mapping) and "role" in item:
                known_role(linker, item["role"], f"{where}.role")
            elif not alert.person_subject and (
                    item == SUBJECT or (isinstance(item, Mapping) and "manager_of" in item)):
                linker.add(where, "alert_subject_not_person")
        for name in ("subject", "message"):
            value = params.get(name)
            if isinstance(value, Mapping) and len(value) == 1 \
                    and next(iter(value)) not in ("zh-CN", "en"):
                _logic(linker, value, f"{path}.{name}", alert)
        channels = params.get("channels")
        from builder.runtime.notify.channels import channel_registry

        for index, name in enumerate(channels if isinstance(channels, list) else []):
            if name != "webhook" and name not in channel_registry:
                linker.add(f"{path}.channels[{index}]", "report_channel", channel=name,
                           choices=", ".join(["webhook", *channel_registry.types()]))
