"""What stops a record from moving to a stage, in words a sales rep understands.

A move ``from`` → ``to`` needs (see ``stage_flow`` for the kinds of moves):

- on an advancing move (forward or skip), the ``exit`` rule and the ``deliverables`` of the
  stage being left;
- on every move, the ``entry`` rule of the stage entered and its ``reason_field`` filled in.

Each unmet condition is one ``Problem`` whose path is the field to work on. A rule that is
an ``and`` is split into its parts, and each failing part is described: "fill in X" for
``{"!!": {"var": "x"}}`` or ``missing``, "X needs at least N (now M)" for a comparison of a
``$count`` name with a number, otherwise "the condition on X, Y is not met". A stage's
``entry_message`` / ``exit_message`` replaces the description of its rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from builder.errors import Problem
from builder.i18n import gettext, localized
from builder.runtime.records.counts import count_pointing
from builder.runtime.records.formulas import rule_data
from builder.runtime.rules.evaluator import RuleError, evaluate, js_get, truthy
from builder.runtime.storage.tables import EntityStore
from builder.runtime.workflow.stage_flow import ADVANCING, Stage, StageFlow
from builder.schema.counts import COUNT_VAR, COUNTED_TYPES
from builder.schema.field_types import field_type_registry

ENTRY, EXIT = "entry", "exit"


class Criteria:
    """Checks the conditions of the moves of one record, as the record is (or would be)."""

    def __init__(self, flow: StageFlow, store: EntityStore,
                 stores: Mapping[str, EntityStore], record: Mapping[str, Any],
                 context: Mapping[str, Any]) -> None:
        self.flow = flow
        self.store = store
        self.stores = stores
        self.record = record
        self.data = rule_data(record, context)

    def unmet(self, frm: str | None, to: str, kind: str) -> list[Problem]:
        """Every condition the move ``frm`` → ``to`` (a move of ``kind``) does not meet."""
        problems: list[Problem] = []
        source = self.flow.by_key.get(frm) if frm else None
        if source is not None and kind in ADVANCING:
            problems += self._rule(source, EXIT)
            problems += self._deliverables(source)
        target = self.flow.by_key[to]
        problems += self._rule(target, ENTRY)
        reason = target.data.get("reason_field")
        if isinstance(reason, str) and reason in self.store.fields and self._empty(reason):
            problems.append(Problem(reason, gettext(
                "stages.unmet.reason", stage=target.title, field=self._title(reason)),
                "reason_required"))
        return problems

    # -- rules ------------------------------------------------------------------------------

    def _rule(self, stage: Stage, side: str) -> list[Problem]:
        logic = stage.data.get(side)
        if logic is None or self._holds(logic):
            return []
        custom = localized(stage.data.get(f"{side}_message"))
        if custom:
            return [Problem(self._subject(logic), custom, f"{side}_criteria")]
        problems: list[Problem] = []
        for part in _conjuncts(logic):
            if not self._holds(part):
                problems += self._describe(part, stage, side)
        return problems

    def _holds(self, logic: Any) -> bool:
        try:
            return truthy(evaluate(logic, self.data))
        except RuleError:
            return False

    def _describe(self, logic: Any, stage: Stage, side: str) -> list[Problem]:
        names = {"stage": stage.title}
        filled = _filled_var(logic)
        if filled is not None and not filled.startswith("$"):
            return [self._fill(filled, stage, side)]
        if isinstance(logic, Mapping) and "missing" in logic:
            try:
                missing = evaluate(logic, self.data)
            except RuleError:
                missing = None
            if isinstance(missing, list) and missing:
                return [self._fill(str(name), stage, side) for name in missing]
        least = _count_at_least(logic)
        if filled is not None and filled.startswith(f"{COUNT_VAR}."):
            least = (filled, 1)
        if least is not None:
            name, minimum = least
            return [self._count(name[len(COUNT_VAR) + 1:], minimum,
                                js_get(self.data, name), stage, side)]
        fields = dict.fromkeys(self._title_of_var(n) for n in _record_vars(logic))
        listed = gettext("stages.separator").join(fields) or "—"
        text = gettext(f"stages.unmet.{side}_rule", fields=listed, **names)
        return [Problem(self._subject(logic), text, f"{side}_criteria")]

    def _subject(self, logic: Any) -> str:
        """The path of a rule's problem: the first field it reads, else ``to``."""
        first = next(_record_vars(logic), None)
        return self._path(first) if first else "to"

    # -- deliverables -----------------------------------------------------------------------

    def _deliverables(self, stage: Stage) -> list[Problem]:
        problems: list[Problem] = []
        for item in stage.data.get("deliverables") or []:
            if not isinstance(item, Mapping) or not isinstance(item.get("field"), str):
                continue
            field, entity = item["field"], item.get("entity")
            minimum = int(item.get("min_count") or 1)
            custom = localized(item.get("message"))
            if isinstance(entity, str):
                target = self.stores.get(entity)
                if target is None:
                    continue
                have = count_pointing(target, field, self.record.get("id"))
                if have < minimum:
                    problems.append(Problem(entity, custom or self._count_text(
                        localized(target.entity.get("title")) or entity, minimum, have,
                        stage, EXIT), "deliverable"))
                continue
            if field not in self.store.fields:
                continue
            if self.store.fields[field].get("type") in COUNTED_TYPES:
                value = self.record.get(field)
                have = len(value) if isinstance(value, list) else 0
                if have < minimum:
                    problems.append(Problem(field, custom or self._count_text(
                        self._title(field), minimum, have, stage, EXIT), "deliverable"))
            elif self._empty(field):
                problems.append(Problem(field, custom or self._fill(field, stage, EXIT).message,
                                        "deliverable"))
        return problems

    # -- wording ----------------------------------------------------------------------------

    def _fill(self, field: str, stage: Stage, side: str) -> Problem:
        verb = "upload" if self._type(field) in ("attachment", "image") else "fill"
        return Problem(self._path(field), gettext(
            f"stages.unmet.{side}_{verb}", stage=stage.title, field=self._title(field)),
            f"{side}_criteria")

    def _count(self, name: str, minimum: int, have: Any, stage: Stage, side: str) -> Problem:
        return Problem(self._path(f"{COUNT_VAR}.{name}"), self._count_text(
            self._count_title(name), minimum, have if isinstance(have, int) else 0, stage, side),
            f"{side}_criteria")

    @staticmethod
    def _count_text(title: str, minimum: int, have: int, stage: Stage, side: str) -> str:
        return gettext(f"stages.unmet.{side}_count", stage=stage.title, field=title,
                       min=minimum, count=have)

    def _count_title(self, name: str) -> str:
        head, _, rest = name.partition(".")
        if head in self.store.fields or not rest:
            return self._title(head)
        target = self.stores.get(head)
        return localized(target.entity.get("title")) if target is not None else head

    def _title_of_var(self, name: str) -> str:
        if name.startswith(f"{COUNT_VAR}."):
            return self._count_title(name[len(COUNT_VAR) + 1:])
        return self._title(name.split(".", 1)[0])

    def _title(self, field: str) -> str:
        definition = self.store.fields.get(field)
        return (localized(definition.get("title")) or field) if definition else field

    def _type(self, field: str) -> str | None:
        definition = self.store.fields.get(field)
        return definition.get("type") if definition else None

    def _path(self, name: str) -> str:
        """The field (or pointing entity) a rule's variable is about."""
        if name.startswith(f"{COUNT_VAR}."):
            head = name[len(COUNT_VAR) + 1:].split(".", 1)[0]
            return head
        return name.split(".", 1)[0]

    def _empty(self, field: str) -> bool:
        definition = self.store.fields[field]
        value = self.record.get(field)
        return bool(field_type_registry.get(definition["type"]).is_empty(value))


