"""Reading a package's tables directly, to check its figures against SQL and Python
written in the tests rather than the platform's metric engine."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from builder.extensions import db
from builder.runtime.storage.tables import entity_store


class Tables:
    """``SELECT`` over an app's physical tables, naming columns by field key."""

    def __init__(self, tenant_id: int, app: str) -> None:
        self.tenant_id = tenant_id
        self.app = app
        self.dialect = db.session.get_bind().dialect.name

    def sql(self, entity: str, select: str, where: str = "1 = 1", **params: Any) -> list[Any]:
        store = entity_store(self.tenant_id, self.app, entity)
        table = store.table
        name = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
        for key, column in store.columns.items():
            select = select.replace(f"[{key}]", f'"{column.name}"')
            where = where.replace(f"[{key}]", f'"{column.name}"')
        text = sa.text(f"SELECT {select} FROM {name} WHERE deleted = :no AND {where}")
        binds = [sa.bindparam(k, type_=sa.DateTime(timezone=True)) for k, v in params.items()
                 if isinstance(v, datetime)]
        binds += [sa.bindparam(k, type_=sa.Date()) for k, v in params.items()
                  if isinstance(v, date) and not isinstance(v, datetime)]
        return list(db.session.execute(text.bindparams(*binds), {"no": False, **params}))

    def rows(self, entity: str, *keys: str) -> list[dict[str, Any]]:
        """Every live row of ``entity``: ``id``, ``parent_id`` and the fields (or system
        columns such as ``owner``) ``keys``, typed by the table's columns."""
        store = entity_store(self.tenant_id, self.app, entity)
        table = store.table
        columns = [table.c.id, table.c.parent_id,
                   *((store.columns[k] if k in store.columns else table.c[k]).label(k)
                     for k in keys)]
        query = sa.select(*columns).where(table.c.deleted.is_(False))
        return [dict(row._mapping) for row in db.session.execute(query)]

    def weekday_hour(self, column: str) -> str:
        """ISO weekday and hour of a UTC timestamp in Shanghai, in this database's SQL."""
        if self.dialect == "postgresql":
            local = f"({column} AT TIME ZONE 'Asia/Shanghai')"
            return f"CAST(EXTRACT(ISODOW FROM {local}) AS INTEGER), " \
                   f"CAST(EXTRACT(HOUR FROM {local}) AS INTEGER)"
        local = f"datetime({column}, '+8 hours')"
        return f"(CAST(strftime('%w', {local}) AS INTEGER) + 6) % 7 + 1, " \
               f"CAST(strftime('%H', {local}) AS INTEGER)"
