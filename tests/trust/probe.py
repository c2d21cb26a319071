"""Calling every route of the app with values of another tenant.

``routes(app)`` enumerates the URL map, so a route added later is probed without editing
any proof. A path parameter is filled from what the victim owns, chosen by the literal
segment before it (``/jobs/<run_id>`` takes a job run, ``/dashboards/<key>`` a
dashboard) or by its name; a parameter nobody knows gets the victim's largest id (ints)
or a key of theirs. ``nowhere`` fills the same route with values that exist in no tenant.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask

#: parameters that are themselves the credential (a public form's or a webhook's token):
#: whoever holds one may use it, so they are probed with unknown values only
CAPABILITIES = frozenset({"token"})
#: parameters naming what every tenant shares (market packages, pages of the web app)
SHARED = frozenset({"package", "page", "name"})
#: integers numbered within an app (its versions), so every tenant's app has the same ones
APP_NUMBERS = frozenset({"number"})
NOWHERE_ID = 987_654_321
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_PARAM = re.compile(r"<(?:(?P<converter>[a-z]+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    rule: str
    methods: tuple[str, ...]
    params: tuple[tuple[str, str, str], ...]  # (segment before, name, converter)

    def fill(self, values: Mapping[str, Any]) -> str:
        return _PARAM.sub(lambda m: str(values[m.group("name")]), self.rule)


def routes(app: Flask) -> list[Route]:
    """Every rule of the URL map with the methods it answers (HEAD and OPTIONS aside)."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        params = []
        segments = rule.rule.strip("/").split("/")
        for index, segment in enumerate(segments):
            match = _PARAM.fullmatch(segment)
            if match:
                before = segments[index - 1] if index else ""
                params.append((before, match.group("name"), match.group("converter") or ""))
        methods = tuple(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}))
        found.append(Route(rule.rule, methods, tuple(params)))
    return found


class Victim:
    """What the other tenant owns, by the segment that names it in a URL (``jobs``,
    ``users``...) or by parameter name (``app_key``, ``entity_key``, ``record_id``)."""

    def __init__(self) -> None:
        self.by_segment: dict[str, Any] = {}
        self.by_name: dict[str, Any] = {}
        self.ids: set[int] = set()
        self.fallback_key = "beta_only"

    def remember(self, segment: str, value: Any) -> None:
        self.by_segment.setdefault(segment, value)
        if isinstance(value, int):
            self.ids.add(value)

    def value(self, before: str, name: str, converter: str) -> Any:
        if name in CAPABILITIES:
            return nowhere(name, converter)
        for candidate in (self.by_segment.get(before), self.by_name.get(name)):
            if candidate is not None and isinstance(candidate, int) == (converter == "int"):
                return candidate
        if converter == "int":
            return max(self.ids) if self.ids else 1
        return self.fallback_key


def nowhere(name: str, converter: str) -> Any:
    return NOWHERE_ID if converter == "int" else f"zz_nowhere_{name}"


def fills(route: Route, victim: Victim, fixed: Mapping[str, Any], same_keys: bool = False
          ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The route's parameters filled with the victim's values, and with values of nowhere.
    ``fixed`` parameters (shared ones: market packages) take one value in both; with
    ``same_keys`` every non-integer parameter does too (A's own app, B's ids)."""
    theirs, none = {}, {}
    for before, name, converter in route.params:
        if name in fixed and (name in SHARED or same_keys):
            theirs[name] = none[name] = fixed[name]
        elif same_keys and (converter != "int" or name in APP_NUMBERS):
            theirs[name] = none[name] = victim.value(before, name, converter)
        else:
            theirs[name] = victim.value(before, name, converter)
            none[name] = nowhere(name, converter)
    return theirs, none


def harvest(payload: Any) -> Iterator[int]:
    """The ids of a list answer (``{"items": [...]}`` or a list), first first."""
    items = payload.get("items") if isinstance(payload, Mapping) else payload
    for item in items if isinstance(items, list) else ():
        if isinstance(item, Mapping) and isinstance(item.get("id"), (int, str)):
            yield item["id"]


def shape(value: Any) -> Any:
    """The structure of a JSON answer: keys and kinds, not values."""
    if isinstance(value, Mapping):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def text_of(response: Any) -> str:
    """What a person reads in an answer: JSON and HTML as text, the members of a zip
    (workbooks, packages), a PDF's text (through ``pdftotext`` when installed)."""
    data = response.get_data()
    if data.startswith(b"%PDF") and shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                              check=True).stdout.decode()
    if data.startswith(b"PK"):  # workbooks and packages: every member's text
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace")
                             for name in archive.namelist())
    return data.decode("utf-8", "replace")
