"""Names of the related-record values a rule may read: ``$rel.<relation>.<field>``.

``{"var": "$rel.customer.tier"}`` reads the field ``tier`` of the record that the relation
field ``customer`` of the record points at (``null`` while it points nowhere). A quote line
reads its product's list price as ``$rel.product.list_price``; a contract clause row refuses
a forbidden clause with ``{"!=": [{"var": "$rel.clause.kind"}, "forbidden"]}``. The target's
system fields (``id``, ``owner``, ``created_at``...) may be read too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from builder.schema.common import SYSTEM_VARS

REL_VAR = "$rel"


def relation_targets(fields: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """``{relation field key: target entity key}`` of an entity's relation fields."""
    return {key: str(field["entity"]) for key, field in fields.items()
            if field.get("type") == "relation" and isinstance(field.get("entity"), str)}


def related_names(app: Mapping[str, Any], fields: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Every ``$rel.…`` name a rule of an entity with ``fields`` may read."""
    targets: dict[str, list[str]] = {}
    entities = app.get("entities")
    for entity in entities if isinstance(entities, list) else []:
        if isinstance(entity, Mapping) and isinstance(entity.get("key"), str):
            keys = [f.get("key") for f in entity.get("fields") or []
                    if isinstance(f, Mapping) and isinstance(f.get("key"), str)]
            targets[entity["key"]] = [str(k) for k in keys]
    names: set[str] = set()
    for key, target in relation_targets(fields).items():
        for name in [*targets.get(target, []), *SYSTEM_VARS]:
            names.add(f"{REL_VAR}.{key}.{name}")
    return names
