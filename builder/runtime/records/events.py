"""Record events: the seam between the records service and the engines that react to it.

The engines (stage flows, approvals, automations, assignment, SLA timers) never patch the
records service; they register here at start-up:

- a **guard** sees a proposed change after validation and before anything is written; it
  refuses the change by raising (``ValidationFailed`` listing every unmet condition,
  ``Conflict`` for a locked record, ``Forbidden``). Guards may not write.
- a **listener** sees the change after it was written and audited, in the same
  transaction; it may write more (through a ``RecordService`` with ``commit=False``) or
  enqueue jobs (sent on commit). An exception from a listener undoes the whole change.

Engines that write records themselves do so inside ``acting(engine)``; guards read
``acting_engine()`` to let those writes through (the stage field moved by a transition, a
record locked by a pending approval). Writes triggered by listeners nest; ``MAX_DEPTH``
stops a chain of automations that keeps triggering itself.

Engines announce what they did as **process events** (``stage_entered``, ``stage_left``,
``approval_decided``...) with ``record_hooks.emit``; other engines (automations) subscribe
with ``record_hooks.on(event_name, listener_name)``. They run in the emitter's transaction.

Reads are events too (``read``), emitted when a person opens a record (not for internal
reads), so that "opened by its owner" and "not opened within N hours" can be tracked.

Loading data is not a person's edit: the market's seed and demo records and the records
an import or a tenant clone copies are written inside ``loading(engine)``. There, guards,
listeners and process-event subscribers do not run unless registered with
``on_load=True``: no approval starts, no automation or assignment fires, no stage rule
refuses a record seeded at a later stage. Field validation still applies. A hook that
keeps derived data in step with every write (a counter, a search index) registers with
``on_load=True``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from builder.errors import AppError
from builder.i18n import gettext
from builder.runtime.storage.tables import EntityStore

CREATE, UPDATE, DELETE, RESTORE, READ = "create", "update", "delete", "restore", "read"
MAX_DEPTH = 8


@dataclass
class RecordChange:
    """One change of one record (or one read), as guards and listeners see it.

    ``before`` is the record as it was (``None`` on create), ``after`` the record as it is
    proposed (for guards) or as stored (for listeners); ``changed`` the keys of the fields
    whose value differs, sub-table fields included; ``input`` what the caller sent (to tell
    a value given from a default).
    """

    action: str
    store: EntityStore
    stores: Mapping[str, EntityStore]
    user: Any
    now: datetime
    before: Mapping[str, Any] | None
    after: Mapping[str, Any]
    changed: frozenset[str] = field(default_factory=frozenset)
    record_id: int | None = None
    #: the engine writing this change (``None`` for a person or an API client)
    engine: str | None = None
    #: the field values the caller sent for this record (create, update), as sent
    input: Mapping[str, Any] | None = None
    #: where this record's input sits in the request (``rows[3].`` in a bulk create)
    path: str = ""

    @property
    def tenant_id(self) -> int:
        return self.store.tenant_id

    @property
    def app_key(self) -> str:
        return self.store.app_key

    @property
    def entity(self) -> str:
        return self.store.key

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "id", None)

    def field_changed(self, key: str) -> bool:
        return key in self.changed


@dataclass
class ProcessEvent:
    """Something an engine did to a record: ``name`` says what, ``data`` the details
    (for ``stage_entered``: ``flow``, ``from``, ``to``; for ``approval_decided``: ``chain``,
    ``outcome``...)."""

    name: str
    store: EntityStore
    record_id: int
    user: Any
    now: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def tenant_id(self) -> int:
        return self.store.tenant_id

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "id", None)


Hook = Callable[[RecordChange], None]
ProcessHook = Callable[[ProcessEvent], None]


@dataclass(order=True)
class _Entry:
    priority: int
    name: str
    func: Hook = field(compare=False)
    #: runs for loaded data too (see ``loading``)
    on_load: bool = field(default=False, compare=False)


class RecordHooks:
    """The registered guards and listeners, run in priority order (lower first)."""

    def __init__(self) -> None:
        self._guards: list[_Entry] = []
        self._listeners: list[_Entry] = []
        self._subscribers: dict[str, dict[str, ProcessHook]] = {}
        #: (event, name) of the subscribers that also see events of loaded data
        self._load_subscribers: set[tuple[str, str]] = set()

    def guard(self, name: str, priority: int = 100, *, on_load: bool = False
              ) -> Callable[[Hook], Hook]:
        return self._adder(self._guards, name, priority, on_load)

    def listener(self, name: str, priority: int = 100, *, on_load: bool = False
                 ) -> Callable[[Hook], Hook]:
        return self._adder(self._listeners, name, priority, on_load)

    @staticmethod
    def _adder(entries: list[_Entry], name: str, priority: int,
               on_load: bool) -> Callable[[Hook], Hook]:
        def add(func: Hook) -> Hook:
            entries[:] = [e for e in entries if e.name != name]
            entries.append(_Entry(priority, name, func, on_load))
            entries.sort()
            return func

        return add

    def on(self, event: str, name: str, *, on_load: bool = False
           ) -> Callable[[ProcessHook], ProcessHook]:
        """Subscribe ``name`` to the process event ``event``."""

        def add(func: ProcessHook) -> ProcessHook:
            self._subscribers.setdefault(event, {})[name] = func
            if on_load:
                self._load_subscribers.add((event, name))
            else:
                self._load_subscribers.discard((event, name))
            return func

        return add

    def remove(self, name: str) -> None:
        self._guards[:] = [e for e in self._guards if e.name != name]
        self._listeners[:] = [e for e in self._listeners if e.name != name]
        for subscribers in self._subscribers.values():
            subscribers.pop(name, None)
        self._load_subscribers = {k for k in self._load_subscribers if k[1] != name}

    def emit(self, event: ProcessEvent) -> None:
        """Tell the subscribers of ``event.name``, in the caller's transaction."""
        loading = _loading.get()
        with _nested():
            for name, func in list(self._subscribers.get(event.name, {}).items()):
                if not loading or (event.name, name) in self._load_subscribers:
                    func(event)

    @property
    def has_listeners(self) -> bool:
        return bool(self._listeners)

    def check(self, change: RecordChange) -> None:
        for entry in _active(self._guards):
            entry.func(change)

    def notify(self, change: RecordChange) -> None:
        with _nested():
            for entry in _active(self._listeners):
                entry.func(change)


