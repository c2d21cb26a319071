"""``RecordService``: the one way to read and change the records of an entity.

Every write runs in one transaction: the record, its sub-table rows, its autonumber
codes and its audit rows are stored together or not at all. Updates use optimistic
locking (``UPDATE ... WHERE id = :id AND version = :version``): a stale version is a
409 ``Conflict`` carrying ``current_version``, and nothing is changed. Deletes are soft
(``deleted = true``) and take the record's sub-table rows with them; ``restore`` brings
back the record and the rows deleted with it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from builder import clock
from builder.errors import Conflict, NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.runtime.records import audit, events, rows
from builder.runtime.records.adjust import Adjusted, Bound
from builder.runtime.records.adjust import adjust as adjust_record
from builder.runtime.records.autonumber import next_code
from builder.runtime.records.validation import Prepared, Validator
from builder.runtime.storage.tables import EntityStore, sibling_stores

if TYPE_CHECKING:
    from builder.runtime.access import Gate

MAX_BULK_ROWS = 1000
Records = list[dict[str, Any]]
Rows = list[Mapping[str, Any]]


def utcnow() -> datetime:
    return clock.now()


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class RecordService:
    """Records of one entity, as seen by ``user`` (a ``builder.platform.models.User``).

    ``commit=False`` leaves the transaction to the caller (for callers that combine a
    record change with other work); by default each write commits. What the user may do,
    reach and see follows their roles (``access``); a service without user, or calls made
    inside ``events.acting(...)``, are an engine's and pass freely.
    """

    def __init__(self, store: EntityStore, user: Any, *,
                 stores: Mapping[str, EntityStore] | None = None, commit: bool = True) -> None:
        self.store = store
        self.user = user
        self._stores = stores
        self._commit = commit

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "id", None)

    @cached_property
    def stores(self) -> Mapping[str, EntityStore]:
        stores = dict(self._stores or sibling_stores(self.store))
        stores[self.store.key] = self.store
        return stores

    @cached_property
    def user_context(self) -> dict[str, Any]:
        if self.user is None:
            return {}
        from builder.platform.service import user_context

        return user_context(self.user)

    @cached_property
    def access(self) -> Gate:
        """The user's rights on this entity: what they may do, see and change."""
        from builder.runtime.access import Gate

        return Gate(self.store, self.user, self.stores, lambda: self.user_context)

    def context(self, now: datetime) -> dict[str, Any]:
        """Context values of rules: ``$user`` and ``$now`` (``$old`` is added per record)."""
        return {"$user": self.user_context, "$now": _iso(now)}

    def validator(self, now: datetime) -> Validator:
        """A validator for this user's writes: a unique value held by a record they may not
        read is refused without naming the record."""
        return Validator(self.stores, self.context(now), reveals=self._reveals)

    def _reveals(self, store: EntityStore, key: str, holder: int) -> bool:
        from builder.runtime.access import Gate

        if self.user is None:  # a public form's visitor
            return False
        gate = self.access if store.key == self.store.key else Gate(
            store, self.user, self.stores, lambda: self.user_context)
        return gate.reveals(key, holder)

    # -- reading ----------------------------------------------------------------------------

    def get(self, record_id: int) -> dict[str, Any]:
        """The record (deleted ones too, marked ``deleted``), or ``NotFound``; no access
        check (``open`` is how a person reads a record)."""
        record = rows.read_records(self.store, self.stores, [record_id]).get(record_id) \
            if isinstance(record_id, int) and 0 < record_id <= rows.MAX_ID else None
        if record is None:
            raise NotFound(gettext("records.error.not_found"))
        return record

    def list(self, query: Any) -> dict[str, Any]:
        """A page of records: ``{"items", "next_cursor"}`` plus ``"total"`` when asked.

        ``query`` is a ``builder.runtime.query.listing.ListQuery``.
        """
        from builder.runtime.query.listing import list_rows

        self.access.require("read")
        now = utcnow()
        # $user costs queries (roles, teams): only when the filter names it
        context = self.context(now) if "$user" in json.dumps(query.filter, default=str) \
            else {"$now": _iso(now)}
        view = self.access.view  # hidden fields cannot be shown, filtered, sorted, searched
        page = list_rows(view, query, context, self.access.condition("read"))
        items = [rows.to_output(view, row, query.fields) for row in page.rows]
        rows.attach_children(view, self.stores, items, query.fields)
        result: dict[str, Any] = {"items": [self.access.redact(i) for i in items],
                                  "next_cursor": page.next_cursor}
        if page.total is not None:
            result["total"] = page.total
        return result

    def history(self, record_id: int) -> Records:
        """Every change of the record, newest first, with who and when."""
        self.access.require_record(record_id, "read")
        if rows.fetch_row(self.store, record_id) is None:
            raise NotFound(gettext("records.error.not_found"))
        return self.access.redact_history(audit.history(self.store, record_id))

    # -- writing ----------------------------------------------------------------------------

    def create(self, data: Any) -> dict[str, Any]:
        """Validate and store a new record (with its sub-table rows); returns it."""
        return self.bulk_create([data], path_prefix=None)[0]

    def bulk_create(self, records: Any, path_prefix: str | None = "rows") -> Records:
        """Store all records or none: any bad row fails the whole batch with a 422 that
        lists every problem as ``rows[i].field``."""
        self.access.require("create")
        if not isinstance(records, list) or not records:
            raise ValidationFailed(gettext("records.error.invalid"), [Problem(
                path_prefix or "$", gettext("records.error.rows_expected"), "invalid")])
        if len(records) > MAX_BULK_ROWS:
            raise ValidationFailed(gettext("records.error.invalid"), [Problem(
                path_prefix or "$", gettext("records.error.too_many_rows", max=MAX_BULK_ROWS),
                "too_many")])
        now = utcnow()
        try:
            validator = self.validator(now)
            prepared = []
            for index, data in enumerate(records):
                path = f"{path_prefix}[{index}]." if path_prefix else ""
                item = validator.prepare(self.store, data, path=path)
                if item is not None:
                    prepared.append(item)
            validator.raise_if_problems()
            for item, data in zip(prepared, records, strict=True):
                events.record_hooks.check(self._change(events.CREATE, now, None, item.record,
                                                       item, data=data))
            ids = [self._write(item, now, parent_id=None, owner=self.user_id)
                   for item in prepared]
            stored = rows.read_records(self.store, self.stores, ids)
            for item, record_id in zip(prepared, ids, strict=True):
                self._audit_tree(item, stored[record_id], now)
            for item, record_id in zip(prepared, ids, strict=True):
                events.record_hooks.notify(self._change(
                    events.CREATE, now, None, stored[record_id], item, record_id))
            if events.record_hooks.has_listeners:
                stored = rows.read_records(self.store, self.stores, ids)
            self._done()
        except BaseException:
            db.session.rollback()
            raise
        return [self.access.redact(stored[i]) for i in ids]

    def update(self, record_id: int, data: Any, version: int) -> dict[str, Any]:
        """Change the given fields of a record at ``version``; 409 if it moved on since."""
        now = utcnow()
        try:
            self.access.require_record(record_id, "update")
            row = self._live_row(record_id)
            if row["version"] != version:
                raise self._stale(row["version"])
            before = rows.to_output(self.store, row)
            rows.attach_children(self.store, self.stores, [before])
            validator = self.validator(now)
            prepared = validator.prepare(self.store, data, existing=row, before=before)
            validator.raise_if_problems()
            assert prepared is not None
            if not prepared.changed:
                self._unchanged()
                return self.access.redact(before)
            events.record_hooks.check(self._change(events.UPDATE, now, before,
                                                   prepared.record, prepared, record_id,
                                                   data=data))
            self._write(prepared, now, parent_id=row["parent_id"], owner=row["owner"])
            after = self.get(record_id)
            self._audit_tree(prepared, after, now)
            events.record_hooks.notify(self._change(events.UPDATE, now, before, after,
                                                    prepared, record_id))
            if events.record_hooks.has_listeners:
                after = self.get(record_id)
            self._done()
        except BaseException:
            db.session.rollback()
            raise
        return self.access.redact(after)

    def delete(self, record_id: int, version: int | None = None) -> dict[str, Any]:
        """Soft-delete a record and its sub-table rows; deleting twice changes nothing."""
        return self._set_deleted(record_id, True, version)

    def restore(self, record_id: int, version: int | None = None) -> dict[str, Any]:
        """Bring back a deleted record and the sub-table rows deleted with it."""
        return self._set_deleted(record_id, False, version)

    def adjust(self, record_id: int, field: str, delta: float, *, low: Bound = None,
               high: Bound = None, override: str | None = None) -> Adjusted:
        """Add ``delta`` to the number ``field`` of a record in one conditional UPDATE,
        refused (``applied`` false, nothing written) when the result would leave
        ``[low, high]`` unless the ``override`` flag is set, or when the record is gone
        (``missing``); audited and announced to the
        listeners like any update. For engines keeping counters and stock exact under
        concurrency; no access check (engines write on their own account)."""
        try:
            result = adjust_record(self, record_id, field, delta, utcnow(), low, high,
                                   override)
            self._done()
        except BaseException:
            db.session.rollback()
            raise
        return result

    def open(self, record_id: int) -> dict[str, Any]:
        """The record as a person opens it: like ``get``, and a ``read`` event for the
        engines that track who looked at what."""
        self.access.require_record(record_id, "read")
        record = self.get(record_id)
        if not record.get("deleted") and events.record_hooks.has_listeners:
            try:
                events.record_hooks.notify(self._change(events.READ, utcnow(), record, record,
                                                        None, record_id, frozenset()))
                self._done()
            except BaseException:
                db.session.rollback()
                raise
        return self.access.redact(record)

    # -- internals --------------------------------------------------------------------------

    def _change(self, action: str, now: datetime, before: Mapping[str, Any] | None,
                after: Mapping[str, Any], item: Prepared | None, record_id: int | None = None,
                changed: frozenset[str] | None = None, data: Any = None) -> events.RecordChange:
        if changed is None:
            assert item is not None
            changed = frozenset(item.dirty | {k for k, plan in item.children.items()
                                              if plan.changed})
        return events.RecordChange(action, self.store, self.stores, self.user, now, before,
                                   after, changed, record_id, events.acting_engine(),
                                   data if isinstance(data, Mapping) else None,
                                   item.path if item is not None else "")

    def _done(self) -> None:
        if self._commit:
            db.session.commit()
        else:
            db.session.flush()

    def _unchanged(self) -> None:
        """Nothing to write: end our own read transaction, never a caller's (``commit=False``
        callers may have written other things in it)."""
        if self._commit:
            db.session.rollback()

    def _stale(self, current: int) -> Conflict:
        return Conflict(gettext("records.error.stale_version", version=current),
                        [Problem("version", gettext("records.error.stale_version",
                                                    version=current), "stale")],
                        current_version=current)

    def _live_row(self, record_id: int) -> Mapping[str, Any]:
        row = rows.fetch_row(self.store, record_id)
        if row is None:
            raise NotFound(gettext("records.error.not_found"))
        if row["deleted"]:
            raise Conflict(gettext("records.error.deleted"))
        return row

    def _system_values(self, now: datetime) -> dict[str, Any]:
        return {"updated_at": now, "updated_by": self.user_id}

    def _write(self, item: Prepared, now: datetime, parent_id: int | None,
               owner: int | None) -> int:
        """Insert or update one record and its children; returns its id."""
        store, table = item.store, item.store.table
        if item.existing is None:
            for key, field_def in store.fields.items():
                if field_def.get("type") == "autonumber" and key in store.columns:
                    item.values[key] = next_code(store, field_def, now)
            columns = {store.columns[k].name: v for k, v in item.values.items()}
            columns.update(created_at=now, created_by=self.user_id, owner=owner, version=1,
                           deleted=False, parent_id=parent_id, **self._system_values(now))
            record_id = int(db.session.execute(
                sa.insert(table).values(**columns).returning(table.c.id)).scalar_one())
        else:
            record_id = int(item.existing["id"])
            if item.changed:
                columns = {store.columns[k].name: item.values[k] for k in item.dirty}
                result = db.session.execute(
                    sa.update(table).where(table.c.id == record_id,
                                           table.c.version == item.existing["version"])
                    .values(version=table.c.version + 1, **columns,
                            **self._system_values(now)))
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    current = rows.fetch_row(store, record_id)
                    raise self._stale(current["version"] if current else 0)
        for plan in item.children.values():
            for child in plan.items:
                self._write(child, now, parent_id=record_id, owner=owner)
            removed = [r["id"] for r in plan.removed]
            if removed:
                child_table = plan.store.table
                db.session.execute(sa.update(child_table).where(
                    child_table.c.id.in_(removed), child_table.c.deleted == sa.false()).values(
                    deleted=True, version=child_table.c.version + 1,
                    **self._system_values(now)))
        return record_id

    def _audit_tree(self, item: Prepared, after: Mapping[str, Any], now: datetime) -> None:
        """Audit rows for a written record and each of its changed children."""
        if item.changed:
            action = audit.CREATE if item.existing is None else audit.UPDATE
            audit.append(item.store, int(after["id"]), action, self.user_id, now,
                         item.before, after)
        for key, plan in item.children.items():
            after_children = {c["id"]: c for c in after.get(key) or []}
            created = [c for c in after_children.values()
                       if not any(i.existing is not None and i.existing["id"] == c["id"]
                                  for i in plan.items)]
            fresh = iter(sorted(created, key=lambda c: c["id"]))
            for child in plan.items:
                if child.existing is None:
                    child_after = next(fresh, None)
                else:
                    child_after = after_children.get(child.existing["id"])
                if child_after is not None:
                    self._audit_tree(child, child_after, now)
            for row in plan.removed:
                before = rows.to_output(plan.store, row)
                rows.attach_children(plan.store, self.stores, [before])
                deleted = dict(before, deleted=True, version=before["version"] + 1,
                               updated_at=_iso(now), updated_by=self.user_id)
                audit.append(plan.store, int(row["id"]), audit.DELETE, self.user_id, now,
                             before, deleted)

    def _set_deleted(self, record_id: int, deleted: bool, version: int | None
                     ) -> dict[str, Any]:
        now = utcnow()
        try:
            self.access.require_record(record_id, "delete")
            row = rows.fetch_row(self.store, record_id)
            if row is None:
                raise NotFound(gettext("records.error.not_found"))
            if version is not None and row["version"] != version:
                raise self._stale(row["version"])
            if bool(row["deleted"]) == deleted:
                self._unchanged()
                return self.access.redact(self.get(record_id))
            action = events.DELETE if deleted else events.RESTORE
            before = self.get(record_id)
            proposed = dict(before, deleted=deleted)
            events.record_hooks.check(self._change(action, now, before, proposed, None,
                                                   record_id, frozenset({"deleted"})))
            self._cascade(self.store, [row], deleted, now, row["updated_at"])
            after = self.get(record_id)
            events.record_hooks.notify(self._change(action, now, before, after, None,
                                                    record_id, frozenset({"deleted"})))
            self._done()
        except BaseException:
            db.session.rollback()
            raise
        return self.access.redact(after)

    def _cascade(self, store: EntityStore, targets: Rows, deleted: bool,
                 now: datetime, deleted_at: Any) -> None:
        """Flip ``deleted`` on rows and, recursively, on their sub-table rows.

        Children deleted with their parent get the parent's ``updated_at``; restoring the
        parent restores exactly those (not rows removed from the list earlier).
        """
        table = store.table
        befores = rows.read_records(store, self.stores, [r["id"] for r in targets])
        for row in targets:
            result = db.session.execute(sa.update(table).where(
                table.c.id == row["id"], table.c.version == row["version"]).values(
                deleted=deleted, version=table.c.version + 1, **self._system_values(now)))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise self._stale(row["version"] + 1)
        for field_def in rows.subtable_fields(store).values():
            child = self.stores.get(str(field_def.get("entity")))
            if child is None:
                continue
            ct = child.table
            query = sa.select(ct).where(ct.c.parent_id.in_([r["id"] for r in targets]))
            if deleted:
                query = query.where(ct.c.deleted == sa.false())
            else:
                query = query.where(ct.c.deleted == sa.true(), ct.c.updated_at == deleted_at)
            children: Rows = [*db.session.execute(query.order_by(ct.c.id)).mappings()]
            if children:
                self._cascade(child, children, deleted, now, deleted_at)
        afters = rows.read_records(store, self.stores, [r["id"] for r in targets])
        action = audit.DELETE if deleted else audit.RESTORE
        for row in targets:
            audit.append(store, int(row["id"]), action, self.user_id, now,
                         befores.get(row["id"]), afters.get(row["id"]))

    # -- assignment -------------------------------------------------------------------------

    def set_owner(self, record_id: int, user_id: int | None, version: int | None = None, *,
                  field: str = "owner", expect: Any = ...) -> dict[str, Any]:
        """Give the record to ``user_id`` (``None``: to nobody) and return it.

        The assignee lives in the system ``owner`` column, which ``create`` and ``update``
        never take from input, or in a user ``field``. The change is audited and announced
        as an ``update`` like any other; guards see it first (engines pass through them
        inside ``events.acting``). ``version`` refuses a stale record with the usual 409.
        ``expect`` (unless ``...``) makes the write conditional on the current assignee
        (``None``: nobody): if another writer changed it first, ``Conflict`` with ``holder``
        (the assignee now) and nothing is written, so of two concurrent claims exactly one
        wins.
        """
        now = utcnow()
        try:
            row = self._live_row(record_id)
            if version is not None and row["version"] != version:
                raise self._stale(row["version"])
            column = self.store.table.c.owner if field == "owner" else self.store.columns[field]
            if expect is not ... and row[column.name] != expect:
                raise _taken(field, row[column.name])
            if row[column.name] == user_id:
                unchanged = self.get(record_id)
                self._done()
                return unchanged
            before = rows.to_output(self.store, row)
            rows.attach_children(self.store, self.stores, [before])
            changed = frozenset({field})
            events.record_hooks.check(self._change(
                events.UPDATE, now, before, dict(before, **{field: user_id}), None, record_id,
                changed))
            table = self.store.table
            result = db.session.execute(
                sa.update(table).where(table.c.id == record_id,
                                       table.c.version == row["version"])
                .values({column.name: user_id, "version": table.c.version + 1,
                         **self._system_values(now)}))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                current = rows.fetch_row(self.store, record_id)
                if expect is not ... and current is not None \
                        and current[column.name] != expect:
                    raise _taken(field, current[column.name])
                raise self._stale(current["version"] if current else 0)
            after = self.get(record_id)
            audit.append(self.store, record_id, audit.UPDATE, self.user_id, now, before, after)
            events.record_hooks.notify(self._change(events.UPDATE, now, before, after, None,
                                                    record_id, changed))
            if events.record_hooks.has_listeners:
                after = self.get(record_id)
            self._done()
        except BaseException:
            db.session.rollback()
            raise
        return after


def _taken(field: str, holder: int | None) -> Conflict:
    message = gettext("records.error.assignee_changed")
    return Conflict(message, [Problem(field, message, "taken")], holder=holder)
