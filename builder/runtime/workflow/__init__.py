"""Workflow engines: stage flows and approval chains, interpreted from the app definition."""
