"""What crosses tenants by name instead of id: users (by username), records (by package-local
key), files (by path inside the package).

A package never holds a database id. Users appear as ``{"$user": "username"}`` in data and
in definitions (approvers, assignment pools...), records as ``{"$ref": "entity:key"}``.
The target tenant maps each name to its own id; a username it does not have is recorded
with every place that named it, for the report, and the value is left empty.
"""

from __future__ import annotations

import io
import mimetypes
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from builder.errors import NotFound, Problem, ValidationFailed
from builder.extensions import db
from builder.i18n import gettext
from builder.market.package import Package, safe_path
from builder.platform.models import User
from builder.runtime.records.files import open_file, safe_name, save_upload

USER, REF, FILE = "$user", "$ref", "$file"
#: definition sections whose ``users`` lists and ``user`` values hold user ids
PROCESS_SECTIONS = ("approval_chains", "assignment_rules", "automations", "sla_policies")
MAX_PLACES = 20


def is_marker(value: Any, marker: str) -> bool:
    return isinstance(value, Mapping) and marker in value


class UserNames:
    """The source side: user id → username, for exports."""

    def __init__(self, tenant_id: int) -> None:
        self.names: dict[int, str] = dict(db.session.execute(
            sa.select(User.id, User.username).where(User.tenant_id == tenant_id)).all())

    def ref(self, user_id: Any) -> dict[str, str] | None:
        name = self.names.get(user_id) if isinstance(user_id, int) else None
        return {USER: name} if name is not None else None

    def name(self, user_id: Any) -> str | None:
        return self.names.get(user_id) if isinstance(user_id, int) else None


class UserMap:
    """The target side: username → user id, and the usernames it could not map."""

    def __init__(self, tenant_id: int) -> None:
        self.ids: dict[str, int] = dict(db.session.execute(
            sa.select(User.username, User.id).where(User.tenant_id == tenant_id)).all())
        self.missing: dict[str, list[str]] = {}
        self.counts: dict[str, int] = {}

    def id_of(self, username: Any, place: str) -> int | None:
        if username is None:
            return None
        found = self.ids.get(str(username))
        if found is None:
            name = str(username)
            self.counts[name] = self.counts.get(name, 0) + 1
            places = self.missing.setdefault(name, [])
            if len(places) < MAX_PLACES:
                places.append(place)
        return found

    def resolve(self, value: Any, place: str) -> int | None:
        """``{"$user": name}`` (or a bare username) → the target's user id, or None."""
        if is_marker(value, USER):
            return self.id_of(value[USER], place)
        if isinstance(value, str):
            return self.id_of(value, place)
        return None

    def report(self) -> list[dict[str, Any]]:
        return [{"username": name, "count": self.counts[name], "places": places}
                for name, places in sorted(self.missing.items())]


def _walk_path(path: str, item: Any, index: int) -> str:
    key = item.get("key") if isinstance(item, Mapping) else None
    return _join(path, key) if isinstance(key, str) else f"{path}[{index}]"


def _join(path: str, key: str) -> str:
    """``file#a.b``: the first step after a file name follows ``#``."""
    return f"{path}{key}" if path.endswith("#") else f"{path}.{key}"


def users_to_names(definition: Mapping[str, Any], names: UserNames) -> dict[str, Any]:
    """A definition for export: user ids in process sections become ``{"$user": name}``;
    ids of users the tenant no longer has are left out (they resolve to nobody)."""

    def walk(value: Any) -> Any:
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if key == "users" and isinstance(item, list) and all(
                        isinstance(v, int) and not isinstance(v, bool) for v in item):
                    out[key] = [r for r in (names.ref(v) for v in item) if r is not None]
                elif key == "user" and isinstance(item, int) and not isinstance(item, bool):
                    out[key] = names.ref(item)
                else:
                    out[key] = walk(item)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    result = dict(definition)
    for section in PROCESS_SECTIONS:
        if section in result:
            result[section] = walk(result[section])
    return result


