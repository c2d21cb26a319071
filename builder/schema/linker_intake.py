"""Linking of the intake parts: public forms and inbound webhooks name real entities,
forms and fields, and a public form can produce a valid record on its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.schema.field_types import field_type_registry
from builder.schema.linker import EntityInfo, Linker, items

#: types a visitor without a login cannot fill in: they point at tenant data or need uploads
PRIVATE_TYPES = ("user", "relation", "subtable", "attachment", "image")


def is_computed(info: EntityInfo, key: str) -> bool:
    type_name = info.type_of(key)
    return type_name in field_type_registry and field_type_registry.get(str(type_name)).computed


def form_fields(entity: Mapping[str, Any], form_key: Any) -> list[str] | None:
    """The field keys of an entity's form, in order (``None`` if there is no such form)."""
    for form in entity.get("forms") or []:
        if isinstance(form, Mapping) and form.get("key") == form_key:
            keys: list[str] = []
            for section in form.get("sections") or []:
                for key in section.get("fields") or [] if isinstance(section, Mapping) else []:
                    if isinstance(key, str) and key not in keys:
                        keys.append(key)
            return keys
    return None


def _defaults(linker: Linker, info: EntityInfo | None, defaults: Any, path: str) -> set[str]:
    if info is None or not isinstance(defaults, Mapping):
        return set()
    for key in defaults:
        linker.field(info, key, f"{path}.defaults.{key}", system=False)
        if key in info.fields and is_computed(info, key):
            linker.add(f"{path}.defaults.{key}", "intake_computed_field", field=key)
    return {k for k in defaults if isinstance(k, str)}


def link_public_forms(linker: Linker) -> None:
    linker.unique_keys(linker.app, "public_forms", "")
    for path, entry in items(linker.app, "public_forms", ""):
        info = linker.entity(entry.get("entity"), f"{path}.entity")
        defaulted = _defaults(linker, info, entry.get("defaults"), path)
        if info is None or not isinstance(entry.get("form"), str):
            continue
        keys = form_fields(info.data, entry["form"])
        if keys is None:
            linker.add(f"{path}.form", "intake_unknown_form", form=entry["form"],
                       entity=info.key)
            continue
        for key in keys:
            if info.type_of(key) in PRIVATE_TYPES:
                linker.add(f"{path}.form", "intake_private_field", field=key,
                           type=info.type_of(key))
        for key, field in info.fields.items():
            if (field.get("required") is True and key not in keys and key not in defaulted
                    and field.get("default") is None and not is_computed(info, key)):
                linker.add(f"{path}.form", "intake_required_missing", field=key)


def link_inbound_webhooks(linker: Linker) -> None:
    linker.unique_keys(linker.app, "inbound_webhooks", "")
    for path, entry in items(linker.app, "inbound_webhooks", ""):
        info = linker.entity(entry.get("entity"), f"{path}.entity")
        _defaults(linker, info, entry.get("defaults"), path)
        mapping = entry.get("mapping")
        if info is None or not isinstance(mapping, Mapping):
            continue
        for key in mapping:
            linker.field(info, key, f"{path}.mapping.{key}", system=False)
            if key in info.fields and is_computed(info, key):
                linker.add(f"{path}.mapping.{key}", "intake_computed_field", field=key)


def link_intake(linker: Linker) -> None:
    link_public_forms(linker)
    link_inbound_webhooks(linker)
