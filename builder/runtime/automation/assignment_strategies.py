"""Assignment strategies: how a rule item picks one user for one record.

One class per strategy, registered in ``strategy_registry`` under the name the app
definition uses (``rules[].strategy``). A strategy gets a ``Pick`` (the record, the rule
item and access to pools, loads and the rotation cursor) and returns a user id, or
``None`` when nobody in its pool can take the record (the next matching item is tried).
Every candidate list passes ``Pick.eligible``: excluded users, unavailable users (with
``available_only``) and users at ``max_open`` drop out.

Strategies run under the rule's row lock (see ``assignment_pools.lock_rule``), so the
rotation and the loads they read cannot change underneath them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from builder.registry import Registrable, Registry
from builder.runtime.automation import assignment_pools as pools
from builder.runtime.storage.tables import EntityStore


@dataclass
class Pick:
    """One record to give to someone under one rule item."""

    store: EntityStore
    rule: Mapping[str, Any]
    item: Mapping[str, Any]
    #: the item's rotation scope (its key, else its position)
    scope: str
    record: Mapping[str, Any]
    #: ``$``-values of the rule's conditions
    context: Mapping[str, Any]
    exclude: frozenset[int] = frozenset()
    #: pools, availability and rotation positions read so far in this transaction (which
    #: holds the rule's lock, so the positions cannot change underneath)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def tenant_id(self) -> int:
        return self.store.tenant_id

    def members(self, pool: Mapping[str, Any] | None) -> list[int]:
        key = f"pool:{sorted((pool or {}).items())!r}"
        if key not in self.cache:
            self.cache[key] = pools.pool_members(self.tenant_id, pool)
        members: list[int] = self.cache[key]
        return members

    def available(self, user_ids: list[int]) -> list[int]:
        key = f"available:{user_ids!r}"
        if key not in self.cache:
            self.cache[key] = pools.available(self.tenant_id, user_ids)
        available: list[int] = self.cache[key]
        return available

    def loads(self, user_ids: Sequence[int]) -> dict[int, int]:
        return pools.open_loads(self.store, self.rule["field"], user_ids, self.rule.get("open"),
                                self.context)

    def eligible(self, user_ids: Sequence[int], *, only_available: bool = False) -> list[int]:
        """``user_ids`` minus the excluded, the unavailable (when asked) and those at
        ``max_open``, ascending."""
        ids = sorted(u for u in user_ids if u not in self.exclude)
        if ids and (only_available or self.item.get("available_only")):
            ids = self.available(ids)
        limit = self.item.get("max_open")
        if ids and limit:
            loads = self.loads(ids)
            ids = [u for u in ids if loads[u] < limit]
        return ids

    def last(self, scope: str) -> int | None:
        key = f"last:{scope}"
        if key not in self.cache:
            self.cache[key] = pools.last_assignee(self.tenant_id, self.store.app_key,
                                                  self.rule["key"], scope)
        last: int | None = self.cache[key]
        return last

    def advance(self, scope: str, user_id: int) -> None:
        pools.advance(self.tenant_id, self.store.app_key, self.rule["key"], scope, user_id)
        self.cache[f"last:{scope}"] = user_id


class AssignmentStrategy(Registrable):
    """Picks the next user: ``candidates`` says who may, ``choose`` which one."""

    type = ""
    only_available = False

    def pick(self, pick: Pick) -> int | None:
        """The chosen user (the rotation cursor advanced to them), or ``None``."""
        scope, candidates = self.candidates(pick)
        if not candidates:
            return None
        user_id = self.choose(pick, candidates, pick.last(scope))
        pick.advance(scope, user_id)
        return user_id

    def candidates(self, pick: Pick) -> tuple[str, list[int]]:
        """The rotation scope and the eligible users, ascending."""
        members = pick.members(pick.item.get("pool"))
        return pick.scope, pick.eligible(members, only_available=self.only_available)

    def choose(self, pick: Pick, candidates: list[int], last: int | None) -> int:
        raise NotImplementedError


strategy_registry: Registry[AssignmentStrategy] = Registry("assignment strategy")


@strategy_registry.register
class RoundRobin(AssignmentStrategy):
    """Each record to the next user after the one who got the previous record."""

    type = "round_robin"

    def choose(self, pick: Pick, candidates: list[int], last: int | None) -> int:
        return pools.in_rotation(candidates, last)[0]


@strategy_registry.register
class AvailableOnly(RoundRobin):
    """Round robin among the users marked available (空闲销售优先承接)."""

    type = "available_only"
    only_available = True


@strategy_registry.register
class LeastOpen(AssignmentStrategy):
    """To the user holding the fewest open records; ties go round robin."""

    type = "least_open"

    def choose(self, pick: Pick, candidates: list[int], last: int | None) -> int:
        loads = pick.loads(candidates)
        return min(pools.in_rotation(candidates, last), key=lambda user: loads[user])


@strategy_registry.register
class FieldBased(AssignmentStrategy):
    """From a field of the record: the user in a user field (``source``), or the pool
    that ``map`` gives for the field's value (several users there take turns)."""

    type = "field"

    def candidates(self, pick: Pick) -> tuple[str, list[int]]:
        value = pick.record.get(pick.item["source"])
        mapping = pick.item.get("map")
        if mapping is not None:
            pool = mapping.get(str(value)) if value is not None else None
            members = pick.members(pool) if pool else []
            return f"{pick.scope}:{value}", pick.eligible(members)
        if not isinstance(value, int) or isinstance(value, bool):
            return pick.scope, []
        allowed = pick.members(pick.item["pool"]) if pick.item.get("pool") \
            else pools.pool_members(pick.tenant_id, {"users": [value]})
        return pick.scope, pick.eligible([value] if value in allowed else [])

    def choose(self, pick: Pick, candidates: list[int], last: int | None) -> int:
        return pools.in_rotation(candidates, last)[0]