def names_to_users(value: Any, users: UserMap, path: str) -> Any:
    """Every ``{"$user": name}`` in a definition → the target's user id; in a list an
    unmapped user is left out, elsewhere it becomes ``None``."""
    if is_marker(value, USER):
        return users.resolve(value, path)
    if isinstance(value, Mapping):
        return {k: names_to_users(v, users, _join(path, k)) for k, v in value.items()}
    if isinstance(value, list):
        out = []
        for index, item in enumerate(value):
            resolved = names_to_users(item, users, _walk_path(path, item, index))
            if not (is_marker(item, USER) and resolved is None):
                out.append(resolved)
        return out
    return value


class FileLoader:
    """Files of a package stored as uploads of the target tenant, each once."""

    def __init__(self, package: Package, tenant_id: int, user_id: int | None) -> None:
        self.package = package
        self.tenant_id = tenant_id
        self.user_id = user_id
        self.stored: dict[str, dict[str, Any]] = {}

    def load(self, ref: Mapping[str, Any], place: str) -> dict[str, Any]:
        """The stored descriptor of ``{"$file": path, "name"?, "content_type"?}``."""
        path = ref.get(FILE)
        if not safe_path(path) or path not in self.package.files:
            raise ValidationFailed(gettext("market.error.invalid_data"), [Problem(
                place, gettext("market.error.missing_file", path=path), "missing_file")])
        if path not in self.stored:
            name = str(ref.get("name") or path.rsplit("/", 1)[-1])
            declared = ref.get("content_type") or mimetypes.guess_type(name)[0]
            self.stored[path] = save_upload(self.tenant_id, self.user_id,
                                            io.BytesIO(self.package.files[path]), name,
                                            declared)
        return self.stored[path]


class FileCollector:
    """Files referenced by exported records, gathered under ``files/<id>/<name>``."""

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id
        self.files: dict[str, bytes] = {}
        self.missing: list[str] = []

    def add(self, descriptor: Mapping[str, Any]) -> dict[str, Any] | None:
        try:
            desc, path = open_file(self.tenant_id, str(descriptor.get("id")))
        except NotFound:  # a file gone from disk is reported, not fatal
            self.missing.append(str(descriptor.get("id")))
            return None
        target = f"files/{desc['id']}/{safe_name(desc['name'])}"
        if target not in self.files:
            self.files[target] = path.read_bytes()
        return {FILE: target, "name": desc["name"], "content_type": desc["content_type"]}


class RecordKeys:
    """Package-local record keys → record ids, per ``app.entity`` (kept by the install)."""

    def __init__(self, stored: Mapping[str, Mapping[str, int]] | None = None) -> None:
        self.ids: dict[str, dict[str, int]] = {k: dict(v) for k, v in (stored or {}).items()}

    def get(self, app: str, ref: Any) -> int | None:
        """The id of ``"entity:key"``, or None."""
        if not isinstance(ref, str) or ":" not in ref:
            return None
        entity, key = ref.split(":", 1)
        return self.ids.get(f"{app}.{entity}", {}).get(key)

    def has(self, app: str, entity: str, key: Any) -> bool:
        return isinstance(key, str) and key in self.ids.get(f"{app}.{entity}", {})

    def put(self, app: str, entity: str, key: Any, record_id: int) -> None:
        if isinstance(key, str):
            self.ids.setdefault(f"{app}.{entity}", {})[key] = record_id

    def as_json(self) -> dict[str, dict[str, int]]:
        return {k: dict(v) for k, v in self.ids.items() if v}


def entity_order(entities: list[str], stores: Mapping[str, Any]) -> list[str]:
    """Entities with the ones their relations point at first (as far as cycles allow),
    otherwise in the given order."""
    targets = {key: {str(f.get("entity")) for f in stores[key].fields.values()
                     if f.get("type") == "relation" and f.get("entity") != key}
               for key in entities}
    order: list[str] = []
    pending = list(entities)
    while pending:
        ready = next((k for k in pending if not (targets[k] & set(pending))), pending[0])
        order.append(ready)
        pending.remove(ready)
    return order


def child_entities(stores: Mapping[str, Any]) -> dict[str, str]:
    """Entities whose rows live inside a parent's sub-table field: child → parent."""
    return {str(f.get("entity")): parent for parent, store in stores.items()
            for f in store.fields.values() if f.get("type") == "subtable"}
