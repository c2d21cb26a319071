"""What changed between two versions of a definition, matched by key (never by position).

Each part that has a key becomes one ``Change`` when it is added, removed or changed. A
renamed key is a removal and an addition; moving an item among its siblings is a change of
its ``order``. ``before``/``after`` hold the item without its own keyed children (an
entity without its fields, forms..., a stage flow without its stages): those are changes of
their own, listed right after their parent, also when the parent is added or removed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from builder.i18n import gettext, localized

Op = Literal["add", "remove", "change"]


@dataclass(frozen=True)
class Change:
    op: Op
    kind: str
    path: tuple[str, ...]
    before: Any = None
    after: Any = None
    properties: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"op": self.op, "kind": self.kind, "path": list(self.path),
                "before": self.before, "after": self.after, "properties": self.properties}


#: top-level collections: (property, kind, keyed children as (property, kind))
SECTIONS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("entities", "entity", (("fields", "field"), ("validations", "validation"),
                            ("forms", "form"), ("views", "view"))),
    ("stage_flows", "stage_flow", (("stages", "stage"),)),
    ("approval_chains", "approval_chain", ()),
    ("automations", "automation", ()),
    ("assignment_rules", "assignment_rule", ()),
    ("sla_policies", "sla_policy", ()),
    ("metrics", "metric", ()),
    ("dashboards", "dashboard", ()),
    ("roles", "role", ()),
    ("effects", "effect", ()),
    ("thresholds", "threshold", ()),
    ("public_forms", "public_form", ()),
    ("inbound_webhooks", "inbound_webhook", ()),
    ("alerts", "alert", ()),
    ("reports", "report", ()),
)
ORDER = "order"


def _by_key(items: Any) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("key"), str):
            result.setdefault(item["key"], dict(item))
    return result


def _strip(item: Mapping[str, Any] | None, names: tuple[str, ...]) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: v for k, v in item.items() if k not in names}


def _moved(old: list[str], new: list[str]) -> set[str]:
    """Keys present in both lists that moved: those outside a longest common subsequence."""
    common = set(old) & set(new)
    a = [k for k in old if k in common]
    b = [k for k in new if k in common]
    lengths = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            lengths[i][j] = (lengths[i + 1][j + 1] + 1 if a[i] == b[j]
                             else max(lengths[i + 1][j], lengths[i][j + 1]))
    kept: set[str] = set()
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            kept.add(a[i])
            i, j = i + 1, j + 1
        elif lengths[i + 1][j] >= lengths[i][j + 1]:
            i += 1
        else:
            j += 1
    return common - kept


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def _collection(old_items: Any, new_items: Any, kind: str, prefix: tuple[str, ...],
                children: tuple[tuple[str, str], ...]) -> Iterator[Change]:
    old, new = _by_key(old_items), _by_key(new_items)
    moved = _moved(list(old), list(new))
    child_names = tuple(name for name, _ in children)
    for key in [*new, *(k for k in old if k not in new)]:
        before, after = old.get(key), new.get(key)
        path = (*prefix, key)
        stripped_before, stripped_after = _strip(before, child_names), _strip(after, child_names)
        if before is None:
            yield Change("add", kind, path, None, stripped_after)
        elif after is None:
            yield Change("remove", kind, path, stripped_before, None)
        else:
            properties = _changed(stripped_before or {}, stripped_after or {})
            if key in moved:
                properties = sorted([*properties, ORDER])
            if properties:
                yield Change("change", kind, path, stripped_before, stripped_after, properties)
        for name, child_kind in children:
            yield from _collection((before or {}).get(name), (after or {}).get(name),
                                   child_kind, path, ())


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[Change]:
    """Every change from ``old`` (``None`` for a new app) to ``new``, in a stable order."""
    sections = tuple(name for name, _, _ in SECTIONS)
    changes: list[Change] = []
    app_after = _strip(new, sections)
    if old is None:
        changes.append(Change("add", "app", (), None, app_after))
    else:
        app_before = _strip(old, sections) or {}
        properties = _changed(app_before, app_after or {})
        if properties:
            changes.append(Change("change", "app", (), app_before, app_after, properties))
    for name, kind, children in SECTIONS:
        changes.extend(_collection((old or {}).get(name), new.get(name), kind, (), children))
    return changes


# -- sentences ----------------------------------------------------------------------------


def _label(key: str, fallback: str, language: str | None) -> str:
    text = gettext(key, language)
    return fallback if text == key else text


def _title(item: Any, key: str, language: str | None) -> str:
    title = item.get("title") if isinstance(item, Mapping) else None
    return localized(title, language) or key


def _type_name(type_name: Any, language: str | None) -> str:
    return _label(f"field.type.{type_name}", str(type_name), language)


def summarize(changes: list[Change], language: str | None = None) -> list[str]:
    """One short sentence per change (two when a field's type and more changed)."""
    sentences: list[str] = []
    for change in changes:
        kind = _label(f"schema.kind.{change.kind}", change.kind, language)
        key = change.path[-1] if change.path else ""
        item = change.after if change.after is not None else change.before
        title = _title(item, key, language)
        if change.op in ("add", "remove"):
            sentences.append(gettext(f"schema.change.{change.op}", language,
                                     kind=kind, title=title))
            continue
        rest = list(change.properties)
        if change.kind == "field" and "type" in rest:
            rest.remove("type")
            sentences.append(gettext(
                "schema.change.field_type", language, title=title,
                before=_type_name(change.before.get("type"), language),
                after=_type_name(change.after.get("type"), language)))
        if "title" in rest:
            rest.remove("title")
            sentences.append(gettext("schema.change.renamed", language, kind=kind,
                                     before=_title(change.before, key, language), after=title))
        if rest == [ORDER]:
            sentences.append(gettext("schema.change.order", language, kind=kind, title=title))
        elif rest:
            names = [_label(f"schema.property.{name}", name, language) for name in rest]
            separator = gettext("schema.change.separator", language)
            sentences.append(gettext("schema.change.change", language, kind=kind, title=title,
                                     properties=separator.join(names)))
    return sentences
