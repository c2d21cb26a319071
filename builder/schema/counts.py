"""Names of the child counts a rule may read: ``$count.<field>`` and ``$count.<entity>.<field>``.

- ``$count.<field>``: the number of files of an attachment or image field, or of rows of a
  sub-table field, of the record itself.
- ``$count.<entity>.<field>``: the number of live records of ``entity`` whose relation
  field ``field`` points at the record (the decision-chain members of an opportunity:
  ``$count.decision_member.opportunity``).

A field of the record wins over an entity of the same key: ``$count.<key>`` is then the
field's count and ``$count.<key>.<field>`` names nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

COUNT_VAR = "$count"
#: field types whose value is a list of things to count
COUNTED_TYPES = ("attachment", "image", "subtable")


def counted_fields(fields: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Keys of the fields whose own items are counted."""
    return [key for key, field in fields.items() if field.get("type") in COUNTED_TYPES]


def inbound_relations(app: Mapping[str, Any], entity_key: str
                      ) -> Iterator[tuple[str, str]]:
    """``(entity, field)`` of each relation field of the app that points at ``entity_key``."""
    entities = app.get("entities")
    for entity in entities if isinstance(entities, list) else []:
        if not isinstance(entity, Mapping) or not isinstance(entity.get("key"), str):
            continue
        fields = entity.get("fields")
        for field in fields if isinstance(fields, list) else []:
            if (isinstance(field, Mapping) and field.get("type") == "relation"
                    and field.get("entity") == entity_key and isinstance(field.get("key"), str)):
                yield entity["key"], field["key"]


def count_names(app: Mapping[str, Any], entity_key: str,
                fields: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Every ``$count.…`` name a rule of ``entity_key`` may read."""
    own = counted_fields(fields)
    names = {f"{COUNT_VAR}.{key}" for key in own}
    names.update(f"{COUNT_VAR}.{entity}.{field}" for entity, field in
                 inbound_relations(app, entity_key) if entity not in own)
    return names
