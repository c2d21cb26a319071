"""The figures an alert judges: one metric per subject in one period.

For each subject (a value of the alert's ``subject`` field, or a team with ``$team``) in
a period: ``value``; ``target`` and ``achievement`` (value / target) when the alert names
targets; ``previous`` and ``change`` against the period before; ``average`` over every
subject of the period and ``team_average`` over the subjects sharing a team with it
(``vs_average``, ``vs_team_average`` are the value's share of them). Every number is one
``GROUP BY`` in the database (``MetricQuery``); nothing is computed row by row.

The subjects of a period are those with a value or a target in it. Where a subject has
no value, a count or a sum is 0 (there was nothing to count); other aggregates are null.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.platform.models import Team
from builder.runtime.insight.metrics import Group, InsightContext, MetricQuery
from builder.runtime.insight.periods import Window
from builder.runtime.insight.widgets import labels
from builder.runtime.insight.widgets.targets import TargetSource, _team_members
from builder.schema.reports import TEAM_SUBJECT

ADDITIVE = ("count", "distinct_count", "sum")
#: the names an alert's condition, values and messages may read
FIGURE_NAMES = ("subject", "subject_name", "value", "target", "achievement",
                "achievement_pct", "previous", "change", "average", "team_average",
                "vs_average", "vs_team_average", "period_start", "period_end")
#: what actions read besides one period's figures
ACTION_NAMES = ("periods", "alert", "alert_title")

Figures = dict[str, Any]


def _share(part: Any, whole: Any) -> float | None:
    if part is None or not whole:
        return None
    return round(part / whole, 4)


def _change(value: Any, previous: Any) -> float | None:
    if value is None or not previous:
        return None
    return round((value - previous) / abs(previous), 4)


def _mean(values: list[Any]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 4) if present else None


class SubjectFigures:
    """Figures of one alert's metric per subject, period by period."""

    def __init__(self, ctx: InsightContext, alert: Mapping[str, Any]) -> None:
        self.ctx = ctx
        self.alert = alert
        self.query = MetricQuery(ctx, str(alert["metric"]))
        self.period = str(alert.get("period") or self.query.period)
        self.subject = str(alert.get("subject") or "owner")
        self.teams = self.subject == TEAM_SUBJECT
        self.target = TargetSource(ctx, alert["target"]) if alert.get("target") else None
        self._members: dict[str, set[int]] | None = None

    @property
    def members(self) -> dict[str, set[int]]:
        """Team key → its members and manager."""
        if self._members is None:
            self._members = _team_members(self.query.store.tenant_id)
        return self._members

    def windows(self, count: int, current: bool) -> list[Window]:
        """The ``count`` periods judged, oldest first, ending with the current period or
        the last complete one."""
        last = Window.of(self.ctx.today, self.period, self.ctx.zone)
        if not current:
            last = last.previous(self.period)
        found = [last]
        while len(found) < count:
            found.insert(0, found[0].previous(self.period))
        return found

    def values(self, window: Window) -> dict[Any, Any]:
        """Subject → the metric in ``window``."""
        if not self.teams:
            found = self.query.values(window, Group(field=self.subject))
            return {k: v for k, v in found.items() if k is not None}
        by_owner = self.query.values(window, Group(field="owner"))
        return {team: sum(v or 0 for owner, v in by_owner.items() if owner in ids)
                for team, ids in self.members.items()
                if any(owner in ids for owner in by_owner)}

    def figures(self, window: Window, subjects: set[Any] | None = None
                ) -> dict[Any, Figures]:
        """Subject → figures in ``window``; ``subjects`` adds subjects without data."""
        values = self.values(window)
        previous = self.values(window.previous(self.period))
        targets = {k: v for k, v in (self.target.sums(window) if self.target else {}).items()
                   if k is not None}
        population = set(values) | set(targets)
        default = 0 if self.query.aggregate in ADDITIVE else None
        value_of = {s: values.get(s, default) for s in population | (subjects or set())}
        average = _mean([value_of[s] for s in population])
        peers = self._peers(set(value_of))
        names = self._names(list(value_of))
        result: dict[Any, Figures] = {}
        for subject, value in value_of.items():
            target = targets.get(subject)
            achievement = _share(value, target)
            team_average = _mean([value_of[p] for p in peers.get(subject, set())
                                  if p in population])
            before = previous.get(subject, default)
            result[subject] = {
                "subject": subject, "subject_name": names.get(subject, str(subject)),
                "value": value, "target": target, "achievement": achievement,
                "achievement_pct": None if achievement is None else round(achievement * 100, 1),
                "previous": before, "change": _change(value, before),
                "average": average, "team_average": team_average,
                "vs_average": _share(value, average),
                "vs_team_average": _share(value, team_average),
                "period_start": window.start.isoformat(),
                "period_end": (window.end - timedelta(days=1)).isoformat()}
        return result

    def _peers(self, subjects: set[Any]) -> dict[Any, set[Any]]:
        """Subject → the subjects it is averaged with for ``team_average``: those in a
        team with it (teams: every team; other dimensions: none)."""
        if self.teams:
            return {s: subjects for s in subjects}
        if not self._is_person():
            return {}
        result: dict[Any, set[Any]] = {}
        for ids in self.members.values():
            for subject in subjects & ids:
                result.setdefault(subject, set()).update(subjects & ids)
        return result

    def _is_person(self) -> bool:
        if self.subject in ("owner", "created_by", "updated_by"):
            return True
        return self.query.store.fields.get(self.subject, {}).get("type") == "user"

    def _names(self, subjects: list[Any]) -> dict[Any, str]:
        if self.teams:
            return {row.key: row.name for row in db.session.execute(
                sa.select(Team.key, Team.name).where(
                    Team.tenant_id == self.query.store.tenant_id))}
        return labels(self.query.store, self.ctx.stores, self.subject, subjects)

    def is_person(self) -> bool:
        """Whether subjects are people (or teams, reached through their managers)."""
        return self.teams or self._is_person()
