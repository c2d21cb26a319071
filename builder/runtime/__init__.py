"""The interpreter: turns app definitions into tables, records, queries and processes."""
