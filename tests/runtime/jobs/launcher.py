"""``builder`` with the test handlers registered, for tests that start real processes:
``python -m tests.runtime.jobs.launcher worker``."""

from __future__ import annotations

from builder.cli import main
from tests.runtime.jobs.handlers import register_all

if __name__ == "__main__":
    register_all()
    main()
