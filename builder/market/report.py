"""What an install, upgrade, uninstall, import or clone did (or, in a dry run, would do),
and its progress while it runs.

The report is plain JSON: per app what happened (created, upgraded, restored...), the
definition changes in words, the storage steps, the merge conflicts; the roles and teams
created; how many records were written per entity; the users that could not be mapped.
A dry run runs the very same code and rolls the transaction back, so its report is the
plan the real run then follows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from builder.i18n import gettext

#: ``(done, total, message)``: the command line prints it, a job run records it
ProgressCallback = Callable[[int, int, str], None]


@dataclass
class Report:
    """What one operation did; ``as_dict`` is the JSON the API and ``--json`` show."""

    operation: str
    package: str
    version: str | None = None
    action: str = "none"
    apps: list[dict[str, Any]] = field(default_factory=list)
    roles: dict[str, list[str]] = field(default_factory=dict)
    teams: dict[str, list[str]] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    unmapped_users: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    progress: ProgressCallback | None = field(default=None, repr=False)
    steps_total: int = 0
    steps_done: int = 0
    #: the progress messages, in order
    log: list[str] = field(default_factory=list)

    def plan_steps(self, total: int) -> None:
        self.steps_total = max(total, 1)

    def step(self, key: str, **params: Any) -> None:
        """One unit of work done; tells the progress callback."""
        self.steps_done += 1
        message = gettext(key, **params)
        self.log.append(message)
        if self.progress is not None:
            self.progress(min(self.steps_done, self.steps_total),
                          max(self.steps_total, self.steps_done), message)

    def note(self, key: str, **params: Any) -> None:
        self.notes.append(gettext(key, **params))

    def count(self, app: str, counts: dict[str, int]) -> None:
        for entity, number in counts.items():
            name = f"{app}.{entity}"
            self.records[name] = self.records.get(name, 0) + number

    def as_dict(self, dry_run: bool = False) -> dict[str, Any]:
        return {"operation": self.operation, "package": self.package,
                "version": self.version, "action": self.action, "dry_run": dry_run,
                "apps": self.apps, "roles": self.roles, "teams": self.teams,
                "records": self.records, "unmapped_users": self.unmapped_users,
                "conflicts": self.conflicts, "notes": self.notes, "steps": self.log,
                **self.extra}
