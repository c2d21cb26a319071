"""A permission matrix read from a package's definition: for each role, each entity, what
the role may do, the rows its scope reaches and the fields it may not read or write.

The expectations come from the definition alone (the union of a role's grants), so a
harness can check any package's roles route by route without knowing the package."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SCOPE_PRESETS: dict[str, Any] = {
    "all": None,
    "own": {"==": [{"var": "owner"}, {"var": "$user.id"}]},
    "team": {"in": [{"var": "owner"}, {"var": "$user.team_member_ids"}]},
    "managed": {"in": [{"var": "owner"}, {"var": "$user.managed_user_ids"}]},
}


@dataclass(frozen=True)
class Expected:
    """What one role may do with one entity."""

    actions: frozenset[str]
    scopes: tuple[Any, ...]  # of the grants allowing read; None reaches every row
    hidden: frozenset[str]
    locked: frozenset[str]

    def reaches(self, record: Mapping[str, Any], user: Mapping[str, Any]) -> bool:
        from builder.runtime.rules.evaluator import evaluate

        data = {**record, "$user": user}
        return any(scope is None or bool(evaluate(scope, data)) for scope in self.scopes)


def expected(definition: Mapping[str, Any], role_key: str, entity: Mapping[str, Any]
             ) -> Expected:
    """The rights a role grants on an entity (an app whose roles grant nothing is open)."""
    fields = frozenset(f["key"] for f in entity.get("fields") or ())
    if not any(r.get("permissions") for r in definition.get("roles") or ()):
        every = frozenset({"create", "read", "update", "delete", "export", "import",
                           "approve", "print"})
        return Expected(every, (None,), frozenset(), frozenset())
    grants = [p for r in definition.get("roles") or () if r.get("key") == role_key
              for p in r.get("permissions") or () if p.get("entity") in (entity["key"], "*")]
    actions = frozenset(a for g in grants for a in g.get("actions") or ())
    readers = [g for g in grants if "read" in (g.get("actions") or ())]
    writers = [g for g in grants if {"create", "update"} & set(g.get("actions") or ())]

    def hidden_of(grant: Mapping[str, Any], readonly: bool = False) -> frozenset[str]:
        spec = grant.get("fields") or {}
        names = set(spec.get("hidden") or ()) | (set(spec.get("readonly") or ()) if readonly
                                                 else set())
        return frozenset(names)

    hidden = frozenset.intersection(*[hidden_of(g) for g in readers]) & fields \
        if readers else fields
    locked = frozenset.intersection(*[hidden_of(g, True) for g in writers]) & fields \
        if writers else fields
    scopes = tuple(_scope(g.get("scope")) for g in readers)
    return Expected(actions, scopes, hidden, locked)


def _scope(scope: Any) -> Any:
    if isinstance(scope, str):
        return SCOPE_PRESETS[scope]
    return None if scope in (None, True) else scope


def team_fields(definition: Mapping[str, Any]) -> set[str]:
    """Fields that scopes compare with the user's teams (``{"in": [{"var": f},
    {"var": "$user.teams"}]}``), to give each role's user a team that has rows."""
    found: set[str] = set()

    def walk(logic: Any) -> None:
        if isinstance(logic, list):
            for item in logic:
                walk(item)
        elif isinstance(logic, Mapping):
            args = logic.get("in")
            if isinstance(args, list) and len(args) == 2 and args[1] == {"var": "$user.teams"} \
                    and isinstance(args[0], Mapping) and isinstance(args[0].get("var"), str):
                found.add(args[0]["var"])
            for value in logic.values():
                walk(value)

    for role in definition.get("roles") or ():
        for permission in role.get("permissions") or ():
            walk(permission.get("scope"))
    return found
