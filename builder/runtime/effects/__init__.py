"""Effects of records on other records, in the same transaction.

Two parts of the app definition are applied here, both as record listeners:

- ``effects[]`` (``builder.runtime.effects.engine``): creating, changing, deleting or
  restoring a record of one entity (or a sub-table row of it: a sales line) adds a delta
  to a number field of a matching record of another entity (the stock of that SKU in
  that store), atomically and within a bound (stock never below zero unless back orders
  are allowed). A refused adjustment refuses the whole write with a 422 naming the
  source field.
- ``thresholds[]`` (``builder.runtime.effects.thresholds``): a number field crossing a
  limit (stock falling below its safety level) sets a flag, creates an alert record once
  per crossing and emits ``threshold_crossed``; climbing back clears the flag and emits
  ``threshold_recovered``.

Writes go through ``RecordService`` inside ``events.acting("effects")`` /
``events.acting("thresholds")``: audited, validated, seen by every other engine.
"""

from __future__ import annotations

from flask import Flask

from builder.runtime.effects import engine, thresholds


def init_app(app: Flask) -> None:
    """Register the effects and thresholds listeners with the records service."""
    engine.register()
    thresholds.register()
