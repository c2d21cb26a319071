"""Which column goes into which field: suggestions from titles, and checks of a mapping.

A column matches a field when its title equals the field's key or its title in any
language, ignoring case, spaces, required markers (``*``) and full-width punctuation, so
"客户名称*" and "Customer Name" both find ``customer_name`` titled 客户名称 / Customer name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from builder.errors import Problem, ValidationFailed
from builder.i18n import gettext, localized
from builder.runtime.storage.tables import EntityStore
from builder.schema.field_types import field_type_registry

#: types a spreadsheet cell cannot carry
NOT_IMPORTABLE = ("subtable", "attachment", "image")
MODES = ("all_or_nothing", "skip_bad")
_NOISE = re.compile(r"[\s*＊:：_\-（）()\[\]【】]+")


def normalize_title(text: Any) -> str:
    return _NOISE.sub("", str(text or "")).casefold()


def importable_fields(store: EntityStore) -> dict[str, Mapping[str, Any]]:
    """Fields a column may fill, in definition order."""
    return {key: f for key, f in store.fields.items()
            if key in store.columns and f["type"] not in NOT_IMPORTABLE
            and not field_type_registry.get(f["type"]).computed}


def suggest(store: EntityStore, headers: Sequence[str]) -> dict[str, str | None]:
    """Header → field key (or None), each field used once, first column wins."""
    names: dict[str, str] = {}
    for key, field_def in importable_fields(store).items():
        titles = field_def.get("title") or {}
        for name in [key, *(titles.values() if isinstance(titles, Mapping) else [titles])]:
            names.setdefault(normalize_title(name), key)
    used: set[str] = set()
    result: dict[str, str | None] = {}
    for header in headers:
        if not header:
            continue
        found = names.get(normalize_title(header))
        result[header] = found if found and found not in used else None
        if found:
            used.add(found)
    return result


def field_title(store: EntityStore, key: str) -> str:
    return localized(store.fields.get(key, {}).get("title")) or key


def check_options(store: EntityStore, stores: Mapping[str, EntityStore],
                  headers: Sequence[str], body: Mapping[str, Any]) -> dict[str, Any]:
    """The run options of an import, checked: every problem at once, each at its path."""
    problems: list[Problem] = []
    fields = importable_fields(store)
    mapping = body.get("mapping")
    clean: dict[str, str] = {}
    if not isinstance(mapping, Mapping) or not mapping:
        problems.append(Problem("mapping", gettext("documents.error.mapping_required"),
                                "required"))
        mapping = {}
    seen: dict[str, str] = {}
    for header, key in mapping.items():
        path = f"mapping.{header}"
        if key in (None, ""):
            continue
        if header not in headers:
            problems.append(Problem(path, gettext("documents.error.no_such_column",
                                                  column=header), "unknown_column"))
        elif not isinstance(key, str) or key not in fields:
            problems.append(Problem(path, gettext("documents.error.not_importable",
                                                  field=str(key)), "unknown_field"))
        elif key in seen:
            problems.append(Problem(path, gettext("documents.error.field_twice",
                                                  field=field_title(store, key),
                                                  other=seen[key]), "duplicate"))
        else:
            seen[key] = header
            clean[header] = key
    mode = body.get("mode", "all_or_nothing")
    if mode not in MODES:
        problems.append(Problem("mode", gettext("documents.error.bad_mode",
                                                modes=", ".join(MODES)), "invalid"))
    match = body.get("match") or {}
    if not isinstance(match, Mapping):
        problems.append(Problem("match", gettext("documents.error.bad_match"), "invalid"))
        match = {}
    for key, target_key in match.items():
        problems.extend(_check_match(store, stores, key, target_key))
    timezone = body.get("timezone", "Asia/Shanghai")
    if not _valid_timezone(timezone):
        problems.append(Problem("timezone", gettext("documents.error.bad_timezone"),
                                "invalid"))
    if problems:
        raise ValidationFailed(gettext("documents.error.bad_options"), problems)
    return {"mapping": clean, "mode": mode, "match": dict(match), "timezone": timezone}


def _check_match(store: EntityStore, stores: Mapping[str, EntityStore], key: Any,
                 target_key: Any) -> list[Problem]:
    """``match`` names, per relation field, the field of the related entity whose value the
    cells hold (default: its title field); users are matched by username or name."""
    path = f"match.{key}"
    field_def = store.fields.get(str(key))
    if field_def is None or field_def["type"] != "relation":
        return [Problem(path, gettext("documents.error.match_not_relation"), "invalid")]
    target = stores.get(str(field_def.get("entity")))
    if target is None or (target_key != "id" and target_key not in target.columns):
        return [Problem(path, gettext("documents.error.bad_match_field",
                                      field=str(target_key)), "invalid")]
    return []


def _valid_timezone(name: Any) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
