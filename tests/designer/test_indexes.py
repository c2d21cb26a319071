"""Publishing creates the indexes a definition implies, and they follow field changes."""

from __future__ import annotations

import sqlalchemy as sa

from builder.extensions import db
from builder.runtime.storage.tables import entity_store
from tests.definitions import full_app
from tests.designer.helpers import import_and_publish


def _indexed_columns(tenant_id: int, entity: str) -> dict[str, bool]:
    store = entity_store(tenant_id, "crm", entity)
    inspector = sa.inspect(db.session.connection())
    found = {}
    for index in inspector.get_indexes(store.table.name, schema=store.table.schema):
        for column in index["column_names"]:
            found[column] = bool(index["unique"])
    by_column = {column.name: key for key, column in store.columns.items()}
    result = {by_column[c]: unique for c, unique in found.items() if c in by_column}
    db.session.rollback()
    return result


def test_relation_select_user_date_stage_and_unique_fields_are_indexed(
        client, admin, admin_headers):
    definition = full_app()
    import_and_publish(client, admin_headers, definition)
    for entity in definition["entities"]:
        indexed = _indexed_columns(admin.tenant_id, entity["key"])
        for field in entity["fields"]:
            kind = field["type"]
            wanted = kind in ("relation", "select", "user", "date", "datetime", "autonumber") \
                or field.get("unique") or field.get("index")
            if kind in ("subtable",):
                continue
            assert (field["key"] in indexed) == bool(wanted), (entity["key"], field["key"])
            if kind == "autonumber" or field.get("unique"):
                assert indexed[field["key"]] is True, (entity["key"], field["key"])
    stage_flow = definition["stage_flows"][0]
    assert stage_flow["field"] in _indexed_columns(admin.tenant_id, stage_flow["entity"])
