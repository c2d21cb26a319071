"""Records of published entities: create, read, update, delete, restore, history and lists.

``RecordService`` is the one way to change records; it validates input against the field
types and the entity's rules, computes formulas and autonumber codes, checks the version
for optimistic locking and appends every change to the tenant's audit trail.
"""

from builder.runtime.records.service import RecordService

__all__ = ["RecordService"]
