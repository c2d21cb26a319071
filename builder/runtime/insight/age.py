"""Ages in metrics: a metric with ``"age": "hour"`` (or ``"day"``) aggregates the time
elapsed from each record's date or datetime ``field`` until now, computed by the database.

``{"key": "freshness", "entity": "opportunity", "aggregate": "median", "field":
"updated_at", "age": "hour"}`` is the median number of hours since the opportunities were
last changed: how fresh the data behind the dashboards is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from builder.extensions import db

AGE_UNITS = {"hour": 3600, "day": 86400}


def age_expression(column: Any, kind: str, unit: str, now: datetime) -> Any:
    """SQL giving ``now - column`` in ``unit``s (fractions kept)."""
    seconds = AGE_UNITS[unit]
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        moment = sa.cast(column, sa.DateTime(timezone=True)) if kind == "date" else column
        elapsed = sa.func.extract("epoch", sa.literal(now, sa.DateTime(timezone=True)) - moment)
        return sa.cast(elapsed, sa.Float) / seconds
    days = sa.func.julianday(sa.literal(now.strftime("%Y-%m-%d %H:%M:%S.%f"))) - \
        sa.func.julianday(column)
    # julianday keeps about a millisecond: round off the float noise it leaves
    return sa.func.round(days * (86400 / seconds), 6)
