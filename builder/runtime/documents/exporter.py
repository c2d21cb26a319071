"""Records → .xlsx: a list view (its filter, columns and sort) as a person reads it.

Rows are read page by page through ``RecordService.list`` (so the caller's filters, search
and permissions apply exactly as on screen) and written with display values: option
titles, user names, related records' titles, dates as dates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from builder.errors import Problem, ValidationFailed
from builder.i18n import gettext, localized
from builder.runtime.documents import lookups
from builder.runtime.documents.sheets import write_xlsx
from builder.runtime.query.listing import MAX_LIMIT, ListQuery
from builder.runtime.records import RecordService
from builder.runtime.storage.tables import EntityStore

MAX_EXPORT_ROWS = 200_000
SYSTEM_COLUMNS = {"id": ("编号", "ID"), "created_at": ("创建时间", "Created"),
                  "updated_at": ("更新时间", "Updated"), "owner": ("负责人", "Owner")}


def view_query(store: EntityStore, view_key: str | None, args: Mapping[str, Any]
               ) -> tuple[ListQuery, list[str]]:
    """The list query and columns of a saved view, overridden by explicit arguments."""
    view: Mapping[str, Any] = {}
    if view_key:
        view = next((v for v in store.entity.get("views") or [] if v.get("key") == view_key),
                    {})
        if not view:
            message = gettext("documents.error.no_such_view", view=view_key)
            raise ValidationFailed(message, [Problem("view", message, "not_found")])
    sort = args.get("sort") or ",".join(
        ("-" if s.get("desc") else "") + s["field"] for s in view.get("sort") or [])
    columns = args.get("fields") or list(view.get("columns") or []) or [
        k for k, f in store.fields.items() if f["type"] != "subtable"]
    view_filter = view.get("filter")
    given = args.get("filter")
    combined = {"and": [view_filter, given]} if view_filter and given else (
        view_filter or given)
    unknown = [c for c in columns if c not in store.fields and c not in SYSTEM_COLUMNS]
    if unknown:
        message = gettext("records.error.bad_fields", fields=", ".join(unknown))
        raise ValidationFailed(message, [Problem("fields", message, "unknown")])
    return ListQuery(filter=combined, sort=sort or None, limit=MAX_LIMIT, q=args.get("q"),
                     fields=[c for c in columns if c in store.fields]), columns


def _pages(service: RecordService, query: ListQuery, first: Mapping[str, Any]
           ) -> Iterator[list[dict[str, Any]]]:
    seen = 0
    page = first
    while True:
        items = page["items"]
        seen += len(items)
        if items:
            yield items
        if not page.get("next_cursor") or seen >= MAX_EXPORT_ROWS:
            return
        query = ListQuery(filter=query.filter, sort=query.sort, limit=query.limit,
                          cursor=page["next_cursor"], fields=query.fields, q=query.q)
        page = service.list(query)


class Displayer:
    """Stored JSON values of an entity → what a person reads in a spreadsheet cell."""

    def __init__(self, store: EntityStore, stores: Mapping[str, EntityStore]) -> None:
        self.store = store
        self.stores = stores

    def prepare(self, items: Sequence[Mapping[str, Any]], columns: Sequence[str]
                ) -> tuple[dict[int, str], dict[str, dict[int, str]]]:
        user_ids: set[int] = set()
        related: dict[str, set[int]] = {}
        for key in columns:
            field_def = self.store.fields.get(key, {})
            for item in items:
                value = item.get(key)
                if key == "owner" or field_def.get("type") == "user":
                    if isinstance(value, int):
                        user_ids.add(value)
                elif field_def.get("type") == "relation" and isinstance(value, int):
                    related.setdefault(str(field_def["entity"]), set()).add(value)
        users = lookups.user_names(self.store.tenant_id, user_ids)
        titles = {entity: lookups.record_titles(self.stores[entity], ids)
                  for entity, ids in related.items() if entity in self.stores}
        return users, titles

    def value(self, key: str, value: Any, users: Mapping[int, str],
              titles: Mapping[str, Mapping[int, str]]) -> Any:
        if value is None:
            return None
        field_def = self.store.fields.get(key, {})
        kind = field_def.get("type", "")
        if key == "owner" or kind == "user":
            return users.get(value, f"#{value}")
        if key in ("created_at", "updated_at") or kind == "datetime":
            return _local(value)
        if kind == "date":
            return date.fromisoformat(str(value))
        if kind == "select":
            return lookups.option_title(field_def, value)
        if kind == "multi_select":
            return "、".join(lookups.option_title(field_def, v) for v in value)
        if kind == "relation":
            return titles.get(str(field_def.get("entity")), {}).get(value, f"#{value}")
        if kind == "boolean":
            return gettext("documents.value.yes" if value else "documents.value.no")
        if kind in ("attachment", "image"):
            return "、".join(str(f.get("name", "")) for f in value if isinstance(f, Mapping))
        if kind in ("number", "money", "percent") and isinstance(value, str):
            return Decimal(value)
        return value


def _local(value: Any) -> Any:
    from zoneinfo import ZoneInfo

    if not isinstance(value, str):
        return value
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)


def column_title(store: EntityStore, key: str) -> str:
    if key in SYSTEM_COLUMNS:
        zh, en = SYSTEM_COLUMNS[key]
        return localized({"zh-CN": zh, "en": en})
    return localized(store.fields[key].get("title")) or key


def export_records(service: RecordService, query: ListQuery, columns: Sequence[str],
                   out: IO[bytes]) -> int:
    """Write the records of ``query`` to ``out`` as .xlsx; returns the row count."""
    store = service.store
    displayer = Displayer(store, service.stores)
    first = service.list(query)  # a bad filter or sort fails here, before any byte is written

    def rows() -> Iterator[list[Any]]:
        for items in _pages(service, query, first):
            users, titles = displayer.prepare(items, columns)
            for item in items:
                yield [displayer.value(c, item.get(c), users, titles) for c in columns]

    title = localized(store.entity.get("title")) or store.key
    return write_xlsx(out, title, [column_title(store, c) for c in columns], rows())
