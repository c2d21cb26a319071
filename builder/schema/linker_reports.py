"""Linking of alerts and scheduled reports: metrics, entities, fields, dashboards and
widgets they name exist; conditions read only the figures an alert has; actions and
sections are of known types with what their type needs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from builder.registry import Registry
from builder.schema.linker import DATE_KINDS, EntityInfo, items
from builder.schema.logic import check_logic
from builder.schema.reports import TEAM_SUBJECT

if TYPE_CHECKING:
    from builder.schema.linker import Linker

PERSON_FIELDS = ("owner", "created_by", "updated_by")


def metric_entity(linker: Linker, key: Any, seen: frozenset[str] = frozenset()
                  ) -> EntityInfo | None:
    """The entity a metric counts (a ratio's: its numerator's)."""
    metric = linker.metrics.get(key) if isinstance(key, str) else None
    if metric is None or key in seen:
        return None
    if metric.get("aggregate") == "ratio":
        return metric_entity(linker, metric.get("numerator"), seen | {str(key)})
    entity = metric.get("entity")
    return linker.entities.get(entity) if isinstance(entity, str) else None


def _subject(linker: Linker, alert: Mapping[str, Any], path: str,
             info: EntityInfo | None) -> bool:
    """Check the subject; returns whether subjects are people (or teams)."""
    subject = alert.get("subject", "owner")
    if subject == TEAM_SUBJECT:
        return True
    if not isinstance(subject, str) or info is None:
        return False
    linker.field(info, subject, f"{path}.subject")
    if info.has(subject) and info.kind_of(subject) in ("list", "json"):
        linker.add(f"{path}.subject", "alert_subject", field=subject)
    return subject in PERSON_FIELDS or info.type_of(subject) == "user"


def _target(linker: Linker, target: Any, path: str) -> None:
    if not isinstance(target, Mapping):
        return
    info = linker.entity(target.get("entity"), f"{path}.entity")
    linker.field(info, target.get("field"), f"{path}.field", kinds=("number",))
    linker.field(info, target.get("date_field"), f"{path}.date_field", kinds=DATE_KINDS)
    linker.field(info, target.get("dimension", "owner"), f"{path}.dimension")


def typed(linker: Linker, container: Mapping[str, Any], name: str, path: str,
          registry: Registry[Any], unknown: str) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """``(path, item, type)`` of each item of ``container[name]`` (a list that may not
    be empty) whose ``type`` the registry knows; unknown types are reported."""
    if isinstance(container.get(name), list) and not container[name]:
        linker.add(f"{path}.{name}", "required")
    for item_path, item in items(container, name, path):
        kind = item.get("type")
        if not isinstance(kind, str):
            continue
        if kind not in registry:
            linker.add(f"{item_path}.type", unknown, type=kind,
                       choices=", ".join(registry.types()))
            continue
        yield item_path, item, registry.get(kind)


def link_alerts(linker: Linker) -> None:
    from builder.runtime.reports.actions import AlertLint, alert_action_registry
    from builder.runtime.reports.figures import ACTION_NAMES, FIGURE_NAMES

    linker.unique_keys(linker.app, "alerts", "")
    for path, alert in items(linker.app, "alerts", ""):
        metric = alert.get("metric")
        if isinstance(metric, str) and metric not in linker.metrics:
            linker.add(f"{path}.metric", "unknown_metric", metric=metric)
        info = metric_entity(linker, metric)
        person = _subject(linker, alert, path, info)
        _target(linker, alert.get("target"), f"{path}.target")
        if alert.get("condition") is not None:
            linker.problems.extend(check_logic(alert["condition"], f"{path}.condition",
                                               set(FIGURE_NAMES)))
        lint = AlertLint(person, (*FIGURE_NAMES, *ACTION_NAMES))
        for action_path, action, kind in typed(linker, alert, "actions", path,
                                               alert_action_registry, "unknown_alert_action"):
            kind.lint(linker, action, action_path, lint)
            _webhook(linker, action.get("webhook"), f"{action_path}.webhook")


def _webhook(linker: Linker, webhook: Any, path: str) -> None:
    if not isinstance(webhook, Mapping) or not isinstance(webhook.get("url"), str):
        return
    parts = urlsplit(webhook["url"])
    if parts.scheme not in ("http", "https") or not parts.netloc:
        linker.add(f"{path}.url", "report_url")


def link_reports(linker: Linker) -> None:
    from builder.runtime.reports.actions import known_role
    from builder.runtime.reports.sections import report_section_registry

    link_alerts(linker)
    linker.unique_keys(linker.app, "reports", "")
    for path, report in items(linker.app, "reports", ""):
        for recipient_path, recipient in items(report, "recipients", path):
            known_role(linker, recipient.get("role"), f"{recipient_path}.role")
        for robot_path, robot in items(report, "robots", path):
            _webhook(linker, robot, robot_path)
        linker.unique_keys(report, "sections", path)
        for section_path, section, kind in typed(linker, report, "sections", path,
                                                 report_section_registry,
                                                 "unknown_section_type"):
            kind.lint(linker, section, section_path)
        breaker = report.get("circuit_breaker")
        keys = breaker.get("metrics") if isinstance(breaker, Mapping) else None
        for index, key in enumerate(keys if isinstance(keys, list) else []):
            if isinstance(key, str) and key not in linker.metrics:
                linker.add(f"{path}.circuit_breaker.metrics[{index}]", "unknown_metric",
                           metric=key)
