"""Documents: spreadsheets in (import) and out (export), and records printed to PDF."""
