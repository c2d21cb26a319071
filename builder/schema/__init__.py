"""The app-definition format: schemas, linker, field types and diff.

``validate_definition(data)`` checks a definition (shape and references, every problem at
once); ``diff(old, new)`` lists what changed between two versions, by key.
"""

from builder.schema.diff import Change, diff, summarize
from builder.schema.linker import link
from builder.schema.validate import check_definition, validate_definition

__all__ = ["Change", "check_definition", "diff", "link", "summarize", "validate_definition"]
