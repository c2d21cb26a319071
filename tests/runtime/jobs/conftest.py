"""Fixtures of the job tests: the test timer handlers, registered for one test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.runtime.jobs.handlers import registered


@pytest.fixture
def handlers(app) -> Iterator[None]:
    with registered():
        yield