def _active(entries: list[_Entry]) -> list[_Entry]:
    if _loading.get():
        return [e for e in entries if e.on_load]
    return list(entries)


record_hooks = RecordHooks()

_engine: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "builder.records.engine", default=None)
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("builder.records.depth", default=0)
_loading: contextvars.ContextVar[bool] = contextvars.ContextVar("builder.records.loading",
                                                               default=False)


class TooDeep(AppError):
    """Listeners kept triggering each other: the change is refused rather than looping."""

    def __init__(self, message: str) -> None:
        super().__init__(message, [], "loop", 409, {})


def acting_engine() -> str | None:
    """The engine whose write is running, or ``None`` for a person's write."""
    return _engine.get()


@contextmanager
def acting(engine: str) -> Iterator[None]:
    """Mark the writes made inside as the ``engine``'s own."""
    token = _engine.set(engine)
    try:
        yield
    finally:
        _engine.reset(token)


def is_loading() -> bool:
    """Whether the running writes load data (see ``loading``) rather than edit it."""
    return _loading.get()


@contextmanager
def loading(engine: str) -> Iterator[None]:
    """Mark the writes made inside as data loaded by ``engine`` (seeding, importing,
    cloning): only hooks registered with ``on_load=True`` see them."""
    token = _loading.set(True)
    try:
        with acting(engine):
            yield
    finally:
        _loading.reset(token)


@contextmanager
def _nested() -> Iterator[None]:
    depth = _depth.get() + 1
    if depth > MAX_DEPTH:
        raise TooDeep(gettext("records.error.loop", depth=MAX_DEPTH))
    token = _depth.set(depth)
    try:
        yield
    finally:
        _depth.reset(token)
