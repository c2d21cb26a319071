"""Every module that declares tables on ``db.metadata``, imported for Alembic and tests.

Add one import line here for each new models module.
"""

from __future__ import annotations

import builder.designer.models
import builder.market.models
import builder.platform.models
import builder.runtime.automation.assignment_models
import builder.runtime.automation.models
import builder.runtime.documents.models
import builder.runtime.intake.models
import builder.runtime.jobs.models
import builder.runtime.notify.models
import builder.runtime.reports.models
import builder.runtime.storage.models
import builder.runtime.workflow.approvals_models
import builder.runtime.workflow.stage_models  # noqa: F401
