"""Names of the related-record values a rule may read: ``$rel.<relation>.<field>``, and
of the stage facts ``$flow.<flow>.<fact>``.

``{"var": "$rel.customer.tier"}`` reads the field ``tier`` of the record that the relation
field ``customer`` of the record points at (``null`` while it points nowhere). A quote line
reads its product's list price as ``$rel.product.list_price``; a contract clause row refuses
a forbidden clause with ``{"!=": [{"var": "$rel.clause.kind"}, "forbidden"]}``. The target's
system fields (``id``, ``owner``, ``created_at``...) may be read too.

``{"var": "$flow.funnel.probability"}`` is the win probability the stage flow ``funnel``
gives the record's current stage (``stage``, ``terminal`` and ``position``, from 1, too),
so a weighted amount follows the probabilities set in the flow.
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


FLOW_VAR = "$flow"
#: what ``$flow.<flow>.<name>`` tells about the record's current stage
FLOW_FACTS = ("stage", "probability", "terminal", "position")


def flow_names(app: Mapping[str, Any], entity_key: str) -> set[str]:
    """The ``$flow.…`` names a rule of ``entity_key`` may read: for each stage flow of the
    entity, the current stage's key, probability, terminal kind and position."""
    names: set[str] = set()
    for flow in app.get("stage_flows") or []:
        if isinstance(flow, Mapping) and flow.get("entity") == entity_key \
                and isinstance(flow.get("key"), str):
            names.update(f"{FLOW_VAR}.{flow['key']}.{fact}" for fact in FLOW_FACTS)
    return names
