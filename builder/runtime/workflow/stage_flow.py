"""A stage flow of the app definition, read for the runtime: stages in order and the moves
between them.

Stages are ordered as defined. The open (non-terminal) stages form the funnel; a ``won``
stage comes after the last open stage, a ``lost`` stage can be entered from any open stage.
A move from one stage to another is one of:

- ``forward``: to the next open stage (from the last open stage: to a won stage);
- ``skip``: further forward than that (allowed with ``allow_skip``);
- ``back``: to an earlier open stage, including reopening a won or lost record (allowed
  with ``allow_back``);
- ``lose``: from an open stage to a lost stage;
- ``closed``: from a terminal stage to another terminal stage (never, unless listed).

When the flow lists ``transitions``, only the listed moves are allowed, plus back moves if
``allow_back``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from builder.errors import NotFound, Problem, ValidationFailed
from builder.i18n import gettext, localized
from builder.runtime.storage.tables import EntityStore

FORWARD, SKIP, BACK, LOSE, CLOSED = "forward", "skip", "back", "lose", "closed"
#: moves that leave the stage having done its work: its exit criteria apply
ADVANCING = (FORWARD, SKIP)


@dataclass(frozen=True)
class Stage:
    key: str
    data: Mapping[str, Any]
    option_title: Any = None

    @property
    def terminal(self) -> str | None:
        value = self.data.get("terminal")
        return value if value in ("won", "lost") else None

    @property
    def probability(self) -> float | None:
        value = self.data.get("probability")
        return float(value) if isinstance(value, int | float) else None

    @property
    def title(self) -> str:
        """The stage's title in the caller's language (the option's title if it has none)."""
        return localized(self.data.get("title")) or localized(self.option_title) or self.key


class StageFlow:
    """One ``stage_flows[]`` item of a live app."""

    def __init__(self, data: Mapping[str, Any], fields: Mapping[str, Mapping[str, Any]]
                 ) -> None:
        self.data = data
        self.key = str(data["key"])
        self.entity = str(data["entity"])
        self.field = str(data["field"])
        options = {o.get("key"): o.get("title")
                   for o in (fields.get(self.field) or {}).get("options") or []
                   if isinstance(o, Mapping)}
        self.stages = [Stage(str(s["key"]), s, options.get(s["key"]))
                       for s in data.get("stages") or []]
        self.by_key = {s.key: s for s in self.stages}
        self.open = [s.key for s in self.stages if s.terminal is None]
        self.allow_back = bool(data.get("allow_back", True))
        self.allow_skip = bool(data.get("allow_skip", False))
        self.auto_advance = bool(data.get("auto_advance", False))
        self.listed = {(t.get("from"), t.get("to")) for t in data.get("transitions") or []
                       if isinstance(t, Mapping)}

    @property
    def title(self) -> str:
        return localized(self.data.get("title")) or self.key

    @property
    def initial(self) -> str:
        """Where a new record starts: the first open stage."""
        return self.open[0] if self.open else self.stages[0].key

    @property
    def amount_field(self) -> str | None:
        value = self.data.get("amount_field")
        return value if isinstance(value, str) else None

    @cached_property
    def won(self) -> str | None:
        return next((s.key for s in self.stages if s.terminal == "won"), None)

    def stage_title(self, key: str | None) -> str:
        if key is None:
            return "—"
        stage = self.by_key.get(key)
        return stage.title if stage is not None else key

    def rank(self, key: str | None) -> int:
        """Position in the funnel: open stages in order, won stages after them."""
        if key is None:
            return -1
        if key in self.open:
            return self.open.index(key)
        return len(self.open)

    def next_stage(self, key: str | None) -> str | None:
        """The stage a forward move from ``key`` reaches (``None`` from a terminal stage)."""
        if key is None:
            return self.initial
        if key not in self.open:
            return None
        index = self.open.index(key)
        return self.open[index + 1] if index + 1 < len(self.open) else self.won

    def kind(self, frm: str | None, to: str) -> str:
        """What kind of move ``frm`` → ``to`` is (see the module docstring)."""
        target, source = self.by_key[to], self.by_key.get(frm) if frm else None
        if source is not None and source.terminal is not None:
            return BACK if target.terminal is None else CLOSED
        if target.terminal == "lost":
            return LOSE
        if self.rank(to) < self.rank(frm):
            return BACK
        return FORWARD if to == self.next_stage(frm) else SKIP

    def refusal(self, frm: str | None, to: str) -> Problem | None:
        """Why the move ``frm`` → ``to`` is not allowed (``None`` if it is)."""
        kind = self.kind(frm, to)
        names = {"flow": self.title, "from": self.stage_title(frm), "to": self.stage_title(to)}
        if kind == BACK and self.allow_back:
            return None
        if self.listed:
            if (frm, to) in self.listed:
                return None
            key = "stages.error.back_not_allowed" if kind == BACK else "stages.error.not_listed"
        elif kind in (FORWARD, LOSE) or (kind == SKIP and self.allow_skip):
            return None
        elif kind == SKIP:
            key = "stages.error.skip_not_allowed"
            names["next"] = self.stage_title(self.next_stage(frm))
        elif kind == BACK:
            key = "stages.error.back_not_allowed"
        else:
            key = "stages.error.closed"
        return Problem("to", gettext(key, **names), key.rsplit(".", 1)[-1])


def flows_of(store: EntityStore) -> list[StageFlow]:
    """The stage flows of the store's entity (usually none or one)."""
    flows = store.app.get("stage_flows") or []
    return [StageFlow(f, store.fields) for f in flows
            if isinstance(f, Mapping) and f.get("entity") == store.key
            and f.get("field") in store.fields and f.get("stages")]


def flow_for(store: EntityStore, key: str | None = None) -> StageFlow:
    """The entity's flow named ``key``, or its only flow when ``key`` is not given."""
    flows = flows_of(store)
    if key is not None:
        for flow in flows:
            if flow.key == key:
                return flow
        raise NotFound(gettext("stages.error.no_flow", entity=store.key))
    if not flows:
        raise NotFound(gettext("stages.error.no_flow", entity=store.key))
    if len(flows) > 1:
        message = gettext("stages.error.which_flow", flows=", ".join(f.key for f in flows))
        raise ValidationFailed(message, [Problem("flow", message, "required")])
    return flows[0]


def find_flow(app: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The definition of the app's flow ``key``, or ``NotFound``."""
    for flow in app.get("stage_flows") or []:
        if isinstance(flow, Mapping) and flow.get("key") == key:
            return flow
    raise NotFound(gettext("stages.error.unknown_flow", flow=key))
