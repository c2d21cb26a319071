"""Storage: tenant namespaces, one physical table per entity, and the one schema editor."""
