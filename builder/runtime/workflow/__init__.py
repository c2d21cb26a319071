"""Workflow engines: stage flows (and approvals), driven by the app definition."""
