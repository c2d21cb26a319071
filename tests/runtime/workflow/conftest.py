"""Fixtures of the workflow tests: the organisation with the default low-price chain, and
the process events the engines emit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from builder.runtime.records import events
from tests.runtime.workflow.approvals_helpers import Org, build_org


@pytest.fixture
def org(client: Any, admin: Any, admin_headers: Any, auth_headers: Any) -> Org:
    return build_org(client, admin, admin_headers, auth_headers)


@pytest.fixture
def process_events() -> Iterator[list[events.ProcessEvent]]:
    seen: list[events.ProcessEvent] = []
    for name in ("approval_submitted", "approval_decided", "approval_withdrawn"):
        events.record_hooks.on(name, "test.approvals")(seen.append)
    yield seen
    events.record_hooks.remove("test.approvals")