def _conjuncts(logic: Any) -> Iterator[Any]:
    if isinstance(logic, Mapping) and len(logic) == 1 and "and" in logic \
            and isinstance(logic["and"], list):
        for part in logic["and"]:
            yield from _conjuncts(part)
    else:
        yield logic


def _var_of(value: Any) -> str | None:
    if isinstance(value, Mapping) and len(value) == 1 and "var" in value:
        name = value["var"]
        if isinstance(name, list):
            name = name[0] if name else None
        return name if isinstance(name, str) and name else None
    return None


def _filled_var(logic: Any) -> str | None:
    """``x`` when the rule only asks for ``x`` to have a value."""
    if not isinstance(logic, Mapping) or len(logic) != 1:
        return _var_of(logic)
    op, args = next(iter(logic.items()))
    arg = args[0] if isinstance(args, list) and len(args) == 1 else args
    if op == "!!":
        return _var_of(arg)
    if op == "!" and isinstance(arg, Mapping) and "!" in arg:
        inner = arg["!"]
        return _var_of(inner[0] if isinstance(inner, list) and len(inner) == 1 else inner)
    if op in ("!=", "!==") and isinstance(args, list) and len(args) == 2 \
            and args[1] in (None, ""):
        return _var_of(args[0])
    return None


def _count_at_least(logic: Any) -> tuple[str, int] | None:
    """``($count.x, n)`` when the rule asks for at least ``n`` of ``x``."""
    if not isinstance(logic, Mapping) or len(logic) != 1:
        return None
    op, args = next(iter(logic.items()))
    if op not in (">=", ">", "<=", "<") or not isinstance(args, list) or len(args) != 2:
        return None
    left, right = args
    if op in ("<=", "<"):
        left, right = right, left
        op = ">=" if op == "<=" else ">"
    name = _var_of(left)
    if name is None or not name.startswith(f"{COUNT_VAR}.") or isinstance(right, bool) \
            or not isinstance(right, int | float):
        return None
    minimum = int(right) + 1 if op == ">" else int(-(-right // 1))
    return name, max(minimum, 1)


def _var_names(logic: Any) -> Iterator[str]:
    """Every variable a rule reads, in order."""
    name = _var_of(logic)
    if name is not None:
        yield name
    elif isinstance(logic, Mapping):
        for op, args in logic.items():
            if op == "missing":
                keys = args if isinstance(args, list) else [args]
                if keys and isinstance(keys[0], list):
                    keys = keys[0]
                yield from (a for a in keys if isinstance(a, str))
            else:
                yield from _var_names(args)
    elif isinstance(logic, list):
        for item in logic:
            yield from _var_names(item)


def _record_vars(logic: Any) -> Iterator[str]:
    """The variables of a rule that read the record (fields and counts, not ``$user``...)."""
    return (n for n in _var_names(logic)
            if not n.startswith("$") or n.startswith(f"{COUNT_VAR}."))
