"""User-facing strings: one catalogue per language (``i18n/<lang>/*.json``), zh-CN by default.

``gettext("record.not_found", entity="lead")`` looks the key up in the active language's
catalogue and formats it with ``str.format``. The active language comes from the request
(``?lang=``, then ``Accept-Language``) or from ``use_language`` outside requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
_override: ContextVar[str | None] = ContextVar("language_override", default=None)


@cache
def catalogue(language: str) -> dict[str, str]:
    """All ``i18n/<language>/*.json`` files merged; one file per domain of the product."""
    merged: dict[str, str] = {}
    for path in sorted((Path(__file__).parent / language).glob("*.json")):
        data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        duplicated = merged.keys() & data.keys()
        if duplicated:
            raise ValueError(f"{path}: keys defined twice: {sorted(duplicated)}")
        merged.update(data)
    return merged


def normalize(language: str | None) -> str:
    if not language:
        return DEFAULT_LANGUAGE
    lowered = language.strip().lower()
    if lowered.startswith("en"):
        return "en"
    if lowered.startswith("zh"):
        return "zh-CN"
    return DEFAULT_LANGUAGE


def current_language() -> str:
    forced = _override.get()
    if forced:
        return forced
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover
        return DEFAULT_LANGUAGE
    if not has_request_context():
        return DEFAULT_LANGUAGE
    explicit = request.args.get("lang") or request.headers.get("X-Language")
    if explicit:
        return normalize(explicit)
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    return normalize(best)


@contextmanager
def use_language(language: str) -> Iterator[None]:
    token = _override.set(normalize(language))
    try:
        yield
    finally:
        _override.reset(token)


def gettext(key: str, language: str | None = None, **params: Any) -> str:
    """Translate ``key``; an unknown key falls back to English, then to the key itself."""
    lang = normalize(language) if language else current_language()
    text = catalogue(lang).get(key) or catalogue("en").get(key) or key
    try:
        return text.format(**params) if params else text
    except (KeyError, IndexError, ValueError):
        return text


def localized(title: Any, language: str | None = None) -> str:
    """Pick the right language from a ``{"zh-CN": ..., "en": ...}`` title."""
    if isinstance(title, str):
        return title
    if not isinstance(title, dict) or not title:
        return ""
    lang = normalize(language) if language else current_language()
    value = title.get(lang) or title.get(DEFAULT_LANGUAGE) or title.get("en")
    if value is None:
        value = next(iter(title.values()))
    return str(value)


_ = gettext
