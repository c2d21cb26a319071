"""A notification as one recipient reads it: subject and body in their language, and a link.

Subjects and bodies are plain strings or language maps (``{"zh-CN": ..., "en": ...}``);
``render`` picks the recipient's language (falling back to zh-CN, then English).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from builder.i18n import gettext, localized, normalize
from builder.runtime.notify import settings

Text = str | Mapping[str, str]


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    language: str
    link: Mapping[str, Any] | None = None

    @property
    def url(self) -> str | None:
        return str(self.link["url"]) if self.link and self.link.get("url") else None

    @property
    def link_label(self) -> str:
        return gettext("notify.link.open", self.language)

    def plain_text(self) -> str:
        """Subject, body and link as lines of plain text."""
        lines = [self.subject, self.body] if self.body else [self.subject]
        if self.url:
            lines.append(f"{self.link_label}: {self.url}")
        return "\n".join(line for line in lines if line)


def record_link(link: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The stored form of a ``{"app", "entity", "record_id"}`` link, with its URL."""
    if not link:
        return None
    app, entity, record_id = link.get("app"), link.get("entity"), link.get("record_id")
    result: dict[str, Any] = {"app": app, "entity": entity, "record_id": record_id}
    if app and entity and record_id is not None:
        path = "/".join(quote(str(part), safe="") for part in (app, entity))
        result["url"] = f"{settings.public_base_url()}/apps/{path}/records/{record_id}"
    return result


def render(subject: Text, body: Text, language: str | None,
           link: Mapping[str, Any] | None) -> Message:
    lang = normalize(language)
    return Message(localized(subject, lang), localized(body, lang) if body else "", lang, link)
