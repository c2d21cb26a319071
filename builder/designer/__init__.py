"""The designer: drafts, publish plans, versions and rollback of app definitions."""
