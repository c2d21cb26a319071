"""Linker pass over print templates: the entity exists and the template parses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from builder.schema.linker import items

if TYPE_CHECKING:
    from builder.schema.linker import Linker


def link_documents(linker: Linker) -> None:
    linker.unique_keys(linker.app, "print_templates", "")
    environment = SandboxedEnvironment(autoescape=True)
    for path, template in items(linker.app, "print_templates", ""):
        info = linker.entity(template.get("entity"), f"{path}.entity")
        linker.logic(template.get("when"), f"{path}.when", info)
        source = template.get("template")
        if not isinstance(source, str):
            continue
        try:
            environment.parse(source)
        except TemplateSyntaxError as exc:
            linker.add(f"{path}.template", "template_syntax", line=exc.lineno,
                       reason=exc.message or "")
