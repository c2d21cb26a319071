"""Every module that declares tables on ``db.metadata``, imported for Alembic and tests.

Add one import line here for each new models module.
"""

from __future__ import annotations

import builder.designer.models
import builder.platform.models
import builder.runtime.automation.assignment_models
import builder.runtime.storage.models  # noqa: F401
